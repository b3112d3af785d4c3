"""Meetings of a pairing: propose, answer, reschedule, cancel, mark; reminders, inactivity nudges and the
members' calendar feeds (R-PAIR-2, R-PAIR-6).

Times come in as the proposer types them (a naive local date-time in their own time zone) and are
stored in UTC; every message states the time in its recipient's zone.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from icalendar import Calendar, Event

from mentoring.models import CalendarFeed, InactivityNudge, Meeting, MeetingReminder, Pairing, Scheme
from mentoring.models.meetings import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, new_feed_token, validate_video_link
from messaging.services import notify, notify_many

# How far ahead a meeting may be proposed, and how far back a calendar feed reaches.
LATEST_PROPOSAL = datetime.timedelta(days=366)
FEED_HISTORY = datetime.timedelta(days=90)
# The reminder goes out once a meeting is this close; the job runs hourly, so about a day before.
REMINDER_AHEAD = datetime.timedelta(hours=24)
# What a member of a paused pairing reads (a member is suspended: neither is told why).
PAUSED = "Your mentoring is paused for now, so no meetings can be arranged. The scheme will be in touch."
PRODID = "-//Mentoring platform//Meetings//EN"


class MeetingRefused(ValidationError):
    """The meeting cannot be proposed or changed; the message says why in plain words."""


def zone_of(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def local_time_text(moment: datetime.datetime, user) -> str:
    """`moment` as `user` reads it, with their zone's abbreviation: "Monday 30 March 2026, 14:00 BST"."""
    return format_date(moment.astimezone(zone_of(user)), "l j F Y, H:i T")


def to_utc(local: datetime.datetime, user) -> datetime.datetime:
    """A naive date-time typed by `user` in their own zone, in UTC. A time the clocks skip is refused."""
    if timezone.is_aware(local):
        return local.astimezone(datetime.UTC)
    zone = zone_of(user)
    aware = local.replace(tzinfo=zone)
    try:
        as_utc = aware.astimezone(datetime.UTC)
        back = as_utc.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        # A time at either end of the calendar (year 1, year 9999) falls off it in UTC.
        raise MeetingRefused("Choose a time within the next year.", code="too_far") from None
    if back != local:
        raise MeetingRefused(
            f"{local:%H:%M} does not exist on {local:%d %B %Y} in {zone.key}: the clocks go forward then. "
            "Choose another time.",
            code="skipped_time",
        )
    return as_utc


def _partner(pairing: Pairing, user):
    return pairing.mentee if pairing.mentor_id == user.pk else pairing.mentor


def _meeting_for(actor, meeting_id: int) -> Meeting:
    """The meeting, locked, if `actor` is one of its pairing's two members; 404 for anyone else."""
    return get_object_or_404(
        Meeting.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("pairing__mentor", "pairing__mentee"),
        pk=meeting_id,
    )


def _check_time(starts_at: datetime.datetime, duration_minutes: int, video_link: str, now) -> None:
    if starts_at <= now:
        raise MeetingRefused("That time has already passed: choose a time in the future.", code="past")
    if starts_at > now + LATEST_PROPOSAL:
        raise MeetingRefused("Choose a time within the next year.", code="too_far")
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        raise MeetingRefused(
            f"A meeting lasts between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} minutes.", code="duration"
        )
    if video_link:
        validate_video_link(video_link)


def _tell(user, kind: str, meeting: Meeting, lead: str = "") -> None:
    when = local_time_text(meeting.starts_at, user)
    body = f"{lead}{when}, {meeting.duration_minutes} minutes."
    notify(user, kind, meeting, body=body)


def _create(*, pairing, actor, starts_local, duration_minutes, video_link, note, replaces=None) -> Meeting:
    now = timezone.now()
    starts_at = to_utc(starts_local, actor)
    _check_time(starts_at, duration_minutes, video_link, now)
    return Meeting.objects.create(
        pairing=pairing,
        proposed_by=actor,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        video_link=video_link,
        note=note,
        replaces=replaces,
        created_at=now,
        changed_at=now,
    )


@transaction.atomic(durable=True)
def meeting_propose(
    *,
    pairing_id: int,
    actor,
    starts_local: datetime.datetime,
    duration_minutes: int,
    video_link: str = "",
    note: str = "",
) -> Meeting:
    """One member of an active pairing proposes a time (typed in their own zone); the partner is told."""
    pairing = get_object_or_404(
        Pairing.objects.visible_to(actor).select_for_update(of=("self",)).select_related("mentor", "mentee"),
        pk=pairing_id,
    )
    if pairing.status != Pairing.Status.ACTIVE:
        raise MeetingRefused("This pairing has ended, so no new meetings can be arranged.", code="ended")
    if pairing.paused_at is not None:
        raise MeetingRefused(PAUSED, code="paused")
    meeting = _create(
        pairing=pairing,
        actor=actor,
        starts_local=starts_local,
        duration_minutes=duration_minutes,
        video_link=video_link,
        note=note,
    )
    _tell(_partner(pairing, actor), "meeting_proposed", meeting, "Proposed for ")
    return meeting


