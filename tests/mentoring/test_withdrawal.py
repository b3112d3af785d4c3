# ruff: noqa: F811  (the fixtures imported from ending_fixtures are parameters by name)
"""Pause and withdrawal (R-PAIR-7): pausing keeps pairings; withdrawing ends them and deletes nothing."""

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from matching.listing import listed_profiles
from matching.models import MentorshipRequest
from matching.services import RequestRefused, request_send
from mentoring.ending import membership_pause, membership_resume, membership_withdraw
from mentoring.models import EndOfPairing, Pairing, Role, SchemeMembership
from messaging.models import Notification
from safeguarding.models import AuditEvent
from tests import factories
from tests.mentoring.ending_fixtures import membership, pair  # noqa: F401

NO_CONFLICT = {"kind": "none", "details": "", "manageable": True}


# Derived data, rewritten from the records whenever they change: a withdrawn mentor's listing row goes, and
# so does the row that counted the withdrawn membership eligible.
DERIVED = {"matching.MentorListing", "safeguarding.EligibleMembership"}


def row_counts() -> dict:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.label not in DERIVED}


def test_pausing_keeps_the_pairing_but_stops_listing_and_new_requests(client, pair, scheme, network):
    # R-PAIR-7: pause = no new requests, pairings go on
    mentor_membership = membership(pair.mentor, scheme, Role.MENTOR)
    profile = pair.mentor.mentor_profile
    assert listed_profiles(scheme).filter(pk=profile.pk).exists()
    client.force_login(pair.mentor)
    assert client.post(reverse("membership_pause", args=[mentor_membership.pk])).status_code == 302
    mentor_membership.refresh_from_db()
    assert mentor_membership.status == SchemeMembership.Status.PAUSED
    assert not listed_profiles(scheme).filter(pk=profile.pk).exists()
    seeker = factories.eligible_mentee(scheme, network)
    with pytest.raises(RequestRefused):
        request_send(mentee=seeker, profile=profile, scheme=scheme, message="Hello", declaration=NO_CONFLICT)
    # The pairing goes on, and its page still works for both.
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ACTIVE
    assert client.get(reverse("pairing_detail", args=[pair.pk])).status_code == 200
    client.force_login(pair.mentee)
    assert client.get(reverse("pairing_detail", args=[pair.pk])).status_code == 200
    # Resuming lists the mentor again.
    client.force_login(pair.mentor)
    client.post(reverse("membership_resume", args=[mentor_membership.pk]))
    mentor_membership.refresh_from_db()
    assert mentor_membership.status == SchemeMembership.Status.ACTIVE
    assert listed_profiles(scheme).filter(pk=profile.pk).exists()


def test_a_paused_mentee_cannot_send_requests(pair, scheme, network):
    mentor = factories.listed_mentor(scheme, network)
    mentee_membership = membership(pair.mentee, scheme)
    membership_pause(membership_id=mentee_membership.pk, actor=pair.mentee)
    with pytest.raises(RequestRefused, match="paused"):
        request_send(
            mentee=pair.mentee, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )


def test_only_the_member_pauses_and_only_an_active_membership(pair, scheme, coordinator):
    mentee_membership = membership(pair.mentee, scheme)
    with pytest.raises(PermissionDenied):
        membership_pause(membership_id=mentee_membership.pk, actor=pair.mentor)
    membership_pause(membership_id=mentee_membership.pk, actor=pair.mentee)
    with pytest.raises(ValidationError, match="only while you are taking part"):
        membership_pause(membership_id=mentee_membership.pk, actor=pair.mentee)
    membership_resume(membership_id=mentee_membership.pk, actor=pair.mentee)
    with pytest.raises(ValidationError, match="Only a paused membership"):
        membership_resume(membership_id=mentee_membership.pk, actor=pair.mentee)


