"""Rules that must hold wherever they are called from: each test fails when its rule is removed."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from matching import listing, services
from matching.models import ConflictBlock, MentorProfile, MentorshipRequest, PairingProposal
from mentoring import services as mentoring_services
from mentoring.models import Pairing, SchemeMembership
from messaging.models import Notification
from safeguarding import dbs
from safeguarding import services as safeguarding_services
from safeguarding.models import DBSCheck, TrainingKind, TrainingRecord
from tests import factories
from tests.matching.conftest import NO_CONFLICT

UNMANAGEABLE = {"kind": "line_manager", "details": "She is my manager", "manageable": False}


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        # Not a debt: CI's second pass runs the whole suite on PostgreSQL, where this runs.
        pytest.skip("row locks need PostgreSQL: CI runs this in its PostgreSQL pass (DATABASE_URL)")


def listed_ids(scheme):
    return set(listing.listed_profiles(scheme).values_list("user_id", flat=True))


def test_the_listing_query_requires_a_current_dbs_check_where_the_scheme_does(documents, dbs_scheme, network):
    # R-ELIG-4: the listing's own query, not only the checklist
    mentor = factories.listed_mentor(dbs_scheme, network)
    assert mentor.pk not in listed_ids(dbs_scheme)
    old = factories.DBSCheckFactory(user=mentor, cleared_on=timezone.localdate() - datetime.timedelta(days=4 * 366))
    assert mentor.pk not in listed_ids(dbs_scheme)
    old.cleared_on = timezone.localdate() - datetime.timedelta(days=30)
    old.save()
    assert mentor.pk in listed_ids(dbs_scheme)


def test_starting_a_pairing_checks_the_mentee_again(seeker, listed, scheme):
    # R-ELIG-2: a mentee whose membership lapsed after asking is refused at accept
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
    )
    seeker.membership_status = "lapsed"
    seeker.save()
    with pytest.raises(services.RequestRefused, match="cannot take part as a mentee"):
        services.request_accept(request_id=request.pk, mentor=listed, declaration=NO_CONFLICT)
    assert not Pairing.objects.exists()


def test_the_service_itself_refuses_an_unlisted_mentor(seeker, listed, scheme):
    # R-PROFILE-3: not only the view; a profile waiting for approval cannot be asked
    MentorProfile.objects.filter(user=listed).update(status=MentorProfile.Status.SUBMITTED)
    with pytest.raises(services.RequestRefused, match="not listed"):
        services.request_send(
            mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )
    assert not MentorshipRequest.objects.exists()


def test_withdrawing_another_members_request_is_404(client, seeker, listed, scheme, network):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
    )
    stranger = factories.eligible_mentee(scheme, network)
    client.force_login(stranger)
    assert client.post(reverse("request_withdraw", args=[request.pk])).status_code == 404
    client.force_login(listed)  # the mentor is not the one who may withdraw it
    assert client.post(reverse("request_withdraw", args=[request.pk])).status_code == 404
    request.refresh_from_db()
    assert request.status == MentorshipRequest.Status.PENDING


def test_an_unmanageable_conflict_is_kept_as_a_row(client, seeker, listed, scheme, coordinator):
    # R-MATCH-5: the mentee's declaration blocks the request and is recorded
    client.force_login(seeker)
    client.post(
        reverse("request_create", args=[listed.mentor_profile.pk]),
        {
            "message": "Hi",
            "conflict_kind": "line_manager",
            "conflict_details": "She is my manager",
            "conflict_manageable": "no",
        },
    )
    block = ConflictBlock.objects.get()
    assert (block.mentee, block.mentor, block.declared_by, block.kind) == (seeker, listed, seeker, "line_manager")
    assert Notification.objects.filter(user=coordinator, kind="conflict_blocked").exists()


def test_a_mentors_unmanageable_conflict_is_kept_as_a_row(seeker, listed, scheme):
    request = services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
    )
    assert services.request_accept(request_id=request.pk, mentor=listed, declaration=UNMANAGEABLE) is None
    block = ConflictBlock.objects.get()
    assert (block.declared_by, block.request) == (listed, request)


# Services own permission: the same rules for the admin, a command and a task.


def test_a_coordinator_reviews_only_profiles_of_their_networks(documents, scheme, other_network, coordinator):
    outsider = factories.listed_mentor(scheme, other_network)
    with pytest.raises(PermissionDenied):
        services.mentor_profile_review(
            profile_id=outsider.mentor_profile.pk, approve=False, note="Remove the logo", actor=coordinator
        )
    assert MentorProfile.objects.get(user=outsider).status == MentorProfile.Status.APPROVED


def test_approving_a_profile_asks_the_eligibility_engine(documents, scheme, network, coordinator):
    # R-ELIG-6: publishing a profile is a gated action
    mentor = factories.listed_mentor(scheme, network)
    MentorProfile.objects.filter(user=mentor).update(status=MentorProfile.Status.SUBMITTED)
    TrainingRecord.objects.filter(user=mentor, kind=TrainingKind.MENTOR_TRAINING).delete()
    with pytest.raises(ValidationError, match="Mentor training"):
        services.mentor_profile_review(profile_id=mentor.mentor_profile.pk, approve=True, note="", actor=coordinator)
    assert MentorProfile.objects.get(user=mentor).status == MentorProfile.Status.SUBMITTED
    factories.train(mentor)
    services.mentor_profile_review(profile_id=mentor.mentor_profile.pk, approve=True, note="", actor=coordinator)
    assert MentorProfile.objects.get(user=mentor).status == MentorProfile.Status.APPROVED


def test_members_and_other_coordinators_cannot_use_the_coordinators_services(
    documents, scheme, network, other_network, coordinator, mentee
):
    outsider = factories.eligible_mentee(scheme, other_network)
    membership = SchemeMembership.objects.get(user=outsider)
    for actor in (coordinator, mentee):
        with pytest.raises(PermissionDenied):
            safeguarding_services.training_record_save(
                record=TrainingRecord(user=outsider, kind="mentor_training", completed_on=timezone.localdate()),
                actor=actor,
            )
        with pytest.raises(PermissionDenied):
            safeguarding_services.membership_check_record(
                member_id=outsider.pk, actor=actor, changes={"membership_status": "lapsed"}
            )
        with pytest.raises(PermissionDenied):
            mentoring_services.membership_status_set(
                membership_id=membership.pk, status="suspended", network=other_network, actor=actor
            )
    assert not TrainingRecord.objects.filter(user=outsider, kind="mentor_training").exists()
    outsider.refresh_from_db()
    membership.refresh_from_db()
    assert outsider.membership_status == "active" and membership.status == "active"


def test_coordinators_never_record_dbs_checks(documents, scheme, network, coordinator, scheme_staff):
    # R-SAFE-3: criminal-offence data is for staff and the Safeguarding Lead only
    mentor = factories.listed_mentor(scheme, network)
    ask = {"user": mentor, "level": DBSCheck.Level.BASIC, "level_reason": "Mentoring adults: basic."}
    with pytest.raises(PermissionDenied):
        dbs.dbs_check_request(**ask, actor=coordinator)
    assert not DBSCheck.objects.exists()
    dbs.dbs_check_request(**ask, actor=scheme_staff)
    assert DBSCheck.objects.count() == 1


def test_a_coordinator_pairs_by_hand_only_within_their_networks(
    documents, scheme, network, other_network, coordinator, seeker
):
    outside_mentor = factories.listed_mentor(scheme, other_network)
    with pytest.raises(PermissionDenied):
        services.proposal_create(mentor=outside_mentor, mentee=seeker, scheme=scheme, actor=coordinator)
    assert not Pairing.objects.exists() and not PairingProposal.objects.exists()


# Under concurrent use, on PostgreSQL row locks.


def test_two_sends_at_once_keep_the_pending_request_limit(
    postgres, transactional_db, documents, scheme, network, monkeypatch
):
    # R-MATCH-2: the mentee's membership row lock serialises their sends
    mentee = factories.eligible_mentee(scheme, network)
    mentors = [factories.listed_mentor(scheme, network) for _ in range(2)]
    real = services.listed_profiles

    def slow_listed(*args, **kwargs):
        time.sleep(0.3)  # widen the window between counting pending requests and writing one
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "listed_profiles", slow_listed)
    barrier = threading.Barrier(2)
    outcomes = []

    def send(mentor):
        try:
            barrier.wait(timeout=10)
            services.request_send(
                mentee=mentee, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
            )
            outcomes.append("sent")
        except services.RequestRefused as refused:
            outcomes.append(refused.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(m,)) for m in mentors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[-1] == "sent" and outcomes.count("sent") == 1, outcomes
    assert MentorshipRequest.objects.filter(mentee=mentee, status="pending").count() == 1


def test_expiry_run_twice_at_once_tells_each_mentee_once(postgres, transactional_db, documents, scheme, network):
    mentees = [factories.eligible_mentee(scheme, network) for _ in range(6)]
    mentors = [factories.listed_mentor(scheme, network) for _ in range(6)]
    for mentee, mentor in zip(mentees, mentors, strict=True):
        factories.MentorshipRequestFactory(
            scheme=scheme, mentee=mentee, mentor=mentor, expires_at=timezone.now() - datetime.timedelta(hours=1)
        )
    barrier = threading.Barrier(2)
    counts = []

    def run():
        try:
            barrier.wait(timeout=10)
            counts.append(services.requests_expire())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(counts) == 6
    assert Notification.objects.filter(kind="request_expired").count() == 6
    assert not MentorshipRequest.objects.filter(status="pending").exists()


def test_a_mentee_at_the_mentor_limit_gets_no_suggestions_and_cannot_ask_again(client, seeker, listed, scheme, network):
    # R-MATCH-8: the scheme says how many mentors a mentee may have at once (default 1)
    other = factories.listed_mentor(scheme, network)
    Pairing.objects.create(scheme=scheme, mentor=listed, mentee=seeker, network=network)
    client.force_login(seeker)
    page = client.get(reverse("mentor_list"))
    assert page.context["suggestions"] == []
    assert "the most the scheme allows at once" in page.content.decode()
    with pytest.raises(services.RequestRefused, match="the most the scheme allows at once"):
        services.request_send(
            mentee=seeker, profile=other.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )
    response = client.post(
        reverse("request_create", args=[other.mentor_profile.pk]),
        {"message": "Hi", "conflict_kind": "none", "conflict_manageable": "yes"},
    )
    assert response.status_code == 400
    assert not MentorshipRequest.objects.exists()
    scheme.max_mentors_per_mentee = 2
    scheme.save()
    assert client.get(reverse("mentor_list")).context["suggestions"]
    services.request_send(
        mentee=seeker, profile=other.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
    )


def test_accepting_an_older_request_respects_the_mentor_limit(seeker, listed, scheme, network):
    # R-MATCH-8: a request sent before the mentee was paired cannot give them a second mentor
    other = factories.listed_mentor(scheme, network)
    scheme.max_pending_requests_per_mentee = 2
    scheme.save()
    first, second = (
        services.request_send(
            mentee=seeker, profile=m.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )
        for m in (listed, other)
    )
    services.request_accept(request_id=first.pk, mentor=listed, declaration=NO_CONFLICT)
    with pytest.raises(services.RequestRefused, match="the most the scheme allows at once"):
        services.request_accept(request_id=second.pk, mentor=other, declaration=NO_CONFLICT)
    assert Pairing.objects.filter(mentee=seeker).count() == 1
