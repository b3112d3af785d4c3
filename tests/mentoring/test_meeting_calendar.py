"""Meetings as iCalendar: a file per meeting and a private feed per member, read back with vobject, a parser
that shares no code with the icalendar package that wrote them (R-PAIR-2)."""

import datetime

import pytest
import vobject
from django.urls import reverse

from mentoring import meetings
from mentoring.models import CalendarFeed, Meeting, Pairing
from tests import factories

UTC = datetime.UTC


@pytest.fixture
def pairing(mentor, mentee, scheme, network):
    mentee.time_zone = "America/New_York"
    mentee.save()
    return Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)


def agreed(pairing, local: datetime.datetime, link: str = "https://meet.example.org/abc") -> Meeting:
    meeting = meetings.meeting_propose(
        pairing_id=pairing.pk, actor=pairing.mentor, starts_local=local, duration_minutes=45, video_link=link
    )
    return meetings.meeting_accept(meeting_id=meeting.pk, actor=pairing.mentee)


def parse(response) -> vobject.base.Component:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "iCalendar lines end with CRLF"
    return vobject.readOne(raw.decode("utf-8"))


def feed_url(client, user) -> str:
    client.force_login(user)
    assert "Make my calendar address" in client.get(reverse("calendar_page")).content.decode()
    assert client.post(reverse("calendar_revoke")).status_code == 302
    page = client.get(reverse("calendar_page"))
    token = CalendarFeed.objects.get(user=user).token
    assert token in page.content.decode()
    client.logout()
    return reverse("calendar_feed", args=[token])


def test_a_meeting_downloads_as_an_ics_file_with_its_utc_time(client, pairing):
    # 10:00 London in January is 10:00 UTC.
    meeting = agreed(pairing, datetime.datetime(2027, 1, 4, 10))
    client.force_login(pairing.mentee)
    calendar = parse(client.get(reverse("meeting_ics", args=[meeting.pk])))
    event = calendar.vevent
    assert event.dtstart.value == datetime.datetime(2027, 1, 4, 10, tzinfo=UTC)
    assert event.dtend.value == datetime.datetime(2027, 1, 4, 10, 45, tzinfo=UTC)
    assert event.uid.value == f"{meeting.uid}@mentoring"
    assert event.summary.value == f"Mentoring with {pairing.mentor.first_name}"
    assert "https://meet.example.org/abc" in event.description.value
    assert event.status.value == "CONFIRMED"
    assert calendar.version.value == "2.0" and calendar.prodid.value


def test_the_feed_lists_agreed_meetings_with_stable_ids_and_a_rising_sequence(client, pairing):
    # R-PAIR-2: a calendar app subscribes to the feed without signing in; the token is the key.
    summer = agreed(pairing, datetime.datetime(2027, 7, 1, 14))  # BST: 13:00 UTC
    winter = agreed(pairing, datetime.datetime(2027, 1, 4, 10))
    meetings.meeting_propose(  # only proposed: not in the feed
        pairing_id=pairing.pk,
        actor=pairing.mentor,
        starts_local=datetime.datetime(2027, 2, 1, 9),
        duration_minutes=30,
    )
    url = feed_url(client, pairing.mentee)
    calendar = parse(client.get(url))
    assert calendar.method.value == "PUBLISH"
    events = {e.uid.value: e for e in calendar.vevent_list}
    assert set(events) == {f"{summer.uid}@mentoring", f"{winter.uid}@mentoring"}
    assert events[f"{summer.uid}@mentoring"].dtstart.value == datetime.datetime(2027, 7, 1, 13, tzinfo=UTC)
    assert events[f"{winter.uid}@mentoring"].dtstart.value == datetime.datetime(2027, 1, 4, 10, tzinfo=UTC)
    first_sequence = int(events[f"{summer.uid}@mentoring"].sequence.value)
    assert events[f"{summer.uid}@mentoring"].url.value.endswith(f"/pairings/{pairing.pk}/#meetings")

    # Cancelled: the same UID, now CANCELLED, with a higher SEQUENCE so calendars replace it.
    meetings.meeting_cancel(meeting_id=summer.pk, actor=pairing.mentor)
    events = {e.uid.value: e for e in parse(client.get(url)).vevent_list}
    again = events[f"{summer.uid}@mentoring"]
    assert again.status.value == "CANCELLED"
    assert int(again.sequence.value) > first_sequence


def test_a_revoked_feed_address_is_not_found_and_the_new_one_works(client, pairing):
    # R-PAIR-2: revoking makes a new secret; the old address stops at once.
    agreed(pairing, datetime.datetime(2027, 1, 4, 10))
    old = feed_url(client, pairing.mentee)
    client.force_login(pairing.mentee)
    assert client.post(reverse("calendar_revoke")).status_code == 302
    client.logout()
    assert client.get(old).status_code == 404
    new = reverse("calendar_feed", args=[CalendarFeed.objects.get(user=pairing.mentee).token])
    assert new != old
    assert len(parse(client.get(new)).vevent_list) == 1


def test_an_unknown_feed_token_is_not_found(client, db):
    assert client.get(reverse("calendar_feed", args=["not-a-real-token"])).status_code == 404


def test_a_meeting_file_is_only_for_the_two_members(client, pairing):
    meeting = agreed(pairing, datetime.datetime(2027, 1, 4, 10))
    client.force_login(factories.UserFactory())
    assert client.get(reverse("meeting_ics", args=[meeting.pk])).status_code == 404


def test_a_feed_shows_only_its_owners_meetings(client, pairing, scheme, network):
    # The token opens one member's meetings, never those of other pairings.
    ours = agreed(pairing, datetime.datetime(2027, 1, 4, 10))
    other_mentor = factories.listed_mentor(scheme, network)
    other_mentee = factories.eligible_mentee(scheme, network)
    theirs = agreed(
        Pairing.objects.create(scheme=scheme, mentor=other_mentor, mentee=other_mentee, network=network),
        datetime.datetime(2027, 1, 5, 10),
    )
    uids = {e.uid.value for e in parse(client.get(feed_url(client, pairing.mentee))).vevent_list}
    assert uids == {f"{ours.uid}@mentoring"}
    assert f"{theirs.uid}@mentoring" not in uids
