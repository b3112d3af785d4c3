"""Training records and DBS checks: the evidence the eligibility engine reads."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class TrainingKind(models.TextChoices):
    SAFEGUARDING_ELEARNING = "safeguarding_elearning", "Safeguarding eLearning"
    MENTOR_TRAINING = "mentor_training", "Mentor training"


class TrainingRecord(models.Model):
    """A completed course, with its expiry (R-ELIG-3). Recorded by a coordinator or staff."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_records")
    kind = models.CharField(max_length=30, choices=TrainingKind.choices)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="Leave empty if it never expires.")
    notes = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-completed_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gt=models.F("completed_on")),
                name="training_expires_after_completion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.user} ({self.completed_on})"


class DBSCheck(models.Model):
    """A Disclosure and Barring Service check (R-ELIG-4, R-SAFE-3).

    Criminal-offence data: staff and the Safeguarding Lead only, never coordinators.
    States: requested -> submitted -> cleared -> expired; requested -> refused.
    """

    class Level(models.TextChoices):
        BASIC = "basic", "Basic"
        STANDARD = "standard", "Standard"
        ENHANCED = "enhanced", "Enhanced"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SUBMITTED = "submitted", "Submitted"
        CLEARED = "cleared", "Cleared"
        EXPIRED = "expired", "Expired"
        REFUSED = "refused", "Refused"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dbs_checks")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.BASIC)
    level_reason = models.CharField(
        max_length=200,
        default="Mentoring adults is not regulated activity: basic check.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    certificate_number = models.CharField(max_length=20, blank=True)
    requested_on = models.DateField(default=timezone.localdate)
    cleared_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_on", "-pk"]
        verbose_name = "DBS check"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="cleared") | models.Q(cleared_on__isnull=False),
                name="cleared_dbs_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} DBS – {self.user} ({self.get_status_display()})"


class AuditEvent(models.Model):
    """Append-only record of a sensitive change or read (DESIGN: everything sensitive is audited)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"


class Complaint(models.Model):
    """A member's complaint about a person, a pairing or the service (R-SAFE-4).

    States: received -> investigating -> resolved | dismissed (received may go straight to either end).
    Coordinators of the complainant's networks and staff move it, through `complaints.complaint_status_set`.
    """

    class About(models.TextChoices):
        PERSON = "person", "A person"
        PAIRING = "pairing", "A pairing"
        SERVICE = "service", "The mentoring service"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        INVESTIGATING = "investigating", "Being investigated"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    complainant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints")
    about = models.CharField(max_length=10, choices=About.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints_about",
        verbose_name="about the person",
    )
    pairing = models.ForeignKey(
        "mentoring.Pairing", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    # Reported from a message (R-MSG-6): which one. Handlers see when and from whom, never its text: they read
    # the conversation only through the audited access page.
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="reported message",
    )
    text = models.TextField("what happened", max_length=5000)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.TextField(blank=True, max_length=5000)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["resolved", "dismissed"]) | ~models.Q(outcome=""),
                name="closed_complaint_has_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"Complaint {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("complaint_detail", args=[self.pk])

    @property
    def status_label(self) -> str:
        return self.get_status_display().lower()

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.RESOLVED, self.Status.DISMISSED)


class Concern(models.Model):
    """A safeguarding concern (R-SAFE-1, R-MSG-6): goes to the Safeguarding Lead group and no one else.

    Raised through `concerns.concern_raise`. States (DESIGN): new -> triaged -> action_taken -> closed; only the
    Safeguarding Lead's pages move them. The reporter gets a receipt, never the case.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        ACTION_TAKEN = "action_taken", "Action taken"
        CLOSED = "closed", "Closed"

    class Source(models.TextChoices):
        MESSAGE = "message", "A message"
        PROFILE = "profile", "A profile"
        PAGE = "page", "The concern form"

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="concerns_raised")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PAGE)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="concerns_about",
        verbose_name="about the person",
    )
    pairing = models.ForeignKey(
        "mentoring.Pairing", null=True, blank=True, on_delete=models.PROTECT, related_name="concerns"
    )
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="reported message",
    )
    what_happened = models.TextField(max_length=5000)
    happened_on = models.DateField("when it happened", null=True, blank=True)
    immediate_risk = models.BooleanField("someone is at immediate risk")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The Lead's queue: urgent first, then the oldest.
        ordering = ["-immediate_risk", "created_at", "pk"]
        indexes = [models.Index(fields=["status", "-immediate_risk", "created_at"], name="concern_queue_idx")]

    def __str__(self) -> str:
        return f"Concern {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("concern_detail", args=[self.pk])

    @property
    def urgency(self) -> str:
        """Put before the Lead's notification title: urgent concerns say so first."""
        return "URGENT: " if self.immediate_risk else ""

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED
