"""Requests: the mentee asks, the mentor answers; capacity, limits, conflicts, expiry (R-MATCH-2, R-MATCH-5)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from matching import services
from matching.models import ConflictDeclaration, MentorProfile, MentorshipRequest
from matching.tasks import expire_requests
from mentoring.models import Pairing, SchemeMembership
from messaging.models import Notification
from safeguarding import eligibility
from tests import factories

FORM_NO_CONFLICT = {"conflict_kind": "none", "conflict_details": "", "conflict_manageable": "yes"}


def send(client, mentee, mentor, scheme, message="Hello, I would value your help with chartership."):
    client.force_login(mentee)
    url = reverse("request_create", args=[mentor.mentor_profile.pk]) + f"?scheme={scheme.slug}"
    return client.post(url, {"message": message, **FORM_NO_CONFLICT})


def test_a_mentee_sends_a_request_and_the_mentor_is_told(client, seeker, listed, scheme):
    # R-MATCH-2, R-MSG-3
    response = send(client, seeker, listed, scheme)
    request = MentorshipRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("request_detail", args=[request.pk])
    assert (request.mentee, request.mentor, request.status) == (seeker, listed, "pending")
    assert request.expires_at - request.created_at == datetime.timedelta(days=scheme.request_expiry_days)
    assert ConflictDeclaration.objects.get(request=request, declared_by=seeker).kind == "none"
    assert Notification.objects.filter(user=listed, kind="request_received").exists()


def test_the_mentor_accepts_and_both_are_paired(client, seeker, listed, scheme, no_conflict):
    # R-MATCH-2, R-MATCH-5: the mentor declares before the pairing starts
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    response = client.post(reverse("request_accept", args=[request.pk]), FORM_NO_CONFLICT)
    pairing = Pairing.objects.get()
    assert response["Location"] == reverse("pairing_detail", args=[pairing.pk])
    assert (pairing.mentor, pairing.mentee, pairing.origin, pairing.status) == (listed, seeker, "request", "active")
    request.refresh_from_db()
    assert request.status == "accepted" and request.pairing == pairing
    assert ConflictDeclaration.objects.filter(request=request).count() == 2
    assert Notification.objects.filter(user=seeker, kind="request_accepted").exists()
    assert Notification.objects.filter(user=seeker, kind="pairing_started").exists()


def test_the_mentor_declines_with_a_reason(client, seeker, listed, scheme, no_conflict):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    client.post(reverse("request_decline", args=[request.pk]), {"reason": "My diary is full until spring."})
    request.refresh_from_db()
    assert request.status == "declined" and request.decline_reason == "My diary is full until spring."
    note = Notification.objects.get(user=seeker, kind="request_declined")
    assert "diary is full" in note.body


def test_declining_without_a_reason_changes_nothing(client, seeker, listed, scheme, no_conflict):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    response = client.post(reverse("request_decline", args=[request.pk]), {"reason": "  "}, follow=True)
    assert "Give the mentee a short reason" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "pending"


def test_a_mentor_refers_the_mentee_back_to_the_coordinator(client, seeker, listed, scheme, coordinator, no_conflict):
    # R-MATCH-6
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    client.post(
        reverse("request_decline", args=[request.pk]),
        {"reason": "A power-systems mentor would suit better.", "refer": "on"},
    )
    request.refresh_from_db()
    assert request.referred_to_coordinator
    assert Notification.objects.filter(user=coordinator, kind="request_referred").exists()


def test_the_mentee_withdraws(client, seeker, listed, scheme, no_conflict):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(seeker)
    client.post(reverse("request_withdraw", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == "withdrawn"


def refused(client, mentee, mentor, scheme, words, **data):
    before = MentorshipRequest.objects.count()
    client.force_login(mentee)
    url = reverse("request_create", args=[mentor.mentor_profile.pk]) + f"?scheme={scheme.slug}"
    response = client.post(url, {"message": "Please mentor me.", **FORM_NO_CONFLICT, **data})
    assert response.status_code in (400, 404), response.status_code
    if response.status_code == 400:
        assert words in response.content.decode()
    assert MentorshipRequest.objects.count() == before
    return response


def test_a_second_pending_request_is_refused(client, seeker, listed, scheme, network, no_conflict):
    # R-MATCH-2: one pending request per mentee per scheme (the scheme's setting)
    other = factories.listed_mentor(scheme, network)
    services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    refused(client, seeker, other, scheme, "1 request(s) waiting at a time")


def test_the_pending_limit_is_a_scheme_setting(client, seeker, listed, scheme, network, no_conflict):
    scheme.max_pending_requests_per_mentee = 2
    scheme.save()
    other = factories.listed_mentor(scheme, network)
    services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    assert send(client, seeker, other, scheme).status_code == 302


def test_a_paused_mentor_is_refused(client, seeker, listed, scheme):
    MentorProfile.objects.filter(user=listed).update(availability="paused")
    refused(client, seeker, listed, scheme, "has paused")


def test_a_full_mentor_is_refused(client, seeker, listed, scheme, network):
    for _ in range(2):
        Pairing.objects.create(
            scheme=scheme, mentor=listed, network=network, mentee=factories.eligible_mentee(scheme, network)
        )
    refused(client, seeker, listed, scheme, "no free place")


def test_an_unlisted_mentor_is_404(client, seeker, listed, scheme):
    # R-PROFILE-3: not approved, not visible
    MentorProfile.objects.filter(user=listed).update(status="submitted")
    refused(client, seeker, listed, scheme, "")


def test_an_ineligible_mentor_is_not_listed(client, seeker, listed, scheme):
    # R-ELIG-3 via the engine: expired training unlists the mentor
    listed.training_records.update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
        completed_on=timezone.localdate() - datetime.timedelta(days=400),
    )
    refused(client, seeker, listed, scheme, "")


def test_an_ineligible_mentee_cannot_send(client, seeker, listed, scheme):
    seeker.membership_status = "lapsed"
    seeker.save()
    refused(client, seeker, listed, scheme, "You cannot send requests yet")


def test_a_mentee_without_goals_is_asked_for_them(client, documents, scheme, network, listed):
    # R-PROFILE-5
    mentee = factories.eligible_mentee(scheme, network, goals=False)
    refused(client, mentee, listed, scheme, "Set out your goals first")


def test_an_empty_message_is_refused(client, seeker, listed, scheme):
    refused(client, seeker, listed, scheme, "Write a short message", message="")


def test_an_unmanageable_conflict_blocks_the_request_and_tells_the_coordinator(
    client, seeker, listed, scheme, coordinator
):
    # R-MATCH-5
    client.force_login(seeker)
    url = reverse("request_create", args=[listed.mentor_profile.pk]) + f"?scheme={scheme.slug}"
    response = client.post(
        url,
        {
            "message": "Hi",
            "conflict_kind": "line_manager",
            "conflict_details": "She is my line manager.",
            "conflict_manageable": "no",
        },
    )
    assert response.status_code == 302
    assert not MentorshipRequest.objects.exists()
    note = Notification.objects.get(user=coordinator, kind="conflict_blocked")
    assert "line manager" in note.body.lower()


def test_a_conflict_must_be_described(client, seeker, listed, scheme):
    refused(
        client,
        seeker,
        listed,
        scheme,
        "Describe the conflict",
        conflict_kind="friendship",
        conflict_details="",
        conflict_manageable="yes",
    )


def test_a_mentor_declaring_an_unmanageable_conflict_declines_instead(
    client, seeker, listed, scheme, coordinator, no_conflict
):
    # R-MATCH-5: blocks the pairing, tells the coordinator
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    client.post(
        reverse("request_accept", args=[request.pk]),
        {"conflict_kind": "relationship", "conflict_details": "My cousin.", "conflict_manageable": "no"},
    )
    request.refresh_from_db()
    assert request.status == "declined"
    assert not Pairing.objects.exists()
    assert Notification.objects.filter(user=coordinator, kind="conflict_blocked").exists()


def test_accepting_someone_elses_request_is_404(client, seeker, listed, scheme, network, no_conflict):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    stranger = factories.listed_mentor(scheme, network)
    client.force_login(stranger)
    assert client.post(reverse("request_accept", args=[request.pk]), FORM_NO_CONFLICT).status_code == 404
    assert client.get(reverse("request_detail", args=[request.pk])).status_code == 404
    client.force_login(seeker)  # the mentee cannot accept their own request either
    assert client.post(reverse("request_accept", args=[request.pk]), FORM_NO_CONFLICT).status_code == 404
    request.refresh_from_db()
    assert request.status == "pending" and not Pairing.objects.exists()


def test_answering_twice_gives_a_clear_message(client, seeker, listed, scheme, no_conflict):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    client.post(reverse("request_accept", args=[request.pk]), FORM_NO_CONFLICT)
    response = client.post(reverse("request_decline", args=[request.pk]), {"reason": "Oops"}, follow=True)
    assert "already accepted" in response.content.decode()
    assert Pairing.objects.count() == 1


def test_a_mentor_at_capacity_cannot_accept(client, seeker, listed, scheme, network, no_conflict):
    # R-MATCH-2
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    for _ in range(2):
        Pairing.objects.create(
            scheme=scheme, mentor=listed, network=network, mentee=factories.eligible_mentee(scheme, network)
        )
    client.force_login(listed)
    response = client.post(reverse("request_accept", args=[request.pk]), FORM_NO_CONFLICT, follow=True)
    assert "the most they have offered to take" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "pending"
    assert Pairing.objects.filter(mentee=seeker).count() == 0


def test_expiry_is_safe_to_run_twice(seeker, listed, scheme, no_conflict):
    # R-MATCH-2: a scheduled job, safe to run twice
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    later = request.expires_at + datetime.timedelta(minutes=1)
    assert services.requests_expire(now=request.expires_at - datetime.timedelta(minutes=1)) == 0
    assert services.requests_expire(now=later) == 1
    assert services.requests_expire(now=later) == 0
    request.refresh_from_db()
    assert request.status == "expired"
    assert Notification.objects.filter(user=seeker, kind="request_expired").count() == 1


def test_the_expiry_task_runs_the_service(seeker, listed, scheme, no_conflict):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    MentorshipRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    # Inside the test's transaction .delay() would wait for a commit; .apply() runs the task here.
    assert expire_requests.apply().get() == 1


def test_a_request_page_hides_contact_details(client, seeker, listed, scheme, no_conflict):
    # R-PROFILE-2: no surname or email before a pairing
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(seeker)
    page = client.get(reverse("request_detail", args=[request.pk])).content.decode()
    assert listed.last_name not in page and listed.email not in page


@pytest.mark.parametrize("shares", [False, True])
def test_contact_details_after_pairing_only_where_the_scheme_shares_them(
    client, seeker, listed, scheme, network, shares
):
    # R-PROFILE-2
    scheme.shares_contact_details = shares
    scheme.save()
    pairing = Pairing.objects.create(scheme=scheme, mentor=listed, mentee=seeker, network=network)
    client.force_login(seeker)
    page = client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert (listed.email in page) is shares
    assert (listed.last_name in page) is shares


def test_another_persons_pairing_is_404(client, seeker, listed, scheme, network):
    pairing = Pairing.objects.create(scheme=scheme, mentor=listed, mentee=seeker, network=network)
    client.force_login(factories.eligible_mentee(scheme, network))
    assert client.get(reverse("pairing_detail", args=[pairing.pk])).status_code == 404


def test_a_withdrawn_mentee_is_not_waiting_or_eligible(seeker, scheme):
    SchemeMembership.objects.filter(user=seeker).update(status="withdrawn")
    assert not eligibility.check(seeker, scheme, "mentee").ok
