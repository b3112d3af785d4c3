# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""Report a safeguarding concern from every page, a pairing's page and a mentor's profile (R-SAFE-1): what happened,
who, when, whether anyone is at immediate risk. Stored first; then the Safeguarding Lead group alone is told, in the
platform and by email, urgent ones marked; the reporter gets a receipt and never the case."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from matching.models import MentorProfile
from messaging.models import Notification
from messaging.services import emails_send_pending
from safeguarding.models import AuditEvent, Concern
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401

NEW = reverse("concern_new")
FILLED = {"what_happened": "He shouted at me and said he knows where I live.", "immediate_risk": "no"}


def written() -> tuple:
    return Concern.objects.count(), Notification.objects.count(), AuditEvent.objects.count(), len(mail.outbox)


@pytest.mark.parametrize("url", ["/", "/mentoring/", "/mentors/", "/notifications/", "/complaints/new/"])
def test_every_page_has_a_report_a_concern_link_in_its_footer(client, mentee, url):
    # R-SAFE-1: from any page
    client.force_login(mentee)
    html = client.get(url, follow=True).content.decode()
    footer = html[html.index("<footer") :]
    assert f'<a href="{NEW}">Report a concern</a>' in footer


def test_signed_out_the_footer_link_explains_how_to_reach_the_lead(client, documents):
    html = client.get(reverse("document_detail", args=["terms"])).content.decode()
    contact = reverse("safeguarding_contact")
    assert f'<a href="{contact}">Report a concern</a>' in html[html.index("<footer") :]
    page = client.get(contact).content.decode()
    assert "999" in page and f"?next={NEW}" in page
    assert client.get(NEW).status_code == 302  # the form itself needs a member


def test_a_concern_about_the_mentor_is_stored_then_the_leads_are_told_urgently(
    client, started, safeguarding_lead, scheme_staff, coordinator, django_capture_on_commit_callbacks
):
    # R-SAFE-1: who (one of the people the member is paired with), when, risk; the Lead told in the platform and
    # by email, urgent ones marked; nobody else told
    client.force_login(started.mentee)
    form = client.get(NEW).context["form"]
    assert list(form.fields["person"].queryset) == [started.mentor]
    data = {**FILLED, "person": started.mentor.pk, "happened_on": "2026-01-05", "immediate_risk": "yes"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, data, follow=True)
    concern = Concern.objects.get()
    assert (concern.reporter, concern.person, concern.pairing, concern.source) == (
        started.mentee,
        started.mentor,
        started,
        Concern.Source.PAGE,
    )
    assert concern.immediate_risk and concern.happened_on == datetime.date(2026, 1, 5)
    told = Notification.objects.filter(kind="concern_raised")
    assert [n.user for n in told] == [safeguarding_lead]
    assert told.get().title == "URGENT: A safeguarding concern was raised"
    emails_send_pending()
    to_lead = [m for m in mail.outbox if safeguarding_lead.email in m.to]
    assert len(to_lead) == 1 and "URGENT: A safeguarding concern was raised" in to_lead[0].subject
    assert FILLED["what_happened"] not in to_lead[0].body
    assert not [m for m in mail.outbox if {scheme_staff.email, coordinator.email} & set(m.to)]
    # The receipt, with the emergency advice for an urgent one; no way to the case.
    assert response.redirect_chain[-1][0] == reverse("concern_received")
    page = response.content.decode()
    assert "Your concern has reached the Safeguarding Lead" in page and "call 999 now" in page
    assert concern.get_absolute_url() not in page
    assert client.get(concern.get_absolute_url()).status_code == 404
    assert client.get(reverse("concern_list")).status_code == 404


def test_someone_not_on_the_platform_is_named_in_words(client, mentee, safeguarding_lead):
    client.force_login(mentee)
    form = client.get(NEW).context["form"]
    assert "person" not in form.fields  # paired with nobody: only the name box
    client.post(NEW, {**FILLED, "person_name": "A man at the workshop"})
    concern = Concern.objects.get()
    assert (concern.person, concern.person_name, concern.pairing) == (None, "A man at the workshop", None)
    assert not concern.immediate_risk


def test_the_pairing_page_links_to_the_form_with_the_partner_chosen(client, started):
    client.force_login(started.mentee)
    html = client.get(started.get_absolute_url()).content.decode()
    link = f"{NEW}?person={started.mentor.pk}"
    assert link in html
    assert client.get(link).context["form"].initial["person"] == started.mentor.pk


