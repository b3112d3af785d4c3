"""The members' training page (R-ELIG-3, R-COORD-3): the events of their Local Networks, book and cancel a place,
and their training records. Coordinators add events and mark attendance in the admin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from safeguarding import training
from safeguarding.models import TrainingBooking, TrainingEvent


def _page(request, *, error: str = "", status: int = 200):
    member = request.user
    booked = {
        b.event_id: b
        for b in TrainingBooking.objects.filter(member=member, status=TrainingBooking.Status.BOOKED).only(
            "pk", "event_id"
        )
    }
    events = [(event, booked.get(event.pk)) for event in training.upcoming_events(member)]
    context = {
        "title": "Training",
        "events": events,
        "bookings": training.bookings_of(member),
        "records": member.training_records.select_related("course").order_by("kind", "-completed_on"),
        "error": error,
    }
    return render(request, "safeguarding/training_events.html", context, status=status)


@login_required
def training_events(request):
    return _page(request)


@login_required
@require_POST
def training_event_book(request, pk: int):
    try:
        booking = training.training_event_book(event_id=pk, member=request.user)
    except TrainingEvent.DoesNotExist as missing:
        raise Http404("No such event in your networks.") from missing
    except training.BookingRefused as refused:
        # Nothing was written: the page again, with why (409: the event's state, not the request, is at fault).
        return _page(request, error=" ".join(refused.messages), status=409)
    event = booking.event
    when = date_format(timezone.localtime(event.starts_at), "l j F Y, H:i T")  # the member's own zone
    messages.success(request, f"You have a place on {event.course}, {when}.")
    return redirect("training_events")


@login_required
@require_POST
def training_booking_cancel(request, pk: int):
    try:
        booking = training.training_booking_cancel(booking_id=pk, member=request.user)
    except TrainingBooking.DoesNotExist as missing:
        raise Http404("No such booking of yours.") from missing
    except training.BookingRefused as refused:
        return _page(request, error=" ".join(refused.messages), status=409)
    messages.success(request, f"Your place on {booking.event.course} is cancelled.")
    return redirect("training_events")
