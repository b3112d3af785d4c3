"""Pages and actions for a pairing's meetings and the members' calendar feeds (R-PAIR-2)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mentoring import meetings as services
from mentoring import selectors
from mentoring.models import CalendarFeed, Meeting
from mentoring.models.meetings import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, validate_video_link

ICS_TYPE = "text/calendar; charset=utf-8"


class LocalDateTimeField(forms.DateTimeField):
    """A date and time as the member typed it, left naive: the service reads it in the member's own zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        result = super().to_python(value)
        return timezone.make_naive(result) if result is not None and timezone.is_aware(result) else result


class MeetingForm(forms.Form):
    starts_local = LocalDateTimeField(
        label="Date and time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter a date and time, for example 2026-03-30 14:00."},
    )
    duration_minutes = forms.IntegerField(
        label="Length (minutes)",
        initial=60,
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
    )
    video_link = forms.URLField(
        label="Video call link (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[validate_video_link],
        error_messages={"invalid": "Enter a web address starting https://"},
        help_text="The address of the call, for example a Teams or Zoom link.",
    )
    note = forms.CharField(label="Note (optional)", required=False, max_length=1000, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args, zone_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if zone_name:
            self.fields["starts_local"].help_text = f"In your time zone, {zone_name}."


def _form_page(request, form, *, pairing, title, submit, replacing=None):
    return render(
        request,
        "mentoring/meeting_form.html",
        {"form": form, "pairing": pairing, "title": title, "submit": submit, "replacing": replacing},
        status=400 if form.is_bound else 200,
    )


@login_required
def meeting_propose(request, pk: int):
    pairing = selectors.access_pairing(request.user, pk)
    form = MeetingForm(request.POST or None, zone_name=request.user.time_zone)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_propose(pairing_id=pairing.pk, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your proposed time was sent.")
            return redirect(pairing)
    return _form_page(request, form, pairing=pairing, title="Propose a meeting", submit="Propose this time")


def _member_meeting(request, pk: int) -> Meeting:
    """A meeting of one of the member's pairings, or 404."""
    return get_object_or_404(
        Meeting.objects.visible_to(request.user).select_related("pairing__mentor", "pairing__mentee"), pk=pk
    )


@login_required
def meeting_reschedule(request, pk: int):
    meeting = _member_meeting(request, pk)
    initial = {"duration_minutes": meeting.duration_minutes, "video_link": meeting.video_link}
    form = MeetingForm(request.POST or None, initial=initial, zone_name=request.user.time_zone)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_reschedule(meeting_id=meeting.pk, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your new time was sent.")
            return redirect(meeting.pairing)
    return _form_page(
        request,
        form,
        pairing=meeting.pairing,
        title="Propose another time",
        submit="Propose this time",
        replacing=meeting,
    )


def _action(service, done: str, **extra):
    @login_required
    @require_POST
    def view(request, pk: int):
        meeting = _member_meeting(request, pk)
        try:
            service(meeting_id=meeting.pk, actor=request.user, **extra)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect(meeting.pairing)

    return view


meeting_accept = _action(services.meeting_accept, "The meeting is agreed.")
meeting_decline = _action(services.meeting_decline, "You declined the proposed time.")
meeting_cancel = _action(services.meeting_cancel, "The meeting is cancelled.")
meeting_held = _action(services.meeting_mark, "Marked as held.", held=True)
meeting_missed = _action(services.meeting_mark, "Marked as missed.", held=False)


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=ICS_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def meeting_ics(request, pk: int):
    meeting = _member_meeting(request, pk)
    body = services.meeting_ics(meeting, request.user, request.build_absolute_uri)
    return _ics_response(body, f"mentoring-meeting-{meeting.pk}.ics")


@login_required
def calendar_page(request):
    """The member's private feed address; made on their first POST, so a GET writes nothing."""
    feed = CalendarFeed.objects.filter(user=request.user).first()
    context = {"title": "Your calendar feed", "feed_url": None}
    if feed is not None:
        feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token]))
        context.update(feed_url=feed_url, webcal_url="webcal://" + feed_url.split("://", 1)[1])
    return render(request, "mentoring/calendar_feed.html", context)


@login_required
@require_POST
def calendar_revoke(request):
    """Make the member's calendar address, or a new one in place of the old, which stops working."""
    had_one = CalendarFeed.objects.filter(user=request.user).exists()
    services.calendar_feed_revoke(user=request.user)
    if had_one:
        messages.success(request, "Your calendar has a new address. The old one no longer works: subscribe again.")
    else:
        messages.success(request, "Your private calendar address is ready.")
    return redirect("calendar_page")


def calendar_feed(request, token: str):
    """The member's meetings for a calendar app. No sign-in: the secret token is the key."""
    feed = CalendarFeed.objects.filter(token=token).select_related("user").first()
    if feed is None or not feed.user.is_active:
        raise Http404("No such calendar.")
    response = HttpResponse(services.feed_ics(feed, request.build_absolute_uri), content_type=ICS_TYPE)
    response["Content-Disposition"] = 'inline; filename="mentoring.ics"'
    # The address is a secret: no shared cache keeps the feed, no search engine lists it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