def _answerable(meeting: Meeting, actor) -> None:
    if meeting.proposed_by_id == actor.pk:
        raise PermissionDenied(f"{_partner(meeting.pairing, actor).first_name} answers a time you proposed.")
    if meeting.status != Meeting.Status.PROPOSED:
        raise MeetingRefused(f"This meeting is already {meeting.get_status_display().lower()}.", code="answered")


def _touch(meeting: Meeting, status: str, now, **fields) -> None:
    meeting.status = status
    meeting.sequence += 1
    meeting.changed_at = now
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.save(update_fields=["status", "sequence", "changed_at", *fields])


@transaction.atomic(durable=True)
def meeting_accept(*, meeting_id: int, actor) -> Meeting:
    """The partner of the proposer agrees to the time; the proposer is told."""
    meeting = _meeting_for(actor, meeting_id)
    _answerable(meeting, actor)
    now = timezone.now()
    if meeting.pairing.status != Pairing.Status.ACTIVE:
        raise MeetingRefused("This pairing has ended, so the meeting cannot be agreed.", code="ended")
    if meeting.pairing.paused_at is not None:
        raise MeetingRefused(PAUSED, code="paused")
    if meeting.starts_at <= now:
        raise MeetingRefused("This time has already passed: propose another time instead.", code="past")
    _touch(meeting, Meeting.Status.ACCEPTED, now, accepted_at=now)
    _tell(meeting.proposed_by, "meeting_accepted", meeting, f"{actor.first_name} agreed to meet on ")
    return meeting


@transaction.atomic(durable=True)
def meeting_decline(*, meeting_id: int, actor) -> Meeting:
    """The partner of the proposer declines the time; the proposer is told."""
    meeting = _meeting_for(actor, meeting_id)
    _answerable(meeting, actor)
    _touch(meeting, Meeting.Status.DECLINED, timezone.now())
    _tell(meeting.proposed_by, "meeting_declined", meeting, f"{actor.first_name} cannot meet on ")
    return meeting


@transaction.atomic(durable=True)
def meeting_reschedule(
    *,
    meeting_id: int,
    actor,
    starts_local: datetime.datetime,
    duration_minutes: int,
    video_link: str = "",
    note: str = "",
) -> Meeting:
    """Either member proposes another time for a meeting not yet started. The new proposal replaces the
    old one, which is kept as "replaced by another time"; the partner answers the new one."""
    old = _meeting_for(actor, meeting_id)
    now = timezone.now()
    if old.status not in Meeting.OPEN or old.starts_at <= now:
        raise MeetingRefused("Only a meeting that has not started yet can be moved.", code="closed")
    if old.pairing.status != Pairing.Status.ACTIVE:
        raise MeetingRefused("This pairing has ended, so no new meetings can be arranged.", code="ended")
    if old.pairing.paused_at is not None:
        raise MeetingRefused(PAUSED, code="paused")
    new = _create(
        pairing=old.pairing,
        actor=actor,
        starts_local=starts_local,
        duration_minutes=duration_minutes,
        video_link=video_link,
        note=note,
        replaces=old,
    )
    _touch(old, Meeting.Status.SUPERSEDED, now)
    was = local_time_text(old.starts_at, _partner(old.pairing, actor))
    _tell(_partner(old.pairing, actor), "meeting_rescheduled", new, f"Instead of {was}, now proposed for ")
    return new


@transaction.atomic(durable=True)
def meeting_cancel(*, meeting_id: int, actor) -> Meeting:
    """Either member cancels a proposed or agreed meeting before it starts; the partner is told."""
    meeting = _meeting_for(actor, meeting_id)
    now = timezone.now()
    if meeting.status not in Meeting.OPEN or meeting.starts_at <= now:
        raise MeetingRefused("Only a meeting that has not started yet can be cancelled.", code="closed")
    _touch(meeting, Meeting.Status.CANCELLED, now)
    _tell(_partner(meeting.pairing, actor), "meeting_cancelled", meeting, f"{actor.first_name} cancelled ")
    return meeting


def meetings_cancel_for_pause(pairing: Pairing, now: datetime.datetime) -> int:
    """Cancel a pausing pairing's meetings that have not started (mentoring/suspension.py). Nobody is told of each
    one: the members are told their mentoring is paused. Calendar feeds see the cancellation. Returns how many."""
    upcoming = Meeting.objects.select_for_update().filter(pairing=pairing, status__in=Meeting.OPEN, starts_at__gt=now)
    cancelled = 0
    for meeting in upcoming:
        _touch(meeting, Meeting.Status.CANCELLED, now)
        cancelled += 1
    return cancelled


