"""The onboarding checklist and joining schemes (R-ELIG-6, R-SCHEME-1, R-SCHEME-2)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from mentoring.models import Role, SchemeMembership
from safeguarding.models import TrainingKind, TrainingRecord
from safeguarding.services import training_record_save
from tests import factories


def test_onboarding_needs_a_signed_in_member(client, db):
    response = client.get(reverse("onboarding"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_checklist_shows_each_unmet_condition_with_its_fix(client, documents, scheme, network):
    # R-ELIG-6
    user = factories.UserFactory()
    factories.accept_current_documents(user)
    factories.MembershipFactory(
        user=user, scheme=scheme, network=network, role=Role.MENTOR, status=SchemeMembership.Status.PENDING
    )
    client.force_login(user)
    page = client.get(reverse("onboarding")).content.decode()
    assert 'data-condition="safeguarding_elearning" data-met="no"' in page
    assert 'data-condition="mentor_training" data-met="no"' in page
    assert "your Local Network coordinator then records it" in page
    assert "2 steps left" in page


def test_the_checklist_turns_green_when_training_is_recorded(client, documents, scheme, network, coordinator):
    # R-ELIG-3, R-ELIG-6: updates when the coordinator records what was missing
    user = factories.UserFactory()
    factories.accept_current_documents(user)
    membership = factories.MembershipFactory(
        user=user, scheme=scheme, network=network, role=Role.MENTOR, status=SchemeMembership.Status.PENDING
    )
    for kind in TrainingKind:
        training_record_save(
            record=TrainingRecord(user=user, kind=kind, completed_on=timezone.localdate() - datetime.timedelta(days=1)),
            actor=coordinator,
        )
    client.force_login(user)
    page = client.get(reverse("onboarding")).content.decode()
    assert "Ready to take part" in page
    membership.refresh_from_db()
    assert membership.status == SchemeMembership.Status.ACTIVE


def test_a_member_joins_a_second_scheme_separately(client, mentee, dbs_scheme, network):
    # R-SCHEME-1
    client.force_login(mentee)
    response = client.post(
        reverse("scheme_join"), {"scheme": dbs_scheme.pk, "roles": ["mentor"], "network": network.pk}
    )
    assert response.status_code == 302
    membership = SchemeMembership.objects.get(user=mentee, scheme=dbs_scheme)
    assert (membership.role, membership.network, membership.status) == ("mentor", network, "pending")
    page = client.get(reverse("onboarding")).content.decode()
    assert 'data-condition="dbs" data-met="no"' in page


def test_joining_the_same_scheme_and_role_twice_is_refused_cleanly(client, mentee, scheme, network):
    client.force_login(mentee)
    response = client.post(reverse("scheme_join"), {"scheme": scheme.pk, "roles": ["mentee"], "network": network.pk})
    assert response.status_code == 200
    assert "already a mentee" in response.content.decode()
    assert SchemeMembership.objects.filter(user=mentee, scheme=scheme).count() == 1


def test_joining_as_both_when_one_role_exists_leaves_nothing_half_written(client, mentee, scheme, network):
    # Bad input leaves nothing half-written: the mentor membership is not kept when the mentee one fails.
    client.force_login(mentee)
    response = client.post(
        reverse("scheme_join"), {"scheme": scheme.pk, "roles": ["mentor", "mentee"], "network": network.pk}
    )
    assert response.status_code == 200
    assert not SchemeMembership.objects.filter(user=mentee, scheme=scheme, role="mentor").exists()


def test_joining_with_bad_ids_gives_form_errors_not_500(client, mentee):
    client.force_login(mentee)
    response = client.post(reverse("scheme_join"), {"scheme": "999999", "roles": ["boss"], "network": "x"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"scheme", "roles", "network"}
    assert SchemeMembership.objects.filter(user=mentee).count() == 1


def test_dates_are_shown_in_the_members_time_zone(client, mentee):
    # R-DATA-3: a membership joined at 23:30 UTC shows the next day in Tokyo
    membership = mentee.memberships.get()
    membership.joined_at = datetime.datetime(2026, 3, 10, 23, 30, tzinfo=datetime.UTC)
    membership.save()
    client.force_login(mentee)
    assert "Joined 10 March 2026" in client.get(reverse("onboarding")).content.decode()
    mentee.time_zone = "Asia/Tokyo"
    mentee.save()
    assert "Joined 11 March 2026" in client.get(reverse("onboarding")).content.decode()
