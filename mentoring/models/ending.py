"""The end of a pairing and the feedback asked of both members (R-PAIR-4, R-PAIR-5)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Pairing

COMMENTS_MAX = 2000


class EndOfPairing(models.Model):
    """The End of Pairing record: who ended it, why, and what they said. Written only by `pairing_end`."""

    pairing = models.OneToOneField(Pairing, on_delete=models.PROTECT, related_name="end_record")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=30, choices=Pairing.EndReason.choices)
    comments = models.TextField(blank=True, max_length=COMMENTS_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    # The coordinators' queue of forms to read (R-COORD-2): set once, by `end_of_pairing_mark_read`.
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "end of pairing"
        verbose_name_plural = "ends of pairings"

    def __str__(self) -> str:
        return f"End of {self.pairing}: {self.get_reason_display()}"

    def get_absolute_url(self) -> str:
        return self.pairing.get_absolute_url()


class FeedbackStage(models.TextChoices):
    MIDPOINT = "midpoint", "Midpoint"
    END = "end", "End of the pairing"


class Feedback(models.Model):
    """One member's short survey about their pairing at one stage; once per stage (R-PAIR-4)."""

    Stage = FeedbackStage

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="feedback")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_given")
    stage = models.CharField(max_length=10, choices=FeedbackStage.choices)
    rating = models.PositiveSmallIntegerField()
    comments = models.TextField(blank=True, max_length=COMMENTS_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"
        constraints = [
            models.UniqueConstraint(fields=["pairing", "member", "stage"], name="feedback_once_per_stage"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} feedback on {self.pairing}: {self.rating}/5"

    def get_absolute_url(self) -> str:
        return reverse("pairing_feedback", args=[self.pairing_id, self.stage])


class FeedbackRequest(models.Model):
    """Asking one member for feedback at one stage, and the one reminder: each a row, so each happens once."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="feedback_requests")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_requests")
    stage = models.CharField(max_length=10, choices=FeedbackStage.choices)
    asked_at = models.DateTimeField(default=timezone.now)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at"]
        constraints = [
            models.UniqueConstraint(fields=["pairing", "member", "stage"], name="feedback_asked_once_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} feedback asked of {self.member} on {self.pairing}"

    def get_absolute_url(self) -> str:
        return reverse("pairing_feedback", args=[self.pairing_id, self.stage])