def test_withdrawing_ends_pairings_withdraws_requests_tells_everyone_and_deletes_nothing(client, pair, scheme, network):
    # R-PAIR-7: pairings end with reason "withdrawal", pending requests withdrawn, partners told, nothing deleted
    mentor = pair.mentor
    waiting = factories.eligible_mentee(scheme, network, first_name="Wendy")
    request = factories.MentorshipRequestFactory(scheme=scheme, mentee=waiting, mentor=mentor)
    mentor_membership = membership(mentor, scheme, Role.MENTOR)
    before = row_counts()
    client.force_login(mentor)
    page = client.get(reverse("membership_withdraw", args=[mentor_membership.pk]))
    assert page.status_code == 200 and "Amara" in page.content.decode()
    assert client.post(reverse("membership_withdraw", args=[mentor_membership.pk]), {}).status_code == 400
    response = client.post(
        reverse("membership_withdraw", args=[mentor_membership.pk]), {"reason": "Moving abroad", "confirm": "on"}
    )
    assert response.status_code == 302
    mentor_membership.refresh_from_db()
    assert mentor_membership.status == SchemeMembership.Status.WITHDRAWN
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ENDED and pair.end_reason == Pairing.EndReason.WITHDRAWAL
    assert EndOfPairing.objects.get(pairing=pair).reason == "withdrawal"
    request.refresh_from_db()
    assert request.status == MentorshipRequest.Status.WITHDRAWN
    assert Notification.objects.filter(user=pair.mentee, kind="pairing_ended").exists()
    assert Notification.objects.filter(user=waiting, kind="request_withdrawn_mentor_left").exists()
    assert AuditEvent.objects.filter(action="membership.withdrawn", target_user=mentor).exists()
    after = row_counts()
    shrunk = {label: (before[label], after[label]) for label in before if after[label] < before[label]}
    assert not shrunk, f"rows deleted: {shrunk}"


def test_a_withdrawing_mentee_withdraws_their_own_requests_and_the_mentor_is_told(pair, scheme, network):
    other_mentor = factories.listed_mentor(scheme, network)
    request = factories.MentorshipRequestFactory(scheme=scheme, mentee=pair.mentee, mentor=other_mentor)
    membership_withdraw(membership_id=membership(pair.mentee, scheme).pk, actor=pair.mentee)
    request.refresh_from_db()
    assert request.status == MentorshipRequest.Status.WITHDRAWN
    assert Notification.objects.filter(user=other_mentor, kind="request_withdrawn").exists()
    assert Notification.objects.filter(user=pair.mentor, kind="pairing_ended").exists()


def test_staff_withdraw_a_member_from_the_admin_with_a_reason(client, pair, scheme, scheme_staff, coordinator):
    # R-PAIR-7: staff withdraw anyone from the admin with a reason
    mentee_membership = membership(pair.mentee, scheme)
    url = reverse("admin:mentoring_schememembership_withdraw", args=[mentee_membership.pk])
    client.force_login(coordinator)
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(scheme_staff)
    change = client.get(reverse("admin:mentoring_schememembership_change", args=[mentee_membership.pk]))
    assert url in change.content.decode()
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Membership lapsed for good."}).status_code == 302
    mentee_membership.refresh_from_db()
    assert mentee_membership.status == SchemeMembership.Status.WITHDRAWN
    pair.refresh_from_db()
    assert pair.end_reason == "withdrawal"
    told = Notification.objects.get(user=pair.mentee, kind="membership_withdrawn")
    assert told.body == "Membership lapsed for good."
    with pytest.raises(ValidationError, match="already withdrawn"):
        membership_withdraw(membership_id=mentee_membership.pk, actor=scheme_staff, reason="again")


def test_another_member_cannot_withdraw_someone(client, pair, scheme):
    mentee_membership = membership(pair.mentee, scheme)
    with pytest.raises(PermissionDenied):
        membership_withdraw(membership_id=mentee_membership.pk, actor=pair.mentor, reason="x")
    client.force_login(pair.mentor)
    url = reverse("membership_withdraw", args=[mentee_membership.pk])
    assert client.post(url, {"confirm": "on"}).status_code == 404
    mentee_membership.refresh_from_db()
    assert mentee_membership.status == SchemeMembership.Status.ACTIVE
