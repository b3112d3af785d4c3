"""Training events (R-COORD-3, R-ELIG-3): coordinators put on events of the catalogue's courses in their own Local
Networks, members book and cancel a place, the coordinator marks who attended, which records the training.

Reminders go out before a training record expires, once per record and stage.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import local_today, time_zone_names
from mentoring import permissions
from mentoring.models import SchemeMembership
from messaging.services import notify
from safeguarding import eligibility
from safeguarding.audit import audit
from safeguarding.models import (
    TrainingBooking,
    TrainingEvent,
    TrainingExpiryReminder,
    TrainingRecord,
)
from safeguarding.services import training_record_save

Booking = TrainingBooking.Status
EXPIRY_NOTICE_DAYS = 30


class BookingRefused(ValidationError):
    """The booking cannot be made or cancelled; the message says why in plain words."""


# --- Reads ------------------------------------------------------------------------------------


def member_network_ids(member) -> set[int]:
    """The Local Networks a member belongs to (any scheme and role, not withdrawn): whose events they see."""
    return set(
        SchemeMembership.objects.filter(user=member)
        .exclude(status=SchemeMembership.Status.WITHDRAWN)
        .values_list("network_id", flat=True)
    )


def events_for_member(member):
    """Every event of the member's networks (past ones too: a booking's event must stay reachable)."""
    return TrainingEvent.objects.filter(network_id__in=member_network_ids(member))


def upcoming_events(member, *, now: datetime.datetime | None = None):
    """Events of the member's networks that have not started, with their places taken, soonest first."""
    now = now or timezone.now()
    return (
        events_for_member(member)
        .filter(starts_at__gt=now)
        .select_related("course", "network")
        .annotate(taken=Count("bookings", filter=Q(bookings__status__in=TrainingBooking.HOLDS_A_PLACE)))
        .order_by("starts_at", "pk")
    )


def bookings_of(member):
    return (
        TrainingBooking.objects.filter(member=member)
        .select_related("event__course", "event__network")
        .order_by("-event__starts_at")
    )


def places_taken(event: TrainingEvent) -> int:
    return event.bookings.filter(status__in=TrainingBooking.HOLDS_A_PLACE).count()


# --- Events, by coordinators ------------------------------------------------------------------


def event_problems(event: TrainingEvent, *, now: datetime.datetime | None = None) -> None:
    """Why the event cannot be saved as it is (a ValidationError by field), for the admin's form and the service."""
    now = now or timezone.now()
    errors = {}
    if event.course_id is not None and not event.course.has_events:
        errors["course"] = f"{event.course} is done online at the member's own pace: it has no events."
    if event.starts_at and event.ends_at and event.ends_at <= event.starts_at:
        errors["ends_at"] = "The event must end after it starts."
    if event.starts_at and event.pk is None and event.starts_at <= now:
        errors["starts_at"] = "A new event must start in the future."
    if event.pk is not None and event.capacity is not None:
        taken = places_taken(event)
        if event.capacity < taken:
            errors["capacity"] = f"{taken} places are booked already: the event needs at least that many."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def training_event_save(*, event: TrainingEvent, actor) -> TrainingEvent:
    """A coordinator of the event's network, or staff, adds or changes an event; audited."""
    if event.pk is not None:
        stored = TrainingEvent.objects.select_for_update().get(pk=event.pk)  # bookings wait while places change
        permissions.require(
            permissions.covers_network(actor, stored.network_id), "This event is in a network you do not coordinate."
        )
    permissions.require(
        permissions.covers_network(actor, event.network_id), "You can add events only to networks you coordinate."
    )
    event_problems(event)
    created = event.pk is None
    if created:
        event.created_by = actor
    event.full_clean()
    event.save()
    audit(
        actor=actor,
        action="training_event.added" if created else "training_event.changed",
        obj=event,
        network=event.network.name,
        starts_at=event.starts_at.isoformat(),
        capacity=event.capacity,
    )
    return event


# --- Bookings, by members ---------------------------------------------------------------------


def _event_for_booking(member, event_id: int) -> TrainingEvent:
    """The event, locked, if it is in one of the member's networks; otherwise TrainingEvent.DoesNotExist."""
    return (
        events_for_member(member).select_for_update(of=("self",)).select_related("course", "network").get(pk=event_id)
    )


@transaction.atomic(durable=True)
def training_event_book(*, event_id: int, member, now: datetime.datetime | None = None) -> TrainingBooking:
    """Book a place. The event's row is locked, so two members cannot both take its last place.

    Refused with a plain message, writing nothing, when the event has started, is full, or the member has
    a place already. An event outside the member's networks raises TrainingEvent.DoesNotExist (404).
    """
    now = now or timezone.now()
    event = _event_for_booking(member, event_id)
    booking = TrainingBooking.objects.filter(event=event, member=member).first()
    if booking is not None and booking.status == Booking.BOOKED:
        raise BookingRefused("You have already booked a place on this event.")
    if booking is not None and booking.status == Booking.ATTENDED:
        raise BookingRefused("You attended this event already.")
    if event.starts_at <= now:
        raise BookingRefused("This event has already started: choose another date.")
    if places_taken(event) >= event.capacity:
        raise BookingRefused("This event is full. Choose another date, or ask your coordinator about more places.")
    if booking is None:
        booking = TrainingBooking.objects.create(event=event, member=member, booked_at=now)
    else:
        booking.status, booking.booked_at, booking.cancelled_at = Booking.BOOKED, now, None
        booking.save(update_fields=["status", "booked_at", "cancelled_at"])
    audit(actor=member, action="training.booked", target_user=member, obj=event)
    return booking


