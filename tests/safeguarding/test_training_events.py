"""Training: the catalogue, events coordinators put on in their own networks, booking and cancelling, attendance that
records the training, and reminders before a record expires (R-ELIG-3, R-COORD-3)."""

import datetime
import threading
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Role, SchemeMembership
from messaging.models import Notification
from safeguarding import eligibility, training
from safeguarding.models import (
    TrainingBooking,
    TrainingCourse,
    TrainingEvent,
    TrainingExpiryReminder,
    TrainingKind,
    TrainingRecord,
)
from tests import factories

Booking = TrainingBooking.Status
LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def new_mentor(documents, scheme, network):
    """A mentor of the London network who has done the eLearning but not yet the mentor training."""
    user = factories.UserFactory(first_name="Tomasz", last_name="Nowak")
    factories.accept_current_documents(user)
    factories.TrainingRecordFactory(user=user, kind=TrainingKind.SAFEGUARDING_ELEARNING)
    factories.MembershipFactory(
        user=user, scheme=scheme, network=network, role=Role.MENTOR, status=SchemeMembership.Status.PENDING
    )
    return user


def event_in(network, *, days=14, capacity=12, **fields) -> TrainingEvent:
    starts = timezone.now() + datetime.timedelta(days=days)
    return factories.TrainingEventFactory(
        network=network, starts_at=starts, ends_at=starts + datetime.timedelta(hours=3), capacity=capacity, **fields
    )


def book(client, event):
    return client.post(reverse("training_event_book", args=[event.pk]))


# --- The catalogue ----------------------------------------------------------------------------


def test_the_catalogue_holds_the_schemes_courses(db):
    # R-ELIG-3, R-COORD-3: Safeguarding eLearning; mentor training as online programme, workshop or one-day course
    courses = {c.delivery: c for c in TrainingCourse.objects.all()}
    assert courses["elearning"].kind == TrainingKind.SAFEGUARDING_ELEARNING
    assert courses["elearning"].validity_years == 3
    for delivery in ("online_programme", "workshop", "one_day_course"):
        assert courses[delivery].kind == TrainingKind.MENTOR_TRAINING
    assert not courses["elearning"].has_events


# --- Events, by coordinators ------------------------------------------------------------------


def event_form(course, network, *, starts="2030-07-01", start_time="10:00", end_time="13:00", capacity="10"):
    return {
        "course": course.pk,
        "network": network.pk,
        "starts_at": f"{starts}T{start_time}",
        "ends_at": f"{starts}T{end_time}",
        "place": "IET London: Savoy Place",
        "capacity": capacity,
        "notes": "",
        "bookings-TOTAL_FORMS": "0",
        "bookings-INITIAL_FORMS": "0",
    }


def test_a_coordinator_adds_an_event_for_their_network_in_their_own_time(client, coordinator, network):
    # R-COORD-3; times typed in the coordinator's zone (London, summer time) and stored in UTC
    course = TrainingCourse.objects.get(delivery="workshop")
    client.force_login(coordinator)
    response = client.post(reverse("admin:safeguarding_trainingevent_add"), event_form(course, network))
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = TrainingEvent.objects.get()
    assert event.starts_at == datetime.datetime(2030, 7, 1, 9, 0, tzinfo=datetime.UTC)
    assert (event.network, event.created_by, event.capacity) == (network, coordinator, 10)


