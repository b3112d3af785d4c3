"""Scheme closure (R-SCHEME-3): one notice per member of a closing scheme, written before it is sent."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mentoring.models import Scheme


class SchemeClosureNotice(models.Model):
    """That `member` is (or was) told `scheme` closes. The row is written first, then sent once:
    `sent_at` is set in the same transaction that stores the member's notification."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="closure_notices")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheme_closure_notices"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["scheme", "member"], name="one_closure_notice_per_member")]

    def __str__(self) -> str:
        return f"{self.scheme} closing: notice to {self.member}"
