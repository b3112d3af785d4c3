"""Cohort matching: pair many waiting mentees with mentors' free places at once, maximising total fit (R-MATCH-3).

Plain data in, plain data out: no database. `matching/services.py` feeds it and
turns its answer into pairings after a coordinator confirms.

How:
1. Scores. `suggest.score` is the definition. Here the same formula runs over a
   block of mentees x every mentor at once with NumPy, added up in the same order,
   and kept as whole units of 0.0001 (score() rounds to four decimals, so
   score x 10,000 is an exact integer; a test checks the two agree pair by pair).
2. Candidates. Each mentee's best `candidates_per_mentee` mentors AND each
   mentor's best `mentees_per_mentor` mentees, so no mentor with a free place is
   left off every list (a mentor appears on nobody's list only if every mentee
   is excluded from them). Equal scores are ordered by a stable hash of
   (salt, mentee id, mentor id), never by the lower id, which used to hand the
   lower-id half of mentors most of the list places.
3. Assignment. A min-cost flow: each mentee supplies one unit; arcs mentee ->
   mentor (capacity 1, cost -score) and mentee -> "stay waiting" (cost 0);
   mentor -> sink with capacity = free places. Integer costs, so the flow is the
   exact optimum over the candidate pairs.
4. How far from the best possible. The mentor prices p (the dual of the
   relaxation, read off the optimal flow as shortest-path potentials; both
   extreme sets of them are tried, as neither is always tighter) give, for
   ALL pairs, the bound  sum_i max(0, max_j (s_ij - p_j)) + sum_j free_j * p_j,
   which no assignment of any pairs can exceed (weak duality; the b-matching LP
   is integral). It is computed over every pair in blocks. A pair that beats its
   mentee's dual value is a pair the candidate lists missed: it is added and the
   flow solved again ("pricing"), a few rounds at most. When nothing is missed
   the bound equals the total and the matching is proven optimal over all pairs.

Why OR-tools (`ortools.graph.python.min_cost_flow.SimpleMinCostFlow`): Google
maintains it with regular releases and wheels; it is compiled (C++ cost-scaling
push-relabel); it works in exact integer costs; and a mentor is one node whose
arc to the sink carries their free places, so places are not expanded into one
column each as SciPy's `min_weight_full_bipartite_matching` needed (a mentor
with five places was five columns, and every edge to them five edges).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

from matching.suggest import WEIGHTS, MenteeNeeds, MentorOffer, Suggestion, ids_of, score

UNIT = 10_000  # score() rounds to 4 decimals: score x UNIT is a whole number
BEST_PAIR = sum(WEIGHTS.values())  # the most one pair can score (every weight in full)
BLOCK_CELLS = 1 << 20  # mentee x mentor scores computed at once: about 8 MB per array
TIE_SALT = "matching.cohort.ties"
TIE_BITS = 24  # low bits of a sort key that order equal scores
KEY_SPAN = 1 << (round(BEST_PAIR * UNIT).bit_length() + TIE_BITS)  # every key is below this (2**41 today)
MAX_MENTORS = (1 << 62) // KEY_SPAN  # so (mentor, key) packs into one int64 when ranking each mentor's list
PRICING_ROUNDS = 3  # times missed pairs are added and the flow solved again
MISSED_PER_MENTEE = 5  # missed pairs added per mentee per round
EXCLUDED = -(1 << 30)  # below any score less any price, in units


@dataclass
class CohortResult:
    pairs: list[tuple[int, int, Suggestion]] = field(default_factory=list)  # (mentee_id, mentor_id, suggestion)
    total_score: float = 0.0
    unmatched: list[int] = field(default_factory=list)
    # No assignment of any pairs, candidates or not, can score more than this.
    upper_bound: float = 0.0
    # Open mentors (free places, and some mentee they may take) that were on no candidate list. Must be 0.
    mentors_off_every_list: int = 0
    candidate_pairs: int = 0
    rounds: int = 0  # flow solves (1 + pricing rounds that added pairs)

    @property
    def gap(self) -> float:
        """How far the total may be below the best possible, as a share of the bound (0 = proven optimal)."""
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, 1.0 - self.total_score / self.upper_bound)


def _seed(salt: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(salt.encode(), digest_size=8).digest(), "little"))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread integer hash of uint64s (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _mix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, for the many pair hashes (half the memory traffic of 64 bits)."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def _words(masks: list[int], words: int) -> np.ndarray:
    """Bit masks as rows of `words` unsigned 64-bit words, lowest bits first."""
    out = np.zeros((len(masks), words), dtype=np.uint64)
    for row, mask in enumerate(masks):
        for word in range(words):
            out[row, word] = (mask >> (64 * word)) & 0xFFFFFFFFFFFFFFFF
    return out


def _bits(masks) -> int:
    return max((m.bit_length() for m in masks), default=0)


class CohortInstance:
    """One run's mentees and open mentors as NumPy columns, scored a block of mentees at a time."""

    def __init__(
        self,
        mentees: Sequence[MenteeNeeds],
        mentors: Sequence[MentorOffer],
        exclude: Mapping[int, AbstractSet[int]],
        salt: str,
    ):
        self.mentees = list(mentees)
        # A mentor with no free place can take nobody: they are not in the run at all.
        self.mentors = [m for m in mentors if m.capacity > 0 and m.free_places > 0]
        self.n, self.m = len(self.mentees), len(self.mentors)
        self.free = np.array([m.free_places for m in self.mentors], dtype=np.int64)
        self.mentor_ids = np.array([m.mentor_id for m in self.mentors], dtype=np.int64)
        n_areas = max(_bits(m.expertise_mask for m in self.mentors), _bits(m.expertise_mask for m in self.mentees), 1)
        n_languages = max(
            _bits(m.language_mask for m in self.mentors),
            max((m.language_id + 1 for m in self.mentees if m.language_id is not None), default=0),
            1,
        )
        # Each weight as a table: one row per value a mentee can want (plus a last row of zeros for "none" or
        # a value no mentor has), one column per mentor; a block's term is then a gather of rows.
        self.sector_rows, self.sector = self._term(
            [m.sector_id for m in self.mentors], [m.sector_id for m in self.mentees], WEIGHTS["sector"]
        )
        self.country_rows, self.country = self._term(
            [m.country or None for m in self.mentors], [m.country or None for m in self.mentees], WEIGHTS["country"]
        )
        languages = np.zeros((n_languages + 1, self.m), dtype=np.float64)
        for col, mentor in enumerate(self.mentors):
            languages[ids_of(mentor.language_mask), col] = WEIGHTS["language"]
        self.language_rows = languages
        self.language = np.array([n_languages if m.language_id is None else m.language_id for m in self.mentees])
        # Expertise as 64-bit words of the masks: matched areas are popcount(mentee & mentor), as in score().
        words = (n_areas + 63) // 64
        self.mentor_areas = _words([m.expertise_mask for m in self.mentors], words)
        self.mentee_areas = _words([m.expertise_mask for m in self.mentees], words)
        # Nobody's share is divided by zero: a mentee who wants no area matches none (0 / 1).
        self.wanted = np.array([max(m.expertise_mask.bit_count(), 1) for m in self.mentees], dtype=np.float64)
        capacity = np.array([m.capacity for m in self.mentors], dtype=np.float64)
        self.places = WEIGHTS["places"] * self.free / capacity

        column_of = {mentor_id: col for col, mentor_id in enumerate(self.mentor_ids.tolist())}
        excluded = [
            (row, column_of[mentor_id])
            for row, mentee in enumerate(self.mentees)
            for mentor_id in exclude.get(mentee.mentee_id, ())
            if mentor_id in column_of
        ]
        self.excluded = np.array(sorted(excluded), dtype=np.int64).reshape(-1, 2)

        seed = _seed(salt)
        mentee_ids = np.array([m.mentee_id for m in self.mentees], dtype=np.int64).astype(np.uint64)
        # Each id hashed once with the salt; a pair's hash mixes the two, and its top TIE_BITS order equal
        # scores: a fixed order that owes nothing to which id is lower.
        self.mentee_hash = _mix64(mentee_ids ^ seed).astype(np.uint32)
        self.mentor_hash = _mix64(_mix64(self.mentor_ids.astype(np.uint64)) + seed).astype(np.uint32)
        self.block_rows = max(1, BLOCK_CELLS // max(self.m, 1))
        if self.m >= MAX_MENTORS:
            raise ValueError(f"Cohort matching takes at most {MAX_MENTORS - 1:,} mentors with free places at once.")

    def blocks(self):
        for start in range(0, self.n, self.block_rows):
            yield start, min(start + self.block_rows, self.n)

    def _term(self, mentor_values, mentee_values, weight) -> tuple[np.ndarray, np.ndarray]:
        """A weight paid when mentee and mentor share a value (None never matches): the table and each mentee's row."""
        index = {value: i for i, value in enumerate(sorted({v for v in mentor_values if v is not None}, key=str))}
        rows = np.zeros((len(index) + 1, self.m), dtype=np.float64)
        for col, value in enumerate(mentor_values):
            if value is not None:
                rows[index[value], col] = weight
        return rows, np.array([index.get(v, len(index)) if v is not None else len(index) for v in mentee_values])

    def units(self, start: int, stop: int) -> np.ndarray:
        """Scores of mentees [start, stop) x every open mentor, in units of 0.0001; -1 where excluded.

        Added up in score()'s order (sector, expertise, language, country, places), so the floats are the same.
        """
        total = self.sector_rows[self.sector[start:stop]]
        matched = np.zeros(total.shape, dtype=np.uint16)
        for word in range(self.mentee_areas.shape[1]):
            matched += np.bitwise_count(self.mentee_areas[start:stop, word, None] & self.mentor_areas[None, :, word])
        # (weight x matched) / wanted, as score() writes it; 0 where nothing matches, and x + 0.0 is x.
        share = matched * WEIGHTS["expertise"]
        share /= self.wanted[start:stop, None]
        total += share
        total += self.language_rows[self.language[start:stop]]
        total += self.country_rows[self.country[start:stop]]
        total += self.places[None, :]
        total *= UNIT
        units = np.rint(total).astype(np.int64)
        lo, hi = np.searchsorted(self.excluded[:, 0], [start, stop])
        units[self.excluded[lo:hi, 0] - start, self.excluded[lo:hi, 1]] = -1
        return units

    def ties(self, rows) -> np.ndarray:
        """For mentees `rows` (a slice or indices) x every open mentor: TIE_BITS of a salted hash of the pair."""
        mixed = _mix32(self.mentee_hash[rows, None] ^ self.mentor_hash[None, :]) >> np.uint32(32 - TIE_BITS)
        return mixed.astype(np.int64)

    def keys(self, start: int, stop: int, units: np.ndarray) -> np.ndarray:
        """Sort keys: the score, then the pair's hash for equal scores; negative where excluded."""
        return np.where(units >= 0, (units << TIE_BITS) | self.ties(slice(start, stop)), -1)


def _top_per_row(keys: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest keys (unordered)."""
    if k >= keys.shape[1]:
        return np.broadcast_to(np.arange(keys.shape[1]), keys.shape)
    return np.argpartition(keys, keys.shape[1] - k, axis=1)[:, keys.shape[1] - k :]


@dataclass
class _Candidates:
    rows: np.ndarray  # mentee index
    cols: np.ndarray  # mentor index
    units: np.ndarray
    off_every_list: int


def _candidates(inst: CohortInstance, per_mentee: int, per_mentor: int) -> _Candidates:
    """Each mentee's best `per_mentee` mentors and each mentor's best `per_mentor` mentees, as one edge list."""
    rows, cols, units_kept = [], [], []
    # Each mentor's best mentees so far, as flat (mentor, mentee, key) arrays, and the key a mentee must beat
    # to join a mentor's list: the per_mentor-th best so far, or -1 (any allowed pair) while the list is short.
    best_cols = best_rows = best_keys = np.zeros(0, dtype=np.int64)
    threshold = np.full(inst.m, -1, dtype=np.int64)
    reachable = np.zeros(inst.m, dtype=bool)  # some mentee may be paired with this mentor
    for start, stop in inst.blocks():
        units = inst.units(start, stop)
        keys = inst.keys(start, stop, units)
        reachable |= (units >= 0).any(axis=0)
        top = _top_per_row(keys, per_mentee)
        block_rows = np.broadcast_to(np.arange(start, stop)[:, None], top.shape)
        kept = np.take_along_axis(keys, top, axis=1) >= 0
        rows.append(block_rows[kept])
        cols.append(top[kept])
        units_kept.append(np.take_along_axis(units, top, axis=1)[kept])
        if not per_mentor:
            continue
        better_rows, better_cols = np.nonzero(keys > threshold[None, :])
        pool_cols = np.concatenate([best_cols, better_cols])
        pool_rows = np.concatenate([best_rows, better_rows + start])
        pool_keys = np.concatenate([best_keys, keys[better_rows, better_cols]])
        order = np.argsort(pool_cols * KEY_SPAN + (KEY_SPAN - 1 - pool_keys))  # by mentor, best first
        pool_cols, pool_rows, pool_keys = pool_cols[order], pool_rows[order], pool_keys[order]
        place = np.arange(len(pool_cols)) - np.searchsorted(pool_cols, pool_cols)
        keep = place < per_mentor
        best_cols, best_rows, best_keys = pool_cols[keep], pool_rows[keep], pool_keys[keep]
        last = place[keep] == per_mentor - 1
        threshold[best_cols[last]] = best_keys[last]
    rows.append(best_rows)
    cols.append(best_cols)
    units_kept.append(best_keys >> TIE_BITS)
    rows_all, cols_all, units_all = _unique_edges(inst.m, np.concatenate(rows), np.concatenate(cols), units_kept)
    listed = np.zeros(inst.m, dtype=bool)
    listed[cols_all] = True
    return _Candidates(rows_all, cols_all, units_all, int((reachable & ~listed).sum()))


def _unique_edges(m: int, rows: np.ndarray, cols: np.ndarray, units) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    units = np.concatenate(units) if isinstance(units, list) else units
    _, first = np.unique(rows * max(m, 1) + cols, return_index=True)
    return rows[first], cols[first], units[first]


@dataclass
class _Flow:
    matched: np.ndarray  # bool per candidate edge
    duals: list[tuple[np.ndarray, np.ndarray]]  # (u per mentee, p per mentor) in units, each proving it optimal


def _solve(inst: CohortInstance, rows: np.ndarray, cols: np.ndarray, units: np.ndarray) -> _Flow:
    """The min-cost flow over the candidate edges, and dual values that prove it optimal on them."""
    n, m = inst.n, inst.m
    sink = n + m
    flow = SimpleMinCostFlow()
    edge_arcs = flow.add_arcs_with_capacity_and_unit_cost(rows, n + cols, np.ones_like(rows), -units)
    mentees = np.arange(n, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(mentees, np.full(n, sink), np.ones(n, np.int64), np.zeros(n, np.int64))
    mentor_nodes = n + np.arange(m, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(mentor_nodes, np.full(m, sink), inst.free, np.zeros(m, np.int64))
    flow.set_nodes_supplies(np.append(mentees, sink), np.append(np.ones(n, np.int64), -n))
    status = flow.solve()
    if status != SimpleMinCostFlow.OPTIMAL:
        raise RuntimeError(f"The min-cost flow did not solve: {status}")
    matched = flow.flows(edge_arcs) > 0
    return _Flow(matched, _duals(inst, rows, cols, units, matched))


def _duals(
    inst: CohortInstance, rows: np.ndarray, cols: np.ndarray, units: np.ndarray, matched: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dual values (u per mentee, p per mentor) of the candidate LP that meet complementary slackness with
    the flow: the two extremes, largest u (smallest prices) and smallest u (largest prices).

    The conditions are difference constraints x(head) <= x(tail) + w on x = (u, -p, z = 0): u_i + p_j >= s_ij
    on every candidate edge, = on a matched one; u, p >= 0; u_i = 0 if i waits; p_j = 0 if j keeps a free
    place. An optimal flow leaves no negative cycle, so shortest paths from z give the largest solution and
    shortest paths to z the smallest. Both bound the whole instance; neither is always the tighter.
    """
    n, m = inst.n, inst.m
    z = n + m
    mentee, mentor = np.arange(n), n + np.arange(m)
    load = np.bincount(cols[matched], minlength=m)
    open_mentor = mentor[load < inst.free]
    waiting = np.ones(n, dtype=bool)
    waiting[rows[matched]] = False
    waiting_mentee = mentee[waiting]
    tail = np.concatenate(
        [np.full(m, z), open_mentor, np.full(len(waiting_mentee), z), mentee, rows, n + cols[matched]]
    )
    head = np.concatenate(
        [mentor, np.full(len(open_mentor), z), waiting_mentee, np.full(n, z), n + cols, rows[matched]]
    )
    weight = np.concatenate(
        [np.zeros(m + len(open_mentor) + len(waiting_mentee) + n, np.int64), -units, units[matched]]
    )
    largest = _shortest_paths(z + 1, tail, head, weight, z)
    smallest = -_shortest_paths(z + 1, head, tail, weight, z)  # paths to z: the reversed graph from z
    return [(x[:n], -x[n:z]) for x in (largest, smallest)]


def _shortest_paths(nodes: int, tail: np.ndarray, head: np.ndarray, weight: np.ndarray, source: int) -> np.ndarray:
    """Bellman-Ford from `source`, vectorised, relaxing each round only the arcs out of nodes that changed."""
    order = np.argsort(tail, kind="stable")
    tail, head, weight = tail[order], head[order], weight[order]
    starts = np.searchsorted(tail, np.arange(nodes + 1))
    distance = np.full(nodes, np.iinfo(np.int64).max // 4, dtype=np.int64)
    distance[source] = 0
    changed = np.array([source])
    for _ in range(nodes + 1):
        if not changed.size:
            return distance
        first, counts = starts[changed], starts[changed + 1] - starts[changed]
        arcs = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        before = distance.copy()
        np.minimum.at(distance, head[arcs], distance[tail[arcs]] + weight[arcs])
        changed = np.nonzero(distance < before)[0]
    raise RuntimeError("Negative cycle: the flow was not optimal.")


def _price(inst: CohortInstance, duals: list[tuple[np.ndarray, np.ndarray]], per_mentee: int):
    """Over ALL pairs, in blocks, for each set of dual values (u, p): the upper bound
    sum_i max(0, max_j (s_ij - p_j)) + sum_j free_j p_j, and the pairs whose score less the mentor's price
    beats the mentee's u (up to `per_mentee` a mentee, best first, equal ones by hash).

    Returns the least bound, and None for the missed pairs if some dual values show that no pair is missed
    (the flow is then optimal over all pairs and the bound equals its total).
    """
    bounds = [int((inst.free * p).sum()) for _, p in duals]
    missed = [([], [], []) for _ in duals]
    for start, stop in inst.blocks():
        units = inst.units(start, stop)
        for which, (u, p) in enumerate(duals):
            reduced = np.where(units >= 0, units - p[None, :], EXCLUDED)
            best = reduced.max(axis=1, initial=0)
            bounds[which] += int(best.sum())
            beats = np.nonzero(best > u[start:stop])[0]
            if not beats.size:
                continue
            keys = (reduced[beats] << TIE_BITS) | inst.ties(beats + start)
            top = _top_per_row(keys, per_mentee)
            wanted = (np.take_along_axis(keys, top, axis=1) >> TIE_BITS) > u[beats + start][:, None]
            missed[which][0].append(np.broadcast_to(beats[:, None] + start, top.shape)[wanted])
            missed[which][1].append(top[wanted])
            missed[which][2].append(np.take_along_axis(units[beats], top, axis=1)[wanted])
    if any(not rows for rows, _, _ in missed):
        return min(bounds), None
    return min(bounds), tuple(np.concatenate([part for found in missed for part in found[i]]) for i in range(3))


def candidate_lists(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    *,
    candidates_per_mentee: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
    salt: str = TIE_SALT,
) -> dict[int, list[Suggestion]]:
    """Each mentee's best mentors with a free place, best first; equal scores in a stable hashed order."""
    inst = CohortInstance(mentees, mentors, exclude or {}, salt)
    lists: dict[int, list[Suggestion]] = {m.mentee_id: [] for m in mentees}
    if not inst.m:
        return lists
    k = min(candidates_per_mentee, inst.m)
    for start, stop in inst.blocks():
        keys = inst.keys(start, stop, inst.units(start, stop))
        top = _top_per_row(keys, k)
        top_keys = np.take_along_axis(keys, top, axis=1)
        order = np.argsort(-top_keys, axis=1, kind="stable")
        top, top_keys = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_keys, order, axis=1)
        for row in range(stop - start):
            needs = inst.mentees[start + row]
            lists[needs.mentee_id] = [
                score(needs, inst.mentors[col]) for col, key in zip(top[row], top_keys[row], strict=True) if key >= 0
            ]
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
    mentees_per_mentor: int = 20,
    exclude: Mapping[int, AbstractSet[int]] | None = None,
    pricing_rounds: int = PRICING_ROUNDS,
    salt: str = TIE_SALT,
) -> CohortResult:
    """The matching of greatest total score found, never over a mentor's free places, never an excluded pair,
    with an upper bound on the best total over all pairs (equal to the total when it is proven optimal)."""
    inst = CohortInstance(mentees, mentors, exclude or {}, salt)
    if not inst.n or not inst.m:
        return CohortResult(unmatched=[m.mentee_id for m in mentees])
    found = _candidates(inst, candidates_per_mentee, mentees_per_mentor)
    rows, cols, units = found.rows, found.cols, found.units
    best_bound = None
    rounds = 0
    while True:
        solved = _solve(inst, rows, cols, units)
        rounds += 1
        bound, missed = _price(inst, solved.duals, MISSED_PER_MENTEE)
        best_bound = bound if best_bound is None else min(best_bound, bound)
        if missed is None or rounds > pricing_rounds:
            break
        rows, cols, units = _unique_edges(
            inst.m,
            np.concatenate([rows, missed[0]]),
            np.concatenate([cols, missed[1]]),
            [units, missed[2]],
        )
    assignment = {
        inst.mentees[row].mentee_id: score(inst.mentees[row], inst.mentors[col])
        for row, col in zip(rows[solved.matched].tolist(), cols[solved.matched].tolist(), strict=True)
    }
    result = result_of(inst.mentees, assignment)
    result.upper_bound = best_bound / UNIT
    result.mentors_off_every_list = found.off_every_list
    result.candidate_pairs = len(rows)
    result.rounds = rounds
    return result