def test_a_coordinator_cannot_add_an_event_to_another_network(client, coordinator, other_network):
    # R-COORD-1: the network is not among the choices; nothing written
    course = TrainingCourse.objects.get(delivery="workshop")
    client.force_login(coordinator)
    response = client.post(reverse("admin:safeguarding_trainingevent_add"), event_form(course, other_network))
    assert response.status_code == 200
    assert "network" in response.context["adminform"].form.errors
    assert not TrainingEvent.objects.exists()
    with pytest.raises(PermissionDenied):
        training.training_event_save(
            event=TrainingEvent(
                course=course,
                network=other_network,
                starts_at=timezone.now() + datetime.timedelta(days=3),
                ends_at=timezone.now() + datetime.timedelta(days=3, hours=2),
                place="x",
                capacity=3,
            ),
            actor=coordinator,
        )
    assert not TrainingEvent.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"end_time": "09:00"}, "ends_at", "The event must end after it starts."),
        ({"starts": "2020-01-01"}, "starts_at", "A new event must start in the future."),
        ({"capacity": "0"}, "capacity", ""),
    ],
)
def test_an_event_that_makes_no_sense_is_refused_on_the_form(client, coordinator, network, change, field, words):
    course = TrainingCourse.objects.get(delivery="one_day_course")
    client.force_login(coordinator)
    response = client.post(reverse("admin:safeguarding_trainingevent_add"), event_form(course, network, **change))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and words in " ".join(errors[field])
    assert not TrainingEvent.objects.exists()


def test_the_elearning_has_no_events(client, coordinator, network):
    course = TrainingCourse.objects.get(delivery="elearning")
    client.force_login(coordinator)
    response = client.post(reverse("admin:safeguarding_trainingevent_add"), event_form(course, network))
    assert response.status_code == 200 and "course" in response.context["adminform"].form.errors
    assert not TrainingEvent.objects.exists()


def test_places_cannot_drop_below_those_booked(coordinator, network, new_mentor):
    event = event_in(network, capacity=2)
    training.training_event_book(event_id=event.pk, member=new_mentor)
    event.capacity = 0
    with pytest.raises(ValidationError):
        training.event_problems(event)
    event.capacity = 1
    training.training_event_save(event=event, actor=coordinator)
    assert TrainingEvent.objects.get(pk=event.pk).capacity == 1


# --- Booking, by members ----------------------------------------------------------------------