def test_someone_the_member_was_never_paired_with_cannot_be_picked(client, started, scheme, network):
    # R-SAFE-1: another person's id is refused, and is not pre-filled from the address either
    stranger = factories.listed_mentor(scheme, network)
    client.force_login(started.mentee)
    assert "person" not in client.get(f"{NEW}?person={stranger.pk}").context["form"].initial
    before = written()
    response = client.post(NEW, {**FILLED, "person": stranger.pk})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert written() == before


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({}, "Tell us what happened."),
        ({"what_happened": "", "immediate_risk": ""}, "Tell us what happened."),
        ({"what_happened": "   \n\t  ", "immediate_risk": "no"}, "Tell us what happened."),
        ({"what_happened": "Something", "immediate_risk": ""}, "Say whether anyone is at immediate risk of harm."),
        ({**FILLED, "immediate_risk": "maybe"}, "Select a valid choice."),
        ({**FILLED, "what_happened": "x" * 5001}, "at most 5000 characters"),
        ({**FILLED, "what_happened": "a\x00b"}, "Null characters are not allowed."),
        ({**FILLED, "happened_on": "9999-12-31"}, "cannot be in the future"),
        ({**FILLED, "happened_on": "2026-02-30"}, "Enter a valid date."),
        ({**FILLED, "person_name": "Line\nbreak"}, "Write this on one line"),
        ({**FILLED, "person_name": "x" * 201}, "at most 200 characters"),
    ],
)
def test_a_concern_with_nothing_in_it_or_bad_input_is_a_clear_400_and_nothing_is_written(
    client, mentee, safeguarding_lead, data, says
):
    # Issue 9, bad input: "a concern with nothing in it": a clear message, nothing half-written
    client.force_login(mentee)
    before = written()
    response = client.post(NEW, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert says in html
    assert "invalid-feedback" in html or 'role="alert"' in html
    assert written() == before


def test_an_empty_concern_says_both_things_it_needs(client, mentee):
    client.force_login(mentee)
    html = client.post(NEW, {}).content.decode()
    assert "Tell us what happened." in html and "Say whether anyone is at immediate risk of harm." in html
    assert not Concern.objects.exists()


def test_tomorrow_is_in_the_future_but_today_is_not(client, mentee):
    client.force_login(mentee)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert client.post(NEW, {**FILLED, "happened_on": str(tomorrow)}).status_code == 400
    assert client.post(NEW, {**FILLED, "happened_on": str(timezone.localdate())}).status_code == 302


# From a mentor's profile (R-SAFE-1: "about a person").


def test_a_mentor_profile_links_to_a_concern_about_that_mentor(client, mentee, scheme, network, safeguarding_lead):
    mentor = factories.listed_mentor(scheme, network, role_title="Power engineer")
    profile = MentorProfile.objects.get(user=mentor)
    client.force_login(mentee)
    url = reverse("profile_concern", args=[profile.pk])
    assert url in client.get(reverse("mentor_detail", args=[profile.pk])).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "person" not in page.context["form"].fields
    response = client.post(url, {**FILLED, "immediate_risk": "yes"})
    assert response.status_code == 302 and response["Location"] == reverse("concern_received")
    concern = Concern.objects.get()
    assert (concern.person, concern.source, concern.pairing, concern.reporter) == (
        mentor,
        Concern.Source.PROFILE,
        None,
        mentee,
    )
    assert Notification.objects.filter(user=safeguarding_lead, kind="concern_raised").count() == 1


def test_a_profile_concern_from_someone_who_cannot_see_the_profile_is_not_found(
    client, mentee, scheme, network, coordinator, scheme_staff
):
    # R-SAFE-1 with R-PROFILE-3: an unlisted profile, or a reader who is no mentee, gets 404 and writes nothing
    mentor = factories.listed_mentor(scheme, network)
    profile = MentorProfile.objects.get(user=mentor)
    url = reverse("profile_concern", args=[profile.pk])
    for person in (coordinator, scheme_staff, mentor):  # mentor: no concern about oneself
        client.force_login(person)
        assert client.get(url).status_code == 404
        assert client.post(url, FILLED).status_code == 404
    MentorProfile.objects.filter(pk=profile.pk).update(status="submitted")
    client.force_login(mentee)
    assert client.post(url, FILLED).status_code == 404
    assert not Concern.objects.exists()


def test_a_complaint_that_someone_is_at_risk_is_sent_to_the_concern_form(client, mentee):
    client.force_login(mentee)
    response = client.post(reverse("complaint_new"), {"at_risk": "yes", "about": "service", "text": "He hit me."})
    assert response.status_code == 302 and response["Location"] == NEW
