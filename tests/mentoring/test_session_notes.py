"""A mentor's session notes are readable by their author alone (R-PAIR-8)."""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from mentoring import agreement
from mentoring.models import Pairing, SessionNote
from tests.mentoring.agreement_world import pairing_fixture  # noqa: F401
from tests.security.world import role_user

SECRET = "Private-note-marker-7781"


def write_note(pairing, mentor):
    return agreement.session_note_save(pairing=pairing, actor=mentor, date=timezone.localdate(), text=SECRET)


def test_the_mentor_writes_and_reads_their_own_notes(client, pairing, mentor):
    client.force_login(mentor)
    today = timezone.localdate().isoformat()
    response = client.post(reverse("session_notes", args=[pairing.pk]), {"date": today, "text": SECRET})
    assert response.status_code == 302
    assert SECRET in client.get(reverse("session_notes", args=[pairing.pk])).content.decode()


def test_the_mentee_partner_gets_no_such_page(client, pairing, mentor, mentee):
    # R-PAIR-8: not the partner.
    write_note(pairing, mentor)
    client.force_login(mentee)
    assert client.get(reverse("session_notes", args=[pairing.pk])).status_code == 404
    assert SECRET not in client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert SECRET not in client.get(reverse("goals_list", args=[pairing.pk])).content.decode()


def test_coordinators_staff_and_a_superuser_never_reach_the_notes(client, pairing, mentor, coordinator, scheme_staff):
    # R-PAIR-8: not coordinators, staff, nor the admin.
    write_note(pairing, mentor)
    superuser = type(mentor).objects.create_superuser(email="root@example.org", password="x")
    for person in (coordinator, scheme_staff, superuser):
        client.force_login(person)
        assert client.get(reverse("session_notes", args=[pairing.pk])).status_code == 404


def test_session_notes_are_not_in_the_admin_at_all(client, pairing, mentor):
    # R-PAIR-8: no admin page shows them, nor any changelist or the pairing's own admin page.
    write_note(pairing, mentor)
    assert SessionNote not in admin.site._registry
    superuser = role_user(None, first_name="Root", is_superuser=True)
    client.force_login(superuser)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    response = client.get(reverse("admin:mentoring_pairing_change", args=[pairing.pk]))
    assert response.status_code == 200 and SECRET not in response.content.decode()


def test_a_note_is_read_through_its_author_only(pairing, mentor, mentee):
    write_note(pairing, mentor)
    assert list(agreement.session_notes(pairing, mentee)) == []
    assert [n.text for n in agreement.session_notes(pairing, mentor)] == [SECRET]


def test_an_ended_pairings_notes_are_read_only(client, pairing, mentor):
    write_note(pairing, mentor)
    Pairing.objects.filter(pk=pairing.pk).update(status=Pairing.Status.ENDED, ended_at=timezone.now())
    client.force_login(mentor)
    html = client.get(reverse("session_notes", args=[pairing.pk])).content.decode()
    assert SECRET in html and "Save note" not in html
    today = timezone.localdate().isoformat()
    response = client.post(reverse("session_notes", args=[pairing.pk]), {"date": today, "text": "more"})
    assert response.status_code == 400 and "This pairing has ended" in response.content.decode()
    assert SessionNote.objects.count() == 1
