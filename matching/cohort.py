"""Cohort matching: pair many waiting mentees with mentors' free places at once, maximising total fit (R-MATCH-3).

Plain data in, plain data out: no database. `matching/services.py` feeds it and
turns its answer into pairings after a coordinator confirms.

How:
1. Candidates. Each mentee keeps their best `candidates_per_mentee` mentors by
   `suggest.score`, computed for a block of mentees at once with NumPy (the same
   formula, added up in the same order and rounded the same way, so the numbers
   are exactly `score`'s; a test checks this).
2. Assignment. A sparse bipartite graph: mentees x mentor places (a mentor with
   three free places is three columns), plus one "stay waiting" column per
   mentee so a full matching always exists. Costs are C - score (all positive),
   the waiting column costs C, and SciPy's
   `min_weight_full_bipartite_matching` (LAPJVsp) finds the matching of least
   total cost, i.e. greatest total score, so no mentee is left waiting when a
   place with any fit is free for them.
Chosen over a min-cost flow because SciPy ships it compiled and it solved the
full benchmark (10,000 mentees x 3,000 mentors, 20 candidates each) in seconds;
see bench/matching.py for the figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from matching.suggest import WEIGHTS, MenteeNeeds, MentorOffer, Suggestion, ids_of, score

BLOCK = 512  # mentees scored at once: a 512 x 3,000 float matrix is 12 MB


@dataclass
class CohortResult:
    pairs: list[tuple[int, int, Suggestion]] = field(default_factory=list)  # (mentee_id, mentor_id, suggestion)
    total_score: float = 0.0
    unmatched: list[int] = field(default_factory=list)


class _MentorTable:
    """Mentors as NumPy columns, built once per run."""

    def __init__(self, mentors: Sequence[MentorOffer], n_areas: int, n_languages: int, countries: dict[str, int]):
        self.mentors = list(mentors)
        self.ids = np.array([m.mentor_id for m in self.mentors], dtype=np.int64)
        self.sector = np.array([-1 if m.sector_id is None else m.sector_id for m in self.mentors], dtype=np.int64)
        self.country = np.array([countries.setdefault(m.country, len(countries)) for m in self.mentors], dtype=np.int64)
        self.expertise = np.zeros((len(self.mentors), n_areas), dtype=np.float64)
        self.languages = np.zeros((len(self.mentors), n_languages), dtype=bool)
        for row, mentor in enumerate(self.mentors):
            self.expertise[row, ids_of(mentor.expertise_mask)] = 1.0
            self.languages[row, ids_of(mentor.language_mask)] = True
        capacity = np.array([m.capacity for m in self.mentors], dtype=np.float64)
        free = np.array([m.free_places for m in self.mentors], dtype=np.float64)
        self.open = (capacity > 0) & (free > 0)
        self.places = np.where(self.open, WEIGHTS["places"] * free / np.where(capacity > 0, capacity, 1), 0.0)


def _bits(masks: Sequence[int]) -> int:
    return max((m.bit_length() for m in masks), default=0)


def candidate_lists(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    candidates_per_mentee: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
) -> dict[int, list[Suggestion]]:
    """Each mentee's best mentors with a free place, best first (ties: lower mentor id), as `suggest.rank` orders."""
    exclude = exclude or {}
    if not mentors or not mentees:
        return {m.mentee_id: [] for m in mentees}
    n_areas = max(_bits([m.expertise_mask for m in mentors]), _bits([m.expertise_mask for m in mentees]), 1)
    n_languages = max(
        _bits([m.language_mask for m in mentors]),
        max((m.language_id + 1 for m in mentees if m.language_id is not None), default=0),
        1,
    )
    countries: dict[str, int] = {"": -1}
    table = _MentorTable(mentors, n_areas, n_languages, countries)
    column_of = {mentor_id: col for col, mentor_id in enumerate(table.ids.tolist())}
    by_id = {m.mentor_id: m for m in table.mentors}
    k = min(candidates_per_mentee, len(table.mentors))
    lists: dict[int, list[Suggestion]] = {}
    for start in range(0, len(mentees), BLOCK):
        block = mentees[start : start + BLOCK]
        wanted = np.zeros((len(block), n_areas), dtype=np.float64)
        for row, mentee in enumerate(block):
            wanted[row, ids_of(mentee.expertise_mask)] = 1.0
        wanted_count = wanted.sum(axis=1)
        sector = np.array([-1 if m.sector_id is None else m.sector_id for m in block], dtype=np.int64)
        country = np.array([countries.get(m.country, -2) if m.country else -1 for m in block], dtype=np.int64)
        # Add up in the order score() does, so the floats come out identical.
        total = np.where((sector[:, None] >= 0) & (sector[:, None] == table.sector[None, :]), WEIGHTS["sector"], 0.0)
        matched = wanted @ table.expertise.T
        share = np.divide(matched, wanted_count[:, None], out=np.zeros_like(matched), where=wanted_count[:, None] > 0)
        total = total + np.where(matched > 0, WEIGHTS["expertise"] * share, 0.0)
        language = np.array([-1 if m.language_id is None else m.language_id for m in block], dtype=np.int64)
        speaks = np.zeros_like(total, dtype=bool)
        has_language = language >= 0
        speaks[has_language] = table.languages[:, language[has_language]].T
        total = total + np.where(speaks, WEIGHTS["language"], 0.0)
        total = total + np.where(
            (country[:, None] >= 0) & (country[:, None] == table.country[None, :]), WEIGHTS["country"], 0.0
        )
        total = np.round(total + table.places[None, :], 4)
        total[:, ~table.open] = -np.inf
        for row, mentee in enumerate(block):
            for mentor_id in exclude.get(mentee.mentee_id, ()):
                col = column_of.get(mentor_id)
                if col is not None:
                    total[row, col] = -np.inf
        # The k-th best value per row; keep every column at least that good, so ties at the
        # boundary are settled by mentor id below, exactly as suggest.rank settles them.
        kth = -np.partition(-total, k - 1, axis=1)[:, k - 1] if k < total.shape[1] else np.full(len(block), -np.inf)
        for row, mentee in enumerate(block):
            cols = np.nonzero((total[row] >= kth[row] - 1e-9) & (total[row] != -np.inf))[0]
            # Exact scores and reasons from the one scoring function, for the few kept.
            chosen = sorted(
                (score(mentee, by_id[int(table.ids[c])]) for c in cols.tolist()), key=lambda s: (-s.score, s.mentor_id)
            )
            lists[mentee.mentee_id] = chosen[:k]
    return lists