def _own_booking(member, booking_id: int) -> TrainingBooking:
    return (
        TrainingBooking.objects.select_for_update(of=("self",))
        .select_related("event__course", "event__network")
        .get(pk=booking_id, member=member)
    )


@transaction.atomic(durable=True)
def training_booking_cancel(*, booking_id: int, member, now: datetime.datetime | None = None) -> TrainingBooking:
    """Give a place back before the event starts. Another member's booking raises TrainingBooking.DoesNotExist."""
    now = now or timezone.now()
    booking = _own_booking(member, booking_id)
    if booking.status == Booking.CANCELLED:
        raise BookingRefused("This booking is already cancelled.")
    if booking.status == Booking.ATTENDED:
        raise BookingRefused("You attended this event: there is nothing to cancel.")
    if booking.event.starts_at <= now:
        raise BookingRefused("This event has started: ask your coordinator if you could not attend.")
    booking.status, booking.cancelled_at = Booking.CANCELLED, now
    booking.save(update_fields=["status", "cancelled_at"])
    audit(actor=member, action="training.booking_cancelled", target_user=member, obj=booking.event)
    return booking


# --- Attendance, by coordinators --------------------------------------------------------------


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name) if name in time_zone_names() else timezone.get_default_timezone()


@transaction.atomic
def training_attendance_mark(*, booking_id: int, actor, now: datetime.datetime | None = None) -> TrainingRecord:
    """A coordinator of the event's network, or staff, marks a booked member as having attended: the training
    record is written through training_record_save (dated the day the event ended where the member is; its
    expiry from the course's validity), so the member's checklist updates at once."""
    now = now or timezone.now()
    booking = (
        TrainingBooking.objects.select_for_update(of=("self",))
        .select_related("event__course", "event__network", "member")
        .get(pk=booking_id)
    )
    event, member = booking.event, booking.member
    permissions.require(
        permissions.covers_network(actor, event.network_id), "This event is in a network you do not coordinate."
    )
    if booking.status == Booking.ATTENDED:
        raise BookingRefused(f"{member.get_full_name()} is marked as attended already.")
    if booking.status == Booking.CANCELLED:
        raise BookingRefused(f"{member.get_full_name()} cancelled their booking.")
    if event.starts_at > now:
        raise BookingRefused("Mark attendance once the event has started.")
    completed_on = min(event.ends_at.astimezone(_zone(member.time_zone)).date(), local_today(member.time_zone, at=now))
    course = event.course
    expires_on = eligibility.years_after(completed_on, course.validity_years) if course.validity_years else None
    record = TrainingRecord(
        user=member,
        kind=course.kind,
        course=course,
        completed_on=completed_on,
        expires_on=expires_on,
        notes=f"{course.name}, {event.network.name}, {date_format(completed_on, 'j F Y')}"[:200],
    )
    training_record_save(record=record, actor=actor)
    booking.status, booking.attended_at, booking.marked_by, booking.training_record = (
        Booking.ATTENDED,
        now,
        actor,
        record,
    )
    booking.save(update_fields=["status", "attended_at", "marked_by", "training_record"])
    return record


# --- The reminder job -------------------------------------------------------------------------


def training_expiry_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """The daily job: remind each member whose training record expires within 30 days (judged on their own date)
    and who has not renewed it. Once per record and stage, whatever the retries. Returns how many were sent."""
    now = now or timezone.now()
    utc_today = timezone.localdate(now)
    due = TrainingRecord.objects.filter(
        expires_on__gte=utc_today - datetime.timedelta(days=1),
        expires_on__lte=utc_today + datetime.timedelta(days=EXPIRY_NOTICE_DAYS + 1),
    ).exclude(expiry_reminders__stage=TrainingExpiryReminder.Stage.EXPIRY_30)
    sent = 0
    for pk in list(due.values_list("pk", flat=True)):
        sent += _remind_expiry(pk, now)
    return sent


@transaction.atomic
def _remind_expiry(pk: int, now: datetime.datetime) -> int:
    record = TrainingRecord.objects.select_for_update(of=("self",)).select_related("user").get(pk=pk)
    today = local_today(record.user.time_zone, at=now)
    if not today <= record.expires_on <= today + datetime.timedelta(days=EXPIRY_NOTICE_DAYS):
        return 0
    renewed = TrainingRecord.objects.filter(user=record.user_id, kind=record.kind).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=record.expires_on)
    )
    if renewed.exists():
        return 0
    stage = TrainingExpiryReminder.Stage.EXPIRY_30
    if TrainingExpiryReminder.objects.filter(record=record, stage=stage).exists():
        return 0  # sent by another run
    TrainingExpiryReminder.objects.create(record=record, stage=stage, sent_at=now)
    notify(
        record.user,
        "training_expiring",
        record,
        body=f"Your {record.kind_label} is current until {date_format(record.expires_on, 'j F Y')}. "
        "Book a refresher so you can go on mentoring.",
        url=reverse("training_events"),
    )
    return 1