@transaction.atomic(durable=True)
def meeting_mark(*, meeting_id: int, actor, held: bool) -> Meeting:
    """Either member records, once its time has come, whether an agreed meeting was held or missed."""
    meeting = _meeting_for(actor, meeting_id)
    now = timezone.now()
    if meeting.status != Meeting.Status.ACCEPTED:
        raise MeetingRefused(
            f"Only an agreed meeting can be marked; this one is {meeting.get_status_display().lower()}.",
            code="not_agreed",
        )
    if meeting.starts_at > now:
        raise MeetingRefused("A meeting can be marked held or missed once its time has come.", code="future")
    status = Meeting.Status.HELD if held else Meeting.Status.MISSED
    _touch(meeting, status, now, marked_by=actor, marked_at=now)
    lead = f"{actor.first_name} marked as {meeting.get_status_display().lower()} the meeting of "
    _tell(_partner(meeting.pairing, actor), "meeting_marked", meeting, lead)
    return meeting


# Jobs. Each effect is a row with a unique constraint, written in the same transaction as the
# notification it sends: a second run, or two at once, sends nothing new.


def meeting_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind both members of each agreed meeting starting within the next day. Returns how many were sent."""
    now = now or timezone.now()
    due = Meeting.objects.filter(
        status=Meeting.Status.ACCEPTED,
        starts_at__gt=now,
        starts_at__lte=now + REMINDER_AHEAD,
        pairing__paused_at__isnull=True,
    ).select_related("pairing__mentor", "pairing__mentee")
    sent = 0
    for meeting in due:
        for member in (meeting.pairing.mentor, meeting.pairing.mentee):
            try:
                with transaction.atomic():
                    MeetingReminder.objects.create(meeting=meeting, user=member, sent_at=now)
                    partner = _partner(meeting.pairing, member)
                    _tell(member, "meeting_reminder", meeting, f"You meet {partner.first_name} on ")
            except IntegrityError:
                continue  # reminded already, by an earlier or a parallel run
            sent += 1
    return sent


def last_activity_column():
    """SQL: when a pairing last showed life: its start, the latest meeting proposed, the latest meeting held.

    The one place to add more signs of life: when the messaging issue lands, add the latest message's
    time here (another Coalesce(Max(...), "started_at") argument) and the nudges follow it.
    """
    return Greatest(
        "started_at",
        Coalesce(Max("meetings__created_at"), "started_at"),
        Coalesce(Max("meetings__starts_at", filter=Q(meetings__status=Meeting.Status.HELD)), "started_at"),
        output_field=DateTimeField(),
    )


def inactive_pairings(pairings, *, now: datetime.datetime | None = None):
    """The running pairings among `pairings` quiet for at least their scheme's `inactivity_days` (R-COORD-2): the
    ones whose members the daily job nudges. One small query for the schemes' settings, then one filter in SQL
    (a cutoff for each distinct setting), so the cost never grows with the pairings."""
    now = now or timezone.now()
    settings_in_use = Scheme.objects.order_by().values_list("inactivity_days", flat=True).distinct()
    quiet = Q(pk__in=[])
    for days in settings_in_use:
        quiet |= Q(scheme__inactivity_days=days, last_activity__lte=now - datetime.timedelta(days=days))
    return (
        pairings.filter(status=Pairing.Status.ACTIVE, paused_at__isnull=True)
        .alias(last_activity=last_activity_column())
        .filter(quiet)
    )


def _nudge(pairing: Pairing, level: str, activity_at, now, recipients, kind: str, body: str) -> bool:
    # Members open their pairing page; coordinators reach a pairing through the admin.
    url = "" if level == InactivityNudge.Level.MEMBERS else reverse("admin:mentoring_pairing_change", args=[pairing.pk])
    try:
        with transaction.atomic():
            InactivityNudge.objects.create(pairing=pairing, level=level, activity_at=activity_at, sent_at=now)
            if recipients:
                notify_many(recipients, kind, pairing, body=body, url=url)
    except IntegrityError:
        return False  # this quiet spell was nudged already
    return True


def inactivity_nudges_send(*, now: datetime.datetime | None = None) -> int:
    """Nudge both members of each active pairing quiet for the scheme's `inactivity_days`; at twice that,
    tell the network's coordinators. Once per quiet spell. Returns how many nudges were sent."""
    now = now or timezone.now()
    pairings = (
        Pairing.objects.running()  # a paused pairing is quiet on purpose
        .annotate(last_activity=last_activity_column())
        .select_related("scheme", "mentor", "mentee", "network")
    )
    sent = 0
    for pairing in pairings:
        days = pairing.scheme.inactivity_days
        quiet = now - pairing.last_activity
        if quiet >= datetime.timedelta(days=days):
            body = f"No meeting in the last {days} days. Propose a time that suits you both."
            members = [pairing.mentor, pairing.mentee]
            sent += _nudge(
                pairing, InactivityNudge.Level.MEMBERS, pairing.last_activity, now, members, "pairing_inactive", body
            )
        if quiet >= datetime.timedelta(days=2 * days):
            body = f"{pairing} has had no meeting in {quiet.days} days; both members were reminded."
            coordinators = list(pairing.network.coordinators.all())
            sent += _nudge(
                pairing,
                InactivityNudge.Level.COORDINATORS,
                pairing.last_activity,
                now,
                coordinators,
                "pairing_inactive_coordinator",
                body,
            )
    return sent


# Calendar feeds.


@transaction.atomic(durable=True)
def calendar_feed_revoke(*, user) -> CalendarFeed:
    """The member's secret calendar address: made the first time, replaced after (the old one stops at once)."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    if not created:
        feed.token = new_feed_token()
        feed.created_at = timezone.now()
        feed.save(update_fields=["token", "created_at"])
    return feed


def _event(meeting: Meeting, user, pairing_url: str, stamp: datetime.datetime) -> Event:
    partner = meeting.partner_of(user)
    event = Event()
    event.add("uid", f"{meeting.uid}@mentoring")
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.starts_at.astimezone(datetime.UTC))
    event.add("dtend", meeting.ends_at.astimezone(datetime.UTC))
    event.add("summary", f"Mentoring with {partner.first_name}")
    lines = [f"Video call: {meeting.video_link}"] if meeting.video_link else []
    lines.append(f"Pairing page: {pairing_url}")
    event.add("description", "\n".join(lines))
    event.add("url", pairing_url)
    event.add("sequence", meeting.sequence)
    event.add("last-modified", meeting.changed_at.astimezone(datetime.UTC))
    if meeting.status in Meeting.AGREED:
        event.add("status", "CONFIRMED")
    elif meeting.status == Meeting.Status.PROPOSED:
        event.add("status", "TENTATIVE")
    else:
        event.add("status", "CANCELLED")
    return event


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def meeting_ics(meeting: Meeting, user, absolute_url) -> bytes:
    """One meeting as an iCalendar file for one of its members. `absolute_url(path)` makes a full address."""
    calendar = _calendar("Mentoring")
    pairing_url = absolute_url(meeting.get_absolute_url())
    calendar.add_component(_event(meeting, user, pairing_url, timezone.now().astimezone(datetime.UTC)))
    return calendar.to_ical()


def feed_ics(feed: CalendarFeed, absolute_url) -> bytes:
    """The member's agreed meetings, upcoming and of the last 90 days, and those called off, as a feed."""
    user = feed.user
    now = timezone.now()
    meetings = (
        Meeting.objects.visible_to(user)
        .on_calendar()
        .filter(starts_at__gte=now - FEED_HISTORY)
        .select_related("pairing__mentor", "pairing__mentee")
    )
    calendar = _calendar("Mentoring meetings")
    stamp = now.astimezone(datetime.UTC)
    for meeting in meetings:
        calendar.add_component(_event(meeting, user, absolute_url(meeting.get_absolute_url()), stamp))
    return calendar.to_ical()


# Reads for the pairing page.


def meetings_for_pairing(pairing: Pairing, user) -> dict:
    """What templates/mentoring/_pairing_meetings.html shows `user` (one of the pairing's members):
    the next agreed meeting, proposals waiting for them, their own proposals waiting, meetings to mark
    and the last few past ones."""
    now = timezone.now()
    meetings = list(
        pairing.meetings.filter(
            Q(status__in=Meeting.OPEN) | Q(status__in=[Meeting.Status.HELD, Meeting.Status.MISSED])
        ).select_related("proposed_by", "marked_by")
    )
    upcoming = [m for m in meetings if m.starts_at > now]
    return {
        "pairing": pairing,
        "next_meeting": next((m for m in upcoming if m.status == Meeting.Status.ACCEPTED), None),
        "agreed": [m for m in upcoming if m.status == Meeting.Status.ACCEPTED],
        "waiting_for_you": [m for m in upcoming if m.status == Meeting.Status.PROPOSED and m.proposed_by_id != user.pk],
        "your_proposals": [m for m in upcoming if m.status == Meeting.Status.PROPOSED and m.proposed_by_id == user.pk],
        "to_mark": [m for m in meetings if m.status == Meeting.Status.ACCEPTED and m.starts_at <= now],
        "past": sorted(
            (m for m in meetings if m.status in (Meeting.Status.HELD, Meeting.Status.MISSED)),
            key=lambda m: m.starts_at,
            reverse=True,
        )[:5],
        "can_propose": pairing.status == Pairing.Status.ACTIVE and pairing.paused_at is None,
    }