def result_of(mentees, assignment: dict[int, Suggestion]) -> CohortResult:
    pairs = [
        (m.mentee_id, assignment[m.mentee_id].mentor_id, assignment[m.mentee_id])
        for m in mentees
        if m.mentee_id in assignment
    ]
    return CohortResult(
        pairs=pairs,
        total_score=round(sum(s.score for _, _, s in pairs), 4),
        unmatched=[m.mentee_id for m in mentees if m.mentee_id not in assignment],
    )


def cohort_match(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    candidates_per_mentee: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
) -> CohortResult:
    """The matching of greatest total score, never over a mentor's free places, never an excluded pair."""
    lists = candidate_lists(mentees, mentors, candidates_per_mentee=candidates_per_mentee, exclude=exclude)
    free = {m.mentor_id: m.free_places for m in mentors}
    slots: dict[int, list[int]] = {}
    column = 0
    for mentor_id in sorted({s.mentor_id for chosen in lists.values() for s in chosen}):
        slots[mentor_id] = list(range(column, column + free[mentor_id]))
        column += free[mentor_id]
    if not slots:
        return CohortResult(unmatched=[m.mentee_id for m in mentees])
    top_score = max(s.score for chosen in lists.values() for s in chosen)
    ceiling = top_score + 1.0  # every cost C - score stays positive: a stored zero would still be an edge, but be safe
    rows, cols, costs = [], [], []
    n_slots = column
    for row, mentee in enumerate(mentees):
        for suggestion in lists[mentee.mentee_id]:
            for slot in slots[suggestion.mentor_id]:
                rows.append(row)
                cols.append(slot)
                costs.append(ceiling - suggestion.score)
        rows.append(row)
        cols.append(n_slots + row)  # this mentee's "stay waiting" column
        costs.append(ceiling)
    graph = csr_matrix((costs, (rows, cols)), shape=(len(mentees), n_slots + len(mentees)))
    _, matched_cols = min_weight_full_bipartite_matching(graph)
    owner = {slot: mentor_id for mentor_id, taken in slots.items() for slot in taken}
    assignment = {}
    for row, col in enumerate(matched_cols.tolist()):
        if col < n_slots:
            mentee = mentees[row]
            mentor_id = owner[col]
            assignment[mentee.mentee_id] = next(s for s in lists[mentee.mentee_id] if s.mentor_id == mentor_id)
    return result_of(mentees, assignment)
