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
