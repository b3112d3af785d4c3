"""The daily jobs: a reminder the day before a meeting (R-PAIR-2) and nudges for a quiet pairing (R-PAIR-6).
Each effect is a unique row written with its notification: a second run sends nothing new."""

import datetime
from unittest import mock

import pytest

from mentoring import meetings, tasks
from mentoring.models import InactivityNudge, Meeting, MeetingReminder, Pairing
from messaging.models import Notification
from tests import factories

UTC = datetime.UTC


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def pairing(mentor, mentee, scheme, network):
    return Pairing.objects.create(
        scheme=scheme, mentor=mentor, mentee=mentee, network=network, started_at=at(2026, 1, 1, 9)
    )


def agreed(pairing, local: datetime.datetime) -> Meeting:
    meeting = meetings.meeting_propose(
        pairing_id=pairing.pk, actor=pairing.mentor, starts_local=local, duration_minutes=60
    )
    return meetings.meeting_accept(meeting_id=meeting.pk, actor=pairing.mentee)


def test_a_reminder_goes_to_both_members_the_day_before_and_only_once(pairing):
    # R-PAIR-2
    with frozen(at(2026, 3, 20, 12)):
        meeting = agreed(pairing, datetime.datetime(2026, 3, 30, 14))
        assert meetings.meeting_reminders_send() == 0  # ten days ahead: not yet
    with frozen(at(2026, 3, 29, 14)):
        assert tasks.send_meeting_reminders.apply().get() == 2
        assert meetings.meeting_reminders_send() == 0
    assert set(MeetingReminder.objects.values_list("user", flat=True)) == {pairing.mentor.pk, pairing.mentee.pk}
    assert Notification.objects.filter(kind="meeting_reminder").count() == 2
    assert MeetingReminder.objects.get(user=pairing.mentee).meeting == meeting


def test_a_cancelled_meeting_gets_no_reminder(pairing):
    with frozen(at(2026, 3, 20, 12)):
        meeting = agreed(pairing, datetime.datetime(2026, 3, 30, 14))
        meetings.meeting_cancel(meeting_id=meeting.pk, actor=pairing.mentor)
    with frozen(at(2026, 3, 29, 14)):
        assert meetings.meeting_reminders_send() == 0


def test_a_quiet_pairing_nudges_both_then_the_coordinators_each_once(pairing, network):
    # R-PAIR-6: 30 days (the scheme's default) without a meeting nudges both; 60 tells the coordinators.
    coordinator = factories.UserFactory(is_staff=True)
    network.coordinators.add(coordinator)
    with frozen(at(2026, 1, 30, 9)):
        assert meetings.inactivity_nudges_send() == 0
    with frozen(at(2026, 1, 31, 10)):
        assert tasks.send_inactivity_nudges.apply().get() == 1
        assert meetings.inactivity_nudges_send() == 0
    nudged = set(Notification.objects.filter(kind="pairing_inactive").values_list("user", flat=True))
    assert nudged == {pairing.mentor.pk, pairing.mentee.pk}
    assert not Notification.objects.filter(kind="pairing_inactive_coordinator").exists()
    with frozen(at(2026, 3, 3, 10)):
        assert meetings.inactivity_nudges_send() == 1
        assert meetings.inactivity_nudges_send() == 0
    told = Notification.objects.get(kind="pairing_inactive_coordinator")
    assert told.user == coordinator and told.url == f"/admin/mentoring/pairing/{pairing.pk}/change/"
    assert Notification.objects.filter(kind="pairing_inactive").count() == 2
    assert InactivityNudge.objects.count() == 2


def test_a_meeting_proposed_starts_a_new_quiet_spell(pairing, scheme):
    # R-PAIR-6: activity is the latest of the pairing's start and its meetings (messages join later).
    scheme.inactivity_days = 10
    scheme.save()
    with frozen(at(2026, 1, 12)):
        assert meetings.inactivity_nudges_send() == 1
    with frozen(at(2026, 1, 15)):
        meetings.meeting_propose(
            pairing_id=pairing.pk,
            actor=pairing.mentee,
            starts_local=datetime.datetime(2026, 2, 1, 9),
            duration_minutes=30,
        )
    with frozen(at(2026, 1, 20)):
        assert meetings.inactivity_nudges_send() == 0  # five days since the proposal
    with frozen(at(2026, 1, 26)):
        assert meetings.inactivity_nudges_send() == 1  # a new spell, its own nudge
    assert InactivityNudge.objects.filter(level="members").count() == 2


def test_an_ended_pairing_is_not_nudged(pairing):
    Pairing.objects.filter(pk=pairing.pk).update(status=Pairing.Status.ENDED)
    with frozen(at(2026, 6, 1)):
        assert meetings.inactivity_nudges_send() == 0
