"""Meetings: proposed in one member's zone, shown in the other's, answered by the right side (R-PAIR-2)."""

import datetime
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mentoring import meetings
from mentoring.models import Meeting, Pairing
from messaging.models import Notification
from tests import factories

UTC = datetime.UTC


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def pairing(mentor, mentee, scheme, network):
    # The mentor is in London, the mentee in New York.
    mentee.time_zone = "America/New_York"
    mentee.save()
    return Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)


def propose(pairing, actor, local: str, **extra) -> Meeting:
    return meetings.meeting_propose(
        pairing_id=pairing.pk,
        actor=actor,
        starts_local=datetime.datetime.fromisoformat(local),
        duration_minutes=extra.pop("duration_minutes", 60),
        **extra,
    )


def page_text(client, user, pairing) -> str:
    client.force_login(user)
    response = client.get(reverse("pairing_detail", args=[pairing.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("local", "utc_hour", "london", "new_york"),
    [
        # 27 March: London still on GMT, New York already on EDT (US clocks changed on 8 March): 4 hours apart.
        ("2026-03-27T14:00", 14, "14:00 GMT", "10:00 EDT"),
        # 30 March, the day after the UK change: London on BST, 5 hours ahead of New York.
        ("2026-03-30T14:00", 13, "14:00 BST", "09:00 EDT"),
    ],
)
def test_a_time_proposed_in_london_shows_the_right_hour_in_new_york_across_the_uk_clock_change(
    client, pairing, local, utc_hour, london, new_york
):
    # R-PAIR-2: typed in the proposer's zone, stored in UTC, shown to each in their own zone.
    with frozen(at(2026, 3, 20, 12)):
        meeting = propose(pairing, pairing.mentor, local)
        assert meeting.starts_at == at(2026, 3, int(local[8:10]), utc_hour)
        assert f"{london}</strong>" in page_text(client, pairing.mentor, pairing)
        assert f"{new_york}</strong>" in page_text(client, pairing.mentee, pairing)
    note = Notification.objects.get(user=pairing.mentee, kind="meeting_proposed")
    assert new_york in note.body


def test_the_propose_form_reads_the_time_in_the_proposers_own_zone(client, pairing):
    # R-PAIR-2: the mentee in New York types 09:00 on 30 March: that is 13:00 UTC.
    with frozen(at(2026, 3, 20, 12)):
        client.force_login(pairing.mentee)
        response = client.post(
            reverse("meeting_propose", args=[pairing.pk]),
            {"starts_local": "2026-03-30T09:00", "duration_minutes": "45", "video_link": "https://meet.example.org/x"},
        )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.starts_at, meeting.duration_minutes, meeting.proposed_by) == (
        at(2026, 3, 30, 13),
        45,
        pairing.mentee,
    )


def test_a_time_in_the_past_is_refused_with_a_clear_message(client, pairing):
    # R-PAIR-2
    client.force_login(pairing.mentor)
    response = client.post(
        reverse("meeting_propose", args=[pairing.pk]), {"starts_local": "2020-01-01T10:00", "duration_minutes": "60"}
    )
    assert response.status_code == 400
    assert "That time has already passed" in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_time_the_clocks_skip_is_refused(pairing):
    # 01:30 on 29 March 2026 does not exist in London.
    with frozen(at(2026, 3, 20, 12)), pytest.raises(meetings.MeetingRefused, match="does not exist"):
        propose(pairing, pairing.mentor, "2026-03-29T01:30")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("starts_local", "next tuesday-ish", "Enter a date and time"),
        ("duration_minutes", "0", "greater than or equal to 5"),
        ("duration_minutes", "1000", "less than or equal to 480"),
        ("video_link", "javascript:alert(1)", "Enter a web address starting https://"),
    ],
)
def test_bad_input_gives_a_form_error_and_writes_nothing(client, pairing, field, value, message):
    client.force_login(pairing.mentor)
    data = {"starts_local": "2027-01-04T10:00", "duration_minutes": "60", "video_link": "", field: value}
    response = client.post(reverse("meeting_propose", args=[pairing.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Meeting.objects.exists()


def test_only_the_partner_of_the_proposer_answers(pairing):
    # R-PAIR-2: the proposer cannot accept or decline their own proposal.
    meeting = propose(pairing, pairing.mentor, "2027-01-04T10:00")
    for service in (meetings.meeting_accept, meetings.meeting_decline):
        with pytest.raises(PermissionDenied):
            service(meeting_id=meeting.pk, actor=pairing.mentor)
    meetings.meeting_accept(meeting_id=meeting.pk, actor=pairing.mentee)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.sequence) == (Meeting.Status.ACCEPTED, 1)
    assert Notification.objects.filter(user=pairing.mentor, kind="meeting_accepted").exists()
    with pytest.raises(meetings.MeetingRefused, match="already accepted"):
        meetings.meeting_decline(meeting_id=meeting.pk, actor=pairing.mentee)


def test_the_proposer_posting_accept_gets_403_and_nothing_changes(client, pairing):
    meeting = propose(pairing, pairing.mentor, "2027-01-04T10:00")
    client.force_login(pairing.mentor)
    assert client.post(reverse("meeting_accept", args=[meeting.pk])).status_code == 403
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PROPOSED


def test_decline_tells_the_proposer(pairing):
    meeting = propose(pairing, pairing.mentor, "2027-01-04T10:00")
    meetings.meeting_decline(meeting_id=meeting.pk, actor=pairing.mentee)
    assert Meeting.objects.get().status == Meeting.Status.DECLINED
    assert Notification.objects.filter(user=pairing.mentor, kind="meeting_declined").exists()


def test_another_time_replaces_the_old_proposal_and_keeps_it(pairing):
    # R-PAIR-2: propose another time; the old one is kept, marked as replaced.
    old = propose(pairing, pairing.mentor, "2027-01-04T10:00")
    meetings.meeting_accept(meeting_id=old.pk, actor=pairing.mentee)
    new = meetings.meeting_reschedule(
        meeting_id=old.pk,
        actor=pairing.mentee,
        starts_local=datetime.datetime(2027, 1, 5, 9),
        duration_minutes=30,
    )
    old.refresh_from_db()
    assert old.status == Meeting.Status.SUPERSEDED and old.sequence == 2
    assert (new.replaces, new.proposed_by, new.status) == (old, pairing.mentee, Meeting.Status.PROPOSED)
    # Now the mentor answers the mentee's new time.
    meetings.meeting_accept(meeting_id=new.pk, actor=pairing.mentor)
    assert Notification.objects.filter(user=pairing.mentor, kind="meeting_rescheduled").exists()


def test_either_side_cancels_before_the_start_but_not_after(pairing):
    with frozen(at(2026, 3, 20, 12)):
        meeting = propose(pairing, pairing.mentor, "2026-03-30T14:00")
        meetings.meeting_accept(meeting_id=meeting.pk, actor=pairing.mentee)
    with frozen(at(2026, 3, 30, 13, 30)), pytest.raises(meetings.MeetingRefused, match="not started yet"):
        meetings.meeting_cancel(meeting_id=meeting.pk, actor=pairing.mentee)
    with frozen(at(2026, 3, 21)):
        meetings.meeting_cancel(meeting_id=meeting.pk, actor=pairing.mentee)
    assert Meeting.objects.get().status == Meeting.Status.CANCELLED
    assert Notification.objects.filter(user=pairing.mentor, kind="meeting_cancelled").exists()


def test_a_meeting_is_marked_held_only_once_its_time_has_come(pairing):
    # R-PAIR-2: after its time, either side marks it held or missed, and who marked it is kept.
    with frozen(at(2026, 3, 20, 12)):
        meeting = propose(pairing, pairing.mentor, "2026-03-30T14:00")
        meetings.meeting_accept(meeting_id=meeting.pk, actor=pairing.mentee)
        with pytest.raises(meetings.MeetingRefused, match="once its time has come"):
            meetings.meeting_mark(meeting_id=meeting.pk, actor=pairing.mentee, held=True)
    with frozen(at(2026, 3, 30, 13, 5)):
        meetings.meeting_mark(meeting_id=meeting.pk, actor=pairing.mentee, held=True)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.marked_by) == (Meeting.Status.HELD, pairing.mentee)


def test_a_proposal_never_accepted_cannot_be_marked(pairing):
    with frozen(at(2026, 3, 20, 12)):
        meeting = propose(pairing, pairing.mentor, "2026-03-30T14:00")
    with frozen(at(2026, 4, 1)), pytest.raises(meetings.MeetingRefused, match="Only an agreed meeting"):
        meetings.meeting_mark(meeting_id=meeting.pk, actor=pairing.mentor, held=False)


def test_an_ended_pairing_takes_no_new_meetings(pairing):
    Pairing.objects.filter(pk=pairing.pk).update(status=Pairing.Status.ENDED)
    with pytest.raises(meetings.MeetingRefused, match="has ended"):
        propose(pairing, pairing.mentor, "2027-01-04T10:00")


def test_another_persons_meeting_is_not_found(client, pairing):
    meeting = propose(pairing, pairing.mentor, "2027-01-04T10:00")
    client.force_login(factories.UserFactory())
    for name in ("meeting_accept", "meeting_decline", "meeting_cancel", "meeting_held", "meeting_missed"):
        assert client.post(reverse(name, args=[meeting.pk])).status_code == 404
    assert client.get(reverse("meeting_reschedule", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("meeting_ics", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("meeting_propose", args=[pairing.pk])).status_code == 404
    assert Meeting.objects.get().status == Meeting.Status.PROPOSED


def test_the_pages_move_a_meeting_and_mark_it_held(client, pairing):
    # R-PAIR-2: "propose another time" through its form, then accept and mark through the page's buttons.
    with frozen(at(2026, 3, 20, 12)):
        meeting = propose(pairing, pairing.mentor, "2026-03-30T14:00")
        client.force_login(pairing.mentee)
        page = client.get(reverse("meeting_reschedule", args=[meeting.pk]))
        assert page.status_code == 200 and "In your time zone, America/New_York." in page.content.decode()
        response = client.post(
            reverse("meeting_reschedule", args=[meeting.pk]),
            {"starts_local": "2026-03-31T08:00", "duration_minutes": "30"},
        )
        assert response.status_code == 302
        new = Meeting.objects.get(replaces=meeting)
        assert new.starts_at == at(2026, 3, 31, 12)  # 08:00 EDT
        client.force_login(pairing.mentor)
        assert "Waiting for your answer" in page_text(client, pairing.mentor, pairing)
        client.post(reverse("meeting_accept", args=[new.pk]))
    with frozen(at(2026, 3, 31, 13)):
        context = meetings.meetings_for_pairing(pairing, pairing.mentor)
        assert context["to_mark"] == [new] and context["next_meeting"] is None
        client.force_login(pairing.mentor)
        client.post(reverse("meeting_held", args=[new.pk]))
    new.refresh_from_db()
    assert (new.status, new.marked_by) == (Meeting.Status.HELD, pairing.mentor)
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.SUPERSEDED


def test_a_refused_action_says_why_on_the_pairing_page(client, pairing):
    meeting = propose(pairing, pairing.mentor, "2027-01-04T10:00")
    client.force_login(pairing.mentee)
    response = client.post(reverse("meeting_held", args=[meeting.pk]), follow=True)
    assert "Only an agreed meeting can be marked" in response.content.decode()
    assert Meeting.objects.get().status == Meeting.Status.PROPOSED
