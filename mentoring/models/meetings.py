"""Meetings of a pairing, the members' private calendar feeds, and the rows that make reminders and
inactivity nudges happen once (R-PAIR-2, R-PAIR-6). Written only by mentoring/meetings.py."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Pairing

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 480

# Only links a browser opens as a page: never javascript:, data: or a file share.
validate_video_link = URLValidator(schemes=["http", "https"], message="Enter a web address starting https://")


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The meetings of the pairings `user` is part of. Coordinators see theirs through the admin."""
        return self.filter(models.Q(pairing__mentor=user) | models.Q(pairing__mentee=user))

    def on_calendar(self):
        """What a calendar shows: agreed meetings, and those once agreed and then called off."""
        agreed = models.Q(status__in=Meeting.AGREED)
        called_off = models.Q(
            status__in=[Meeting.Status.CANCELLED, Meeting.Status.SUPERSEDED], accepted_at__isnull=False
        )
        return self.filter(agreed | called_off)


class Meeting(models.Model):
    """A meeting one member proposes and the other answers.

    States: proposed -> accepted | declined | cancelled | superseded (another time was proposed);
    accepted -> cancelled | superseded before it starts; accepted -> held | missed after it starts.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        SUPERSEDED = "superseded", "Replaced by another time"
        HELD = "held", "Held"
        MISSED = "missed", "Missed"

    AGREED = (Status.ACCEPTED, Status.HELD, Status.MISSED)
    OPEN = (Status.PROPOSED, Status.ACCEPTED)

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="meetings")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(help_text="Stored in UTC; each member sees it in their own time zone.")
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_DURATION_MINUTES), MaxValueValidator(MAX_DURATION_MINUTES)]
    )
    video_link = models.URLField(max_length=500, blank=True, validators=[validate_video_link])
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    accepted_at = models.DateTimeField(null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(null=True, blank=True)
    # The calendar entry's identity and version: UID never changes, SEQUENCE goes up on every change.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=MIN_DURATION_MINUTES)
                & models.Q(duration_minutes__lte=MAX_DURATION_MINUTES),
                name="meeting_duration_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Meeting of {self.pairing} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self) -> str:
        return reverse("pairing_detail", args=[self.pairing_id]) + "#meetings"

    @property
    def ends_at(self):
        return self.starts_at + timezone.timedelta(minutes=self.duration_minutes)

    def partner_of(self, user):
        return self.pairing.mentee if self.pairing.mentor_id == user.pk else self.pairing.mentor


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A member's private calendar address. The token is the only key: revoking replaces it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class MeetingReminder(models.Model):
    """One reminder to one member about one meeting, written before it is sent: a second run sends nothing."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="remind_each_member_once")]

    def __str__(self) -> str:
        return f"Reminder to {self.user} of meeting {self.meeting_id}"


class InactivityNudge(models.Model):
    """One nudge about one quiet spell of a pairing: to both members, or (twice as long) to its coordinators.

    `activity_at` is the last activity the spell is measured from, so new activity starts a new spell.
    """

    class Level(models.TextChoices):
        MEMBERS = "members", "Both members"
        COORDINATORS = "coordinators", "The network's coordinators"

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="inactivity_nudges")
    level = models.CharField(max_length=12, choices=Level.choices)
    activity_at = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pairing", "level", "activity_at"], name="nudge_each_quiet_spell_once")
        ]

    def __str__(self) -> str:
        return f"Inactivity nudge ({self.level}) for pairing {self.pairing_id}"
