"""Scoring a mentor for a mentee: a pure function over plain data, with its reasons in words (R-MATCH-1).

Nothing here touches the database. The weights live in WEIGHTS and nowhere
else; `matching/selectors.py` turns profiles into MenteeNeeds / MentorOffer
and `matching/cohort.py` reuses `score` for whole-cohort matching.

Sets of expertise areas and languages are bit masks (bit n = the row with
id n), so scoring ten thousand mentors is a few integer operations each.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

WEIGHTS: Mapping[str, float] = {
    "sector": 3.0,  # same sector
    "expertise": 4.0,  # times the share of the mentee's areas the mentor covers
    "language": 2.0,  # speaks the mentee's preferred language
    "country": 1.0,  # lives in the same country
    "places": 0.5,  # times the share of the mentor's places still free: spreads mentees out
}


BEST_SCORE = sum(WEIGHTS.values())  # every weight in full
FIT_SCALE = "0–100"


def fit_out_of_100(score: float) -> int:
    """A score as coordinators and members read it: 0 (nothing in common) to 100 (every weight in full)."""
    return max(0, min(100, round(score * 100 / BEST_SCORE)))


def mask_of(ids: Iterable[int]) -> int:
    mask = 0
    for i in ids:
        mask |= 1 << i
    return mask


def ids_of(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


@dataclass(frozen=True, slots=True)
class MenteeNeeds:
    mentee_id: int
    sector_id: int | None
    expertise_mask: int
    language_id: int | None  # preferred language
    country: str


@dataclass(frozen=True, slots=True)
class MentorOffer:
    mentor_id: int
    sector_id: int | None
    expertise_mask: int
    language_mask: int
    country: str
    capacity: int
    free_places: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    mentor_id: int
    score: float
    # Reason codes, turned into words by `explain`: ("sector",), ("language", id),
    # ("expertise", matched, wanted), ("country", code), ("places", free).
    reasons: tuple[tuple, ...]


def _evaluate(needs: MenteeNeeds, offer: MentorOffer, reasons: list | None) -> float:
    """The one scoring formula. Appends reason codes to `reasons` unless it is None (ranking only)."""
    total = 0.0
    if needs.sector_id is not None and needs.sector_id == offer.sector_id:
        total += WEIGHTS["sector"]
        if reasons is not None:
            reasons.append(("sector",))
    wanted = needs.expertise_mask.bit_count()
    if wanted:
        matched = (needs.expertise_mask & offer.expertise_mask).bit_count()
        if matched:
            total += WEIGHTS["expertise"] * matched / wanted
            if reasons is not None:
                reasons.append(("expertise", matched, wanted))
    if needs.language_id is not None and offer.language_mask >> needs.language_id & 1:
        total += WEIGHTS["language"]
        if reasons is not None:
            reasons.append(("language", needs.language_id))
    if needs.country and needs.country == offer.country:
        total += WEIGHTS["country"]
        if reasons is not None:
            reasons.append(("country", needs.country))
    if offer.capacity > 0 and offer.free_places > 0:
        total += WEIGHTS["places"] * offer.free_places / offer.capacity
        if offer.free_places == 1 and reasons is not None:
            reasons.append(("places", 1))
    return round(total, 4)


def score(needs: MenteeNeeds, offer: MentorOffer) -> Suggestion:
    """How well `offer` fits `needs`, and why. Higher is better; 0 means nothing in common."""
    reasons: list[tuple] = []
    total = _evaluate(needs, offer, reasons)
    return Suggestion(offer.mentor_id, total, tuple(reasons))


def rank(
    needs: MenteeNeeds,
    offers: Iterable[MentorOffer],
    *,
    limit: int = 10,
    exclude: frozenset[int] | set[int] = frozenset(),
) -> list[Suggestion]:
    """The best `limit` mentors with a free place, best first (ties: lower mentor id first).

    Scores every offer without reasons, then explains only the few it keeps.
    """
    best = heapq.nsmallest(
        limit,
        (
            (-_evaluate(needs, offer, None), offer.mentor_id, offer)
            for offer in offers
            if offer.free_places > 0 and offer.mentor_id not in exclude
        ),
        key=lambda item: (item[0], item[1]),
    )
    return [score(needs, offer) for _, _, offer in best]


@dataclass(frozen=True)
class Names:
    """What ids mean, for the words: sector, language and expertise names, country names."""

    sectors: Mapping[int, str]
    languages: Mapping[int, str]
    countries: Mapping[str, str]
    areas: Mapping[int, str] = field(default_factory=dict)


def explain(suggestion: Suggestion, names: Names, *, to_mentee: bool = True) -> list[str]:
    """The reasons in words: to the mentee ("2 of your 3 areas"), or, for a coordinator or the mentor
    (`to_mentee=False`), about the mentee ("2 of the mentee's 3 areas")."""
    whose = "your" if to_mentee else "the mentee's"
    words = []
    for reason in suggestion.reasons:
        match reason:
            case ("sector",):
                words.append("same sector")
            case ("expertise", matched, wanted):
                words.append(f"{matched} of {whose} {wanted} areas" if wanted > 1 else f"{whose} area of expertise")
            case ("language", language_id):
                words.append(f"speaks {names.languages.get(language_id, whose + ' language')}")
            case ("country", code):
                words.append(f"also in {names.countries.get(code, code)}")
            case ("places", free):
                words.append(f"{free} place left")
    return words
