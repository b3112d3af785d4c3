"""The daily eligibility sweep (issue 9, item 5; R-ELIG-2, R-ELIG-3, R-ELIG-4): a member whose membership lapsed or
whose training or DBS check expired is unlisted, new requests are refused, the member and their coordinator are told
once per lapse; nothing is deleted and running pairings continue."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import MembershipStatus, local_today
from matching import listing
from matching import services as matching_services
from mentoring import messages as mentoring_messages
from mentoring import services as mentoring_services
from mentoring.models import Pairing, Role, SchemeMembership
from messaging.models import Message, Notification
from safeguarding import services, sweep
from safeguarding.models import DBSCheck, EligibilityLapse, TrainingKind, TrainingRecord
from tests import factories

NO_CONFLICT = {"kind": "none", "details": "", "manageable": True}
DAY = datetime.timedelta(days=1)


def yesterday(user) -> datetime.date:
    return local_today(user.time_zone) - DAY


@pytest.fixture
def paired_mentor(documents, scheme, network, coordinator):
    """A listed mentor of London with an active pairing (started as the product starts one)."""
    mentor = factories.listed_mentor(scheme, network, capacity=3)
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    pairing = mentoring_services.pairing_start(mentor=mentor, mentee=mentee, scheme=scheme, origin="manual")
    return mentor, pairing


def lapse_training(user, kind=TrainingKind.SAFEGUARDING_ELEARNING):
    TrainingRecord.objects.filter(user=user, kind=kind).update(
        completed_on=yesterday(user) - 400 * DAY, expires_on=yesterday(user)
    )


def told(user, kind) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind))


def test_expired_training_unlists_the_mentor_and_tells_them_and_their_coordinator_once(
    paired_mentor, scheme, coordinator
):
    # R-ELIG-3: training current on the day; issue 9, item 5
    mentor, _ = paired_mentor
    assert listing.listed_profiles(scheme).filter(user=mentor).exists()
    lapse_training(mentor)
    assert not listing.listed_profiles(scheme).filter(user=mentor).exists()  # the listing follows the engine
    assert sweep.eligibility_sweep() == 1
    assert sweep.eligibility_sweep() == 0  # the next day's run tells nobody again
    (note,) = told(mentor, "eligibility_lapsed")
    assert note.title == f"You cannot take part in {scheme} for now"
    assert "Your Safeguarding eLearning expired on" in note.body and "Your pairings go on" in note.body
    (to_coordinator,) = told(coordinator, "eligibility_lapsed_coordinator")
    assert mentor.get_full_name() in to_coordinator.body
    assert "Safeguarding eLearning completed" in to_coordinator.body
    lapse = EligibilityLapse.objects.get()
    assert (lapse.code, lapse.ended_on) == (TrainingKind.SAFEGUARDING_ELEARNING, None)


def test_a_lapsed_mentor_is_not_on_the_mentees_search_page(client, paired_mentor, scheme, network):
    mentor, _ = paired_mentor
    seeker = factories.eligible_mentee(scheme, network)
    client.force_login(seeker)
    assert mentor.mentor_profile.role_title in client.get(reverse("mentor_list")).content.decode()
    lapse_training(mentor)
    sweep.eligibility_sweep()
    listing.refresh_all()  # the scheduled refresh: records are not saved when a date passes
    page = client.get(reverse("mentor_list")).content.decode()
    assert f'href="{reverse("mentor_detail", args=[mentor.mentor_profile.pk])}"' not in page


def test_new_requests_to_or_from_a_lapsed_member_are_refused(paired_mentor, scheme, network):
    # R-ELIG-6: every gated action asks the same engine
    mentor, _ = paired_mentor
    seeker = factories.eligible_mentee(scheme, network)
    waiting = matching_services.request_send(
        mentee=seeker, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
    )
    lapse_training(mentor)
    sweep.eligibility_sweep()
    other = factories.eligible_mentee(scheme, network)
    with pytest.raises(matching_services.RequestRefused, match="not listed"):
        matching_services.request_send(
            mentee=other, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )
    with pytest.raises(matching_services.RequestRefused, match="Safeguarding eLearning expired"):
        matching_services.request_accept(request_id=waiting.pk, mentor=mentor, declaration=NO_CONFLICT)
    # A mentee whose membership lapsed cannot ask either.
    listed = factories.listed_mentor(scheme, network)
    type(other).objects.filter(pk=other.pk).update(membership_expires_on=yesterday(other))
    other.refresh_from_db()
    with pytest.raises(matching_services.RequestRefused, match="membership has lapsed"):
        matching_services.request_send(
            mentee=other, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )


def test_running_pairings_continue_and_nothing_is_deleted(paired_mentor):
    mentor, pairing = paired_mentor
    lapse_training(mentor)
    counts = (TrainingRecord.objects.count(), SchemeMembership.objects.count(), Pairing.objects.count())
    sweep.eligibility_sweep()
    assert (TrainingRecord.objects.count(), SchemeMembership.objects.count(), Pairing.objects.count()) == counts
    pairing.refresh_from_db()
    assert pairing.status == Pairing.Status.ACTIVE
    assert set(SchemeMembership.objects.filter(user=mentor).values_list("status", flat=True)) == {"active"}
    mentoring_messages.message_send(conversation_id=pairing.conversation.pk, sender=mentor, body="Still here.")
    assert Message.objects.filter(sender=mentor).count() == 1


def test_a_lapsed_professional_membership_is_told_once(paired_mentor, coordinator):
    # R-ELIG-2: a lapse suspends participation
    mentor, _ = paired_mentor
    services.membership_check_record(
        member_id=mentor.pk, actor=coordinator, changes={"membership_status": MembershipStatus.LAPSED}
    )
    sweep.eligibility_sweep()
    sweep.eligibility_sweep()
    (note,) = told(mentor, "eligibility_lapsed")
    assert "Your membership has lapsed" in note.body
    (to_coordinator,) = told(coordinator, "eligibility_lapsed_coordinator")
    assert "Active membership" in to_coordinator.body


def test_an_expired_dbs_check_is_told_to_the_coordinator_in_neutral_words(documents, dbs_scheme, network, coordinator):
    # R-ELIG-4, R-SAFE-3: the member reads why; the coordinator never reads DBS data
    mentor = factories.listed_mentor(dbs_scheme, network)
    check = factories.DBSCheckFactory(user=mentor, cleared_on=local_today(mentor.time_zone) - 3 * 366 * DAY)
    sweep.eligibility_sweep()
    check.refresh_from_db()
    assert check.status == DBSCheck.Status.EXPIRED
    (note,) = told(mentor, "eligibility_lapsed")
    assert "needs a DBS check renewed every 3 years; yours has expired" in note.body
    (to_coordinator,) = told(coordinator, "eligibility_lapsed_coordinator")
    assert "DBS" not in f"{to_coordinator.title} {to_coordinator.body}"
    assert "A check that scheme staff handle is not complete" in to_coordinator.body


def test_a_renewal_closes_the_lapse_and_a_later_lapse_is_told_afresh(paired_mentor, coordinator):
    mentor, _ = paired_mentor
    lapse_training(mentor)
    sweep.eligibility_sweep()
    services.training_record_save(
        record=TrainingRecord(
            user=mentor,
            kind=TrainingKind.SAFEGUARDING_ELEARNING,
            completed_on=local_today(mentor.time_zone),
            expires_on=local_today(mentor.time_zone) + 700 * DAY,
        ),
        actor=coordinator,
    )
    sweep.eligibility_sweep()
    lapse = EligibilityLapse.objects.get()
    assert lapse.ended_on == local_today(mentor.time_zone)
    lapse_training(mentor)  # the renewal runs out too, later
    sweep.eligibility_sweep()
    assert len(told(mentor, "eligibility_lapsed")) == 2
    assert EligibilityLapse.objects.filter(ended_on__isnull=True).count() == 1


def test_members_still_onboarding_or_paused_are_not_told(documents, scheme, network, coordinator):
    for status in (SchemeMembership.Status.PENDING, SchemeMembership.Status.PAUSED):
        member = factories.UserFactory(membership_expires_on=timezone.localdate() - 10 * DAY)
        factories.accept_current_documents(member)
        factories.MembershipFactory(user=member, scheme=scheme, network=network, role=Role.MENTEE, status=status)
    assert sweep.eligibility_sweep() == 0
    assert not Notification.objects.filter(kind__startswith="eligibility_lapsed").exists()


def test_the_sweep_reads_the_engine_and_no_rules_of_its_own(paired_mentor, monkeypatch):
    # DESIGN: one eligibility engine. With the engine saying "eligible", the sweep finds nothing to tell.
    mentor, _ = paired_mentor
    lapse_training(mentor)
    monkeypatch.setattr(sweep.eligibility, "eligible_users", lambda scheme, role: type(mentor).objects.all())
    assert sweep.eligibility_sweep() == 0