def test_a_member_sees_the_events_of_their_networks_in_their_own_time_zone(client, new_mentor, network, other_network):
    mine = event_in(network, place="Savoy Place")
    event_in(other_network, place="Glasgow Hall")
    event_in(network, days=-2, place="Yesterday's room")
    new_mentor.time_zone = "Asia/Tokyo"
    new_mentor.save(update_fields=["time_zone"])
    client.force_login(new_mentor)
    page = client.get(reverse("training_events")).content.decode()
    assert "Savoy Place" in page
    assert "Glasgow Hall" not in page and "Yesterday's room" not in page
    local = timezone.localtime(mine.starts_at, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%H:%M") in page


def test_a_member_books_and_cancels_a_place(client, new_mentor, network):
    event = event_in(network)
    client.force_login(new_mentor)
    assert book(client, event).status_code == 302
    booking = TrainingBooking.objects.get(event=event, member=new_mentor)
    assert booking.status == Booking.BOOKED
    page = client.get(reverse("training_events")).content.decode()
    assert "You have a place." in page
    response = client.post(reverse("training_booking_cancel", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.CANCELLED and booking.cancelled_at is not None
    assert book(client, event).status_code == 302  # booking again reopens the same row
    assert TrainingBooking.objects.get(pk=booking.pk).status == Booking.BOOKED
    assert TrainingBooking.objects.count() == 1


def test_booking_the_same_event_twice_is_refused_and_writes_nothing(client, new_mentor, network):
    # Issue 9, bad input: a second booking of the same event
    event = event_in(network)
    client.force_login(new_mentor)
    book(client, event)
    before = list(TrainingBooking.objects.values())
    response = book(client, event)
    assert response.status_code == 409
    assert "You have already booked a place on this event." in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert list(TrainingBooking.objects.values()) == before


def test_booking_a_full_event_is_refused_and_writes_nothing(client, new_mentor, mentor, network):
    # Issue 9, bad input: booking a full event
    event = event_in(network, capacity=1)
    training.training_event_book(event_id=event.pk, member=mentor)
    client.force_login(new_mentor)
    page = client.get(reverse("training_events")).content.decode()
    assert "This event is full." in page
    response = book(client, event)
    assert response.status_code == 409
    assert "This event is full." in response.content.decode()
    assert not TrainingBooking.objects.filter(member=new_mentor).exists()


def test_a_cancelled_place_frees_it_for_someone_else(client, new_mentor, mentor, network):
    event = event_in(network, capacity=1)
    taken = training.training_event_book(event_id=event.pk, member=mentor)
    training.training_booking_cancel(booking_id=taken.pk, member=mentor)
    client.force_login(new_mentor)
    assert book(client, event).status_code == 302


def test_an_event_of_another_network_or_one_that_started_cannot_be_booked(client, new_mentor, other_network, network):
    elsewhere = event_in(other_network)
    started = event_in(network, days=-1)
    client.force_login(new_mentor)
    assert book(client, elsewhere).status_code == 404
    response = book(client, started)
    assert response.status_code == 409
    assert "This event has already started: choose another date." in response.content.decode()
    assert not TrainingBooking.objects.exists()


def test_a_withdrawn_member_no_longer_sees_their_old_networks_events(client, new_mentor, network):
    event = event_in(network)
    SchemeMembership.objects.filter(user=new_mentor).update(status=SchemeMembership.Status.WITHDRAWN)
    client.force_login(new_mentor)
    assert book(client, event).status_code == 404


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: CI runs this in its PostgreSQL pass (DATABASE_URL)")


def test_two_members_racing_for_the_last_place_give_one_booking(postgres, transactional_db, documents, scheme, network):
    # The event's row lock: both read one free place, only one books it.
    course = factories.TrainingCourseFactory()
    event = event_in(network, capacity=1, course=course)
    members = [factories.eligible_mentee(scheme, network) for _ in range(2)]
    slow = training.places_taken

    def places_taken(event):
        taken = slow(event)
        threading.Event().wait(0.3)
        return taken

    training.places_taken = places_taken
    barrier, outcomes = threading.Barrier(2), {}

    def run(member):
        try:
            barrier.wait(timeout=10)
            training.training_event_book(event_id=event.pk, member=member)
            outcomes[member.pk] = "booked"
        except training.BookingRefused as refused:
            outcomes[member.pk] = refused.message
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=run, args=(m,)) for m in members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        training.places_taken = slow
    assert TrainingBooking.objects.filter(event=event).count() == 1
    assert sorted(outcomes) == sorted(m.pk for m in members)
    (refused,) = [v for v in outcomes.values() if v != "booked"]
    assert "This event is full." in refused


# --- Attendance, by coordinators --------------------------------------------------------------


def held_booking(member, network, course=None) -> TrainingBooking:
    starts = timezone.now() - datetime.timedelta(days=2)
    event = factories.TrainingEventFactory(
        network=network,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=3),
        **({"course": course} if course else {}),
    )
    return TrainingBooking.objects.create(event=event, member=member)


def mark_attended(client, *bookings):
    return client.post(
        reverse("admin:safeguarding_trainingbooking_changelist"),
        {"action": "mark_attended", "index": "0", "_selected_action": [b.pk for b in bookings]},
        follow=True,
    )


def test_marking_attendance_records_the_training_and_completes_onboarding(client, coordinator, new_mentor, network):
    # R-COORD-3: attendance feeds training records; R-ELIG-3: the checklist updates at once
    booking = held_booking(new_mentor, network)
    client.force_login(coordinator)
    response = mark_attended(client, booking)
    assert "training recorded: Tomasz Nowak" in response.content.decode()
    record = TrainingRecord.objects.get(user=new_mentor, kind=TrainingKind.MENTOR_TRAINING)
    assert record.course == booking.event.course and record.recorded_by == coordinator
    assert record.completed_on == booking.event.ends_at.astimezone(LONDON).date()
    assert record.expires_on is None  # the workshop's completion does not expire
    booking.refresh_from_db()
    assert (booking.status, booking.training_record, booking.marked_by) == (Booking.ATTENDED, record, coordinator)
    assert SchemeMembership.objects.get(user=new_mentor).status == SchemeMembership.Status.ACTIVE
    assert Notification.objects.filter(user=new_mentor, kind="training_recorded").exists()
    mark_attended(client, booking)  # again: refused, no second record
    assert TrainingRecord.objects.filter(user=new_mentor, kind=TrainingKind.MENTOR_TRAINING).count() == 1


def test_the_record_expires_after_the_courses_validity(coordinator, new_mentor, network):
    course = factories.TrainingCourseFactory(name="Refresher workshop", validity_years=2)
    booking = held_booking(new_mentor, network, course=course)
    record = training.training_attendance_mark(booking_id=booking.pk, actor=coordinator)
    assert record.expires_on == eligibility.years_after(record.completed_on, 2)


def test_attendance_is_not_marked_before_the_event_or_for_a_cancelled_place(
    client, coordinator, new_mentor, network, scheme
):
    upcoming = TrainingBooking.objects.create(event=event_in(network), member=new_mentor)
    cancelled = held_booking(factories.eligible_mentee(scheme, network), network)
    cancelled.status = Booking.CANCELLED
    cancelled.save()
    client.force_login(coordinator)
    page = mark_attended(client, upcoming, cancelled).content.decode()
    assert "Mark attendance once the event has started." in page
    assert "cancelled their booking" in page
    assert not TrainingRecord.objects.filter(booking__isnull=False).exists()
    assert not TrainingRecord.objects.filter(user=new_mentor, kind=TrainingKind.MENTOR_TRAINING).exists()


def test_a_coordinator_marks_attendance_only_in_their_own_networks(
    client, coordinator, other_network, documents, scheme
):
    # R-COORD-1: even "select all" acts on their own network's bookings only
    outsider = factories.eligible_mentee(scheme, other_network)
    booking = held_booking(outsider, other_network)
    client.force_login(coordinator)
    mark_attended(client, booking)
    client.post(
        reverse("admin:safeguarding_trainingbooking_changelist"),
        {"action": "mark_attended", "select_across": "1", "index": "0", "_selected_action": [booking.pk]},
    )
    booking.refresh_from_db()
    assert booking.status == Booking.BOOKED
    assert not TrainingRecord.objects.filter(user=outsider, kind=TrainingKind.MENTOR_TRAINING).exists()
    with pytest.raises(PermissionDenied):
        training.training_attendance_mark(booking_id=booking.pk, actor=coordinator)


# --- Reminders before a record expires --------------------------------------------------------


@pytest.mark.parametrize(("days", "reminded"), [(31, False), (30, True), (0, True), (-1, False)])
def test_a_member_is_reminded_30_days_before_their_training_expires(new_mentor, days, reminded):
    # R-ELIG-3: records keep their expiry; a reminder goes before it
    record = TrainingRecord.objects.get(user=new_mentor)
    TrainingRecord.objects.filter(pk=record.pk).update(
        expires_on=timezone.localdate(timezone.now().astimezone(LONDON)) + datetime.timedelta(days=days)
    )
    training.training_expiry_reminders_send()
    training.training_expiry_reminders_send()
    notes = Notification.objects.filter(user=new_mentor, kind="training_expiring")
    assert notes.count() == (1 if reminded else 0)
    if reminded:
        assert notes.get().title == "Your Safeguarding eLearning expires soon"
        assert TrainingExpiryReminder.objects.filter(record=record).count() == 1


def test_no_reminder_once_the_training_is_renewed(new_mentor):
    record = TrainingRecord.objects.get(user=new_mentor)
    TrainingRecord.objects.filter(pk=record.pk).update(expires_on=timezone.localdate() + datetime.timedelta(days=10))
    factories.TrainingRecordFactory(user=new_mentor, kind=TrainingKind.SAFEGUARDING_ELEARNING)  # the refresher
    assert training.training_expiry_reminders_send() == 0
