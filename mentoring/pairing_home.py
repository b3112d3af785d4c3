"""What a pairing needs next, for "My mentoring": one line per pairing, built from each part's own reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import formats, timezone

from mentoring import ending_selectors
from mentoring.agreement import agreement_state
from mentoring.meetings import meetings_for_pairing
from mentoring.models import Pairing


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str


def pairing_next_step(pairing: Pairing, user) -> NextStep:
    """The one thing `user` should do next in `pairing`, most pressing first (R-PAIR-1 to R-PAIR-5)."""
    home = pairing.get_absolute_url()
    for asked in ending_selectors.feedback_asked(pairing, user):
        if asked["given"] is None:
            return NextStep(f"Give your {asked['label'].lower()} feedback", asked["url"])
    if pairing.status == Pairing.Status.ENDED:
        return NextStep("Ended", home)
    meetings = meetings_for_pairing(pairing, user)
    if meetings["waiting_for_you"]:
        proposal = meetings["waiting_for_you"][0]
        return NextStep(f"Answer {proposal.proposed_by.first_name}'s proposed meeting", home)
    if meetings["to_mark"]:
        return NextStep("Say whether your last meeting was held", home)
    state = agreement_state(pairing, user)
    if not state.agreed and not state.confirmed_by_me:
        return NextStep("Agree how you will work together", reverse("agreement_detail", args=[pairing.pk]))
    if meetings["next_meeting"]:
        when = formats.date_format(timezone.localtime(meetings["next_meeting"].starts_at), "l j F, H:i")
        return NextStep(f"Next meeting: {when}", home)
    return NextStep("Propose a meeting", reverse("meeting_propose", args=[pairing.pk]))
