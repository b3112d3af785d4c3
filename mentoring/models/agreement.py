"""The pairing's agreement with its versions, its goals and progress, a mentor's private session notes,
and a mentor's CPD log (R-PAIR-1, R-PAIR-3, R-PAIR-8). Written only by mentoring/agreement.py."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Pairing


class Agreement(models.Model):
    """One per pairing. Draft until both members confirm the same (latest) version; any later change is a
    new version and makes it a draft again."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AGREED = "agreed", "Agreed"

    pairing = models.OneToOneField(Pairing, on_delete=models.CASCADE, related_name="agreement")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    agreed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Agreement for {self.pairing}"

    def get_absolute_url(self) -> str:
        return reverse("agreement_detail", args=[self.pairing_id])


class AgreementVersion(models.Model):
    """What the pair agree, as one side drafted it. Versions are never changed once written."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    goals = models.TextField("goals of the mentoring", max_length=3000)
    roles = models.TextField("what each of us does", max_length=2000)
    boundaries = models.TextField(max_length=2000)
    frequency = models.CharField("how often we meet", max_length=200)
    session_timing = models.CharField("when we meet", max_length=200)
    session_duration_minutes = models.PositiveSmallIntegerField(
        "length of a session (minutes)", validators=[MinValueValidator(10), MaxValueValidator(480)]
    )
    period_start = models.DateField("the mentoring starts on")
    period_end = models.DateField("the mentoring ends on")
    review_date = models.DateField("we review how it goes on")
    confidentiality = models.TextField(max_length=3000)
    confidentiality_exceptions = models.TextField("exceptions to confidentiality", max_length=3000)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="one_agreement_version_per_number"),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="agreement_ends_after_start",
                violation_error_message="The end of the mentoring must be after its start.",
            ),
            models.CheckConstraint(
                condition=models.Q(review_date__gte=models.F("period_start")),
                name="agreement_review_not_before_start",
                violation_error_message="The review date cannot be before the mentoring starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number}"

    def clean(self) -> None:
        # The one place these date rules are written; the check constraints above back them in the database.
        errors = {}
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            errors["period_end"] = "The end of the mentoring must be after its start."
        if self.period_start and self.review_date and self.review_date < self.period_start:
            errors["review_date"] = "The review date cannot be before the mentoring starts."
        elif self.period_end and self.review_date and self.review_date > self.period_end:
            errors["review_date"] = "The review date must be on or before the end of the mentoring."
        if errors:
            raise ValidationError(errors)


class AgreementConfirmation(models.Model):
    """One member's confirmation of one version."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="confirmations")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "member"], name="one_confirmation_per_side")]

    def __str__(self) -> str:
        return f"{self.member} confirmed {self.version}"


class AgreementReminder(models.Model):
    """The one reminder a pair gets when their agreement is not agreed in time; written with its notices."""

    pairing = models.OneToOneField(Pairing, on_delete=models.CASCADE, related_name="agreement_reminder")
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Agreement reminder for {self.pairing}"


class PairingGoal(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        ACHIEVED = "achieved", "Achieved"
        DROPPED = "dropped", "Dropped"

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField("goal", max_length=1000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    seeded = models.BooleanField(default=False, help_text="Taken from the mentee's own goals.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class GoalProgress(models.Model):
    goal = models.ForeignKey(PairingGoal, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField()
    note = models.TextField(max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "pk"]

    def __str__(self) -> str:
        return f"Progress on {self.goal} ({self.date})"


class SessionNoteQuerySet(models.QuerySet):
    def for_author(self, user):
        """The only way to read notes: a person reads the notes they wrote, nobody else's."""
        return self.filter(author=user)


class SessionNote(models.Model):
    """A mentor's private note of a session, readable by its author alone (R-PAIR-8): not the partner,
    coordinators, staff nor the admin. Deliberately not registered in the admin."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SessionNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"Session note of {self.date}"


class CPDEntry(models.Model):
    """A mentor's own record of training or other development (004 B11)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cpd_entries")
    date = models.DateField()
    activity = models.CharField(max_length=200)
    hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("999"))],
    )
    reflection = models.TextField(max_length=3000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "CPD entry"
        verbose_name_plural = "CPD entries"
        constraints = [models.CheckConstraint(condition=models.Q(hours__gt=0), name="cpd_hours_positive")]

    def __str__(self) -> str:
        return f"{self.activity} ({self.date})"
