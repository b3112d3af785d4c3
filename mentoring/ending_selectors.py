"""Reads for the ending and feedback sections of the pairing page and "My mentoring"."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse

from mentoring.models import EndOfPairing, Feedback, FeedbackRequest, Pairing, RematchRequest, SchemeMembership


def ending_for_pairing(pairing: Pairing, user) -> dict:
    """Context for templates/mentoring/_pairing_ending.html: the action, or the end record and rematch offer."""
    is_member = user.pk in (pairing.mentor_id, pairing.mentee_id)
    ended = pairing.status == Pairing.Status.ENDED
    record = EndOfPairing.objects.filter(pairing=pairing).select_related("ended_by").first() if ended else None
    offer = (
        ended
        and pairing.end_reason == Pairing.EndReason.DIFFERENCES
        and user.pk == pairing.mentee_id
        and not RematchRequest.objects.filter(pairing=pairing).exists()
    )
    return {
        "pairing": pairing,
        "can_end": is_member and not ended,
        "end_record": record,
        "rematch_offer": offer,
        "rematch_asked": ended
        and user.pk == pairing.mentee_id
        and not offer
        and RematchRequest.objects.filter(pairing=pairing).exists(),
    }


def feedback_asked(pairing: Pairing, user) -> list[dict]:
    """The surveys asked of `user` on this pairing, each with the answer given (or None) and its page."""
    given = {f.stage: f for f in Feedback.objects.filter(pairing=pairing, member=user)}
    return [
        {
            "stage": asked.stage,
            "label": asked.get_stage_display(),
            "asked_at": asked.asked_at,
            "given": given.get(asked.stage),
            "url": reverse("pairing_feedback", args=[pairing.pk, asked.stage]),
        }
        for asked in FeedbackRequest.objects.filter(pairing=pairing, member=user)
    ]


def own_membership(user, pk: int) -> SchemeMembership:
    """The member's own membership, or 404."""
    return get_object_or_404(SchemeMembership.objects.select_related("scheme", "network"), pk=pk, user=user)
