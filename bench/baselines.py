"""Baselines that cohort matching is measured against (bench/matching.py and the property tests).

Not used by the platform: the exact optimum over all pairs (a min-cost flow with
no candidate lists), greedy best-edge-first, mentee-proposing deferred acceptance
(stable matching), and a count of blocking pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

from matching.cohort import TIE_SALT, CohortInstance, CohortResult, candidate_lists, result_of
from matching.suggest import MenteeNeeds, MentorOffer, Suggestion, score


def exact_match(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
) -> CohortResult:
    """The true optimum: a min-cost flow over every allowed pair, no candidate lists, no pricing.

    Memory grows with mentees x mentors (about 100 bytes a pair in all), so it is for
    benchmarks and tests of moderate size.
    """
    instance = CohortInstance(mentees, mentors, exclude or {}, TIE_SALT)
    n, m = instance.n, instance.m
    if not n or not m:
        return result_of(mentees, {})
    flow = SimpleMinCostFlow()
    first_arc, edge_rows, edge_cols = [], [], []
    for start, stop in instance.blocks():
        units = instance.units(start, stop)
        rows, cols = np.nonzero(units >= 0)
        first_arc.append(
            flow.add_arcs_with_capacity_and_unit_cost(rows + start, n + cols, np.ones_like(rows), -units[rows, cols])
        )
        edge_rows.append(rows + start)
        edge_cols.append(cols)
        del units
    sink = n + m
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n), np.full(n, sink), np.ones(n, np.int64), np.zeros(n, np.int64)
    )
    flow.add_arcs_with_capacity_and_unit_cost(n + np.arange(m), np.full(m, sink), instance.free, np.zeros(m, np.int64))
    flow.set_nodes_supplies(np.append(np.arange(n), sink), np.append(np.ones(n, np.int64), -n))
    status = flow.solve()
    if status != SimpleMinCostFlow.OPTIMAL:
        raise RuntimeError(f"The exact flow did not solve: {status}")
    arcs, rows, cols = np.concatenate(first_arc), np.concatenate(edge_rows), np.concatenate(edge_cols)
    used = flow.flows(arcs) > 0
    assignment = {
        instance.mentees[row].mentee_id: score(instance.mentees[row], instance.mentors[col])
        for row, col in zip(rows[used].tolist(), cols[used].tolist(), strict=True)
    }
    return result_of(mentees, assignment)


def greedy_match(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    candidates_per_mentee: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
) -> CohortResult:
    """Baseline: best edges first, taken while both sides are free."""
    lists = candidate_lists(mentees, mentors, candidates_per_mentee=candidates_per_mentee, exclude=exclude)
    free = {m.mentor_id: m.free_places for m in mentors}
    edges = sorted(
        ((s, mentee_id) for mentee_id, chosen in lists.items() for s in chosen),
        key=lambda e: (-e[0].score, e[1], e[0].mentor_id),
    )
    assignment: dict[int, Suggestion] = {}
    for suggestion, mentee_id in edges:
        if mentee_id not in assignment and free[suggestion.mentor_id] > 0:
            assignment[mentee_id] = suggestion
            free[suggestion.mentor_id] -= 1
    return result_of(mentees, assignment)


def stable_match(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    candidates_per_mentee: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
) -> CohortResult:
    """Mentee-proposing deferred acceptance (hospital-resident) on the same candidate lists.

    Both sides prefer a higher score; mentors break ties by lower mentee id.
    """
    lists = candidate_lists(mentees, mentors, candidates_per_mentee=candidates_per_mentee, exclude=exclude)
    free = {m.mentor_id: m.free_places for m in mentors}
    held: dict[int, list[tuple[float, int]]] = {mentor_id: [] for mentor_id in free}  # (score, mentee_id)
    next_choice = dict.fromkeys(lists, 0)
    waiting = [m.mentee_id for m in mentees]
    while waiting:
        mentee_id = waiting.pop()
        choices = lists[mentee_id]
        if next_choice[mentee_id] >= len(choices):
            continue
        suggestion = choices[next_choice[mentee_id]]
        next_choice[mentee_id] += 1
        holding = held[suggestion.mentor_id]
        holding.append((suggestion.score, mentee_id))
        if len(holding) > free[suggestion.mentor_id]:
            holding.sort(key=lambda h: (-h[0], h[1]))
            _, rejected = holding.pop()
            waiting.append(rejected)
    assignment = {}
    for mentor_id, holding in held.items():
        for _, mentee_id in holding:
            assignment[mentee_id] = next(s for s in lists[mentee_id] if s.mentor_id == mentor_id)
    return result_of(mentees, assignment)


def blocking_pairs(
    result: CohortResult,
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    candidates_per_mentee: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
) -> int:
    """Candidate pairs who would both rather be with each other than as assigned."""
    lists = candidate_lists(mentees, mentors, candidates_per_mentee=candidates_per_mentee, exclude=exclude)
    free = {m.mentor_id: m.free_places for m in mentors}
    mine = {mentee_id: s.score for mentee_id, _, s in result.pairs}
    held: dict[int, list[tuple[float, int]]] = {mentor_id: [] for mentor_id in free}
    for mentee_id, mentor_id, s in result.pairs:
        held[mentor_id].append((s.score, mentee_id))
    worst = {mentor_id: min(h, key=lambda x: (x[0], -x[1])) for mentor_id, h in held.items() if h}
    count = 0
    for mentee_id, chosen in lists.items():
        for s in chosen:
            if mentee_id in mine and s.score <= mine[mentee_id]:
                continue
            if any(m == mentee_id for _, m in held[s.mentor_id]):
                continue
            if len(held[s.mentor_id]) < free[s.mentor_id]:
                count += 1
            else:
                w_score, w_id = worst[s.mentor_id]
                if (s.score, -mentee_id) > (w_score, -w_id):
                    count += 1
    return count
