"""Cohort matching reaches the true optimum over all pairs, and its bound is a true bound (R-MATCH-3).

The oracles here share nothing with matching/cohort.py but `suggest.score`: a brute force over every
assignment for tiny instances, and SciPy's dense assignment solver over every pair, with each mentor's
places as columns, for small ones.
"""

import itertools
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from matching import cohort
from matching.suggest import MenteeNeeds, MentorOffer, mask_of, score

FORBIDDEN = 1e9


def mentee(mentee_id, sector=None, areas=(), language=None, country=""):
    return MenteeNeeds(mentee_id, sector, mask_of(areas), language, country)


def mentor(mentor_id, sector=None, areas=(), languages=(), country="", capacity=1, free=None):
    return MentorOffer(
        mentor_id, sector, mask_of(areas), mask_of(languages), country, capacity, capacity if free is None else free
    )


def random_instance(rng, n_mentees, n_mentors, *, areas=12):
    """Few distinct values, so equal scores are common; capacities up to the model's 10."""
    mentors = []
    for i in range(n_mentors):
        capacity = rng.randint(1, 10)
        mentors.append(
            mentor(
                1000 + i,
                rng.choice([None, *range(3)]),
                rng.sample(range(areas), rng.randint(0, 4)),
                rng.sample(range(4), rng.randint(0, 2)),
                rng.choice(["", "GB", "FR"]),
                capacity,
                rng.choice([0, 1, 1, 2, capacity]),
            )
        )
    mentees = [
        mentee(
            i,
            rng.choice([None, *range(3)]),
            rng.sample(range(areas), rng.randint(0, 3)),
            rng.choice([None, *range(4)]),
            rng.choice(["", "GB", "FR"]),
        )
        for i in range(n_mentees)
    ]
    return mentees, mentors


def random_exclusions(rng, mentees, mentors, share=0.15):
    return {m.mentee_id: {r.mentor_id for r in mentors if rng.random() < share} for m in mentees}


def allowed(mentee_id, mentor_offer, exclude):
    return mentor_offer.free_places > 0 and mentor_offer.mentor_id not in exclude.get(mentee_id, ())


def dense_optimum(mentees, mentors, exclude) -> float:
    """The best total over every pair: mentees x (every free place, plus one "stay waiting" column each)."""
    places = [r for r in mentors if r.capacity > 0 for _ in range(r.free_places)]
    if not mentees or not places:
        return 0.0
    cost = np.full((len(mentees), len(places) + len(mentees)), FORBIDDEN)
    for row, m in enumerate(mentees):
        cost[row, len(places) + row] = 0.0
        for col, r in enumerate(places):
            if allowed(m.mentee_id, r, exclude):
                cost[row, col] = -score(m, r).score
    rows, cols = linear_sum_assignment(cost)
    return round(-sum(cost[r, c] for r, c in zip(rows, cols, strict=True) if cost[r, c] < 0), 4)


def brute_force_optimum(mentees, mentors, exclude) -> float:
    """Every way to give each mentee a mentor or none, within places: tiny instances only."""
    best = 0.0
    choices = [None, *range(len(mentors))]
    for assignment in itertools.product(choices, repeat=len(mentees)):
        taken = [0] * len(mentors)
        total = 0.0
        for m, col in zip(mentees, assignment, strict=True):
            if col is None:
                continue
            if not allowed(m.mentee_id, mentors[col], exclude):
                break
            taken[col] += 1
            total += score(m, mentors[col]).score
        else:
            if all(t <= r.free_places for t, r in zip(taken, mentors, strict=True)):
                best = max(best, round(total, 4))
    return best


def check_rules(result, mentees, mentors, exclude):
    """Capacity, exclusions, nobody twice, nobody dropped (R-MATCH-2, R-MATCH-4, R-MATCH-7)."""
    free = {r.mentor_id: r.free_places for r in mentors}
    taken = {}
    for mentee_id, mentor_id, _ in result.pairs:
        taken[mentor_id] = taken.get(mentor_id, 0) + 1
        assert mentor_id not in exclude.get(mentee_id, ())
    assert all(n <= free[r] for r, n in taken.items())
    paired = [m for m, _, _ in result.pairs]
    assert len(paired) == len(set(paired))
    assert sorted(paired + result.unmatched) == sorted(m.mentee_id for m in mentees)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n_mentees=st.integers(0, 5), n_mentors=st.integers(0, 3))
def test_tiny_instances_reach_the_brute_force_optimum(seed, n_mentees, n_mentors):
    # R-MATCH-3: candidate lists of one each, so the optimum needs the pricing rounds to find the rest
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors)
    exclude = random_exclusions(rng, mentees, mentors)
    result = cohort.cohort_match(
        mentees, mentors, exclude=exclude, candidates_per_mentee=1, mentees_per_mentor=1, pricing_rounds=50
    )
    check_rules(result, mentees, mentors, exclude)
    optimum = brute_force_optimum(mentees, mentors, exclude)
    assert result.total_score == optimum
    assert result.upper_bound >= optimum - 1e-9
    assert result.gap == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n_mentees=st.integers(0, 40),
    n_mentors=st.integers(0, 15),
    per_mentee=st.integers(1, 4),
    per_mentor=st.integers(0, 3),
)
def test_the_flow_reaches_the_exact_optimum_and_the_bound_holds(seed, n_mentees, n_mentors, per_mentee, per_mentor):
    # R-MATCH-3: short candidate lists and pricing reach the optimum over ALL pairs, proven by the bound
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors)
    exclude = random_exclusions(rng, mentees, mentors)
    optimum = dense_optimum(mentees, mentors, exclude)
    result = cohort.cohort_match(
        mentees,
        mentors,
        exclude=exclude,
        candidates_per_mentee=per_mentee,
        mentees_per_mentor=per_mentor,
        pricing_rounds=100,
    )
    check_rules(result, mentees, mentors, exclude)
    assert result.total_score == optimum
    assert result.upper_bound == pytest.approx(optimum, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n_mentees=st.integers(1, 40), n_mentors=st.integers(1, 15))
def test_the_bound_is_a_true_bound_even_when_pricing_stops_early(seed, n_mentees, n_mentors):
    # R-MATCH-3: with one candidate each and no pricing round, the total may fall short, never the bound
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors)
    exclude = random_exclusions(rng, mentees, mentors)
    optimum = dense_optimum(mentees, mentors, exclude)
    result = cohort.cohort_match(
        mentees, mentors, exclude=exclude, candidates_per_mentee=1, mentees_per_mentor=0, pricing_rounds=0
    )
    check_rules(result, mentees, mentors, exclude)
    assert result.total_score <= optimum + 1e-9
    assert result.upper_bound >= optimum - 1e-9
    assert result.upper_bound >= result.total_score - 1e-9
    if result.gap == 0:
        assert result.total_score == optimum


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n_mentees=st.integers(1, 60), n_mentors=st.integers(1, 20))
def test_permuting_ids_gives_the_same_total(seed, n_mentees, n_mentors):
    # R-MATCH-3: who has the lower id decides nothing
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors)
    first = cohort.cohort_match(mentees, mentors, candidates_per_mentee=2, mentees_per_mentor=2)
    mentee_ids = rng.sample(range(10_000, 20_000), n_mentees)
    mentor_ids = rng.sample(range(30_000, 40_000), n_mentors)
    renamed_mentees = [replace(m, mentee_id=i) for i, m in zip(mentee_ids, mentees, strict=True)]
    renamed_mentors = [replace(r, mentor_id=i) for i, r in zip(mentor_ids, mentors, strict=True)]
    rng.shuffle(renamed_mentees)
    rng.shuffle(renamed_mentors)
    second = cohort.cohort_match(renamed_mentees, renamed_mentors, candidates_per_mentee=2, mentees_per_mentor=2)
    assert second.total_score == first.total_score
    assert len(second.pairs) == len(first.pairs)


def test_equal_scores_are_not_settled_by_the_lower_id():
    # R-MATCH-3: 1,000 equally good mentors and 400 equal mentees with 5 places each on their list: the
    # lower-id half of mentors must not hold the lists' places (by id they held all of them).
    mentors = [mentor(1000 + i, sector=1, capacity=1) for i in range(1000)]
    mentees = [mentee(i, sector=1) for i in range(400)]
    lists = cohort.candidate_lists(mentees, mentors, candidates_per_mentee=5)
    places = [s.mentor_id for chosen in lists.values() for s in chosen]
    assert len(places) == 2000
    lower_half = sum(1 for mentor_id in places if mentor_id < 1500)
    assert 0.4 < lower_half / len(places) < 0.6
    assert len(set(places)) > 800  # spread over most mentors, not the same five for everyone


def test_the_order_of_equal_scores_is_stable_between_runs_and_changes_with_the_salt():
    mentors = [mentor(1000 + i, sector=1) for i in range(50)]
    mentees = [mentee(i, sector=1) for i in range(10)]
    first = cohort.candidate_lists(mentees, mentors, candidates_per_mentee=3)
    assert cohort.candidate_lists(list(reversed(mentees)), list(reversed(mentors)), candidates_per_mentee=3) == first
    assert cohort.candidate_lists(mentees, mentors, candidates_per_mentee=3, salt="another run") != first


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n_mentees=st.integers(1, 80), n_mentors=st.integers(1, 30))
def test_no_mentor_with_a_free_place_is_off_every_list(seed, n_mentees, n_mentors):
    # R-MATCH-3: each mentor's best mentees are on the lists too, so a mentor everyone ranks last still is
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors)
    exclude = random_exclusions(rng, mentees, mentors, share=0.5)
    instance = cohort.CohortInstance(mentees, mentors, exclude, cohort.TIE_SALT)
    found = cohort._candidates(instance, 1, 1)
    listed = {instance.mentors[c].mentor_id for c in found.cols.tolist()}
    for r in mentors:
        if any(allowed(m.mentee_id, r, exclude) for m in mentees):
            assert r.mentor_id in listed
    assert found.off_every_list == 0
    result = cohort.cohort_match(mentees, mentors, exclude=exclude, candidates_per_mentee=1, mentees_per_mentor=1)
    assert result.mentors_off_every_list == 0


def test_a_mentor_nobody_ranks_high_still_gets_a_mentee():
    # R-MATCH-3: ten mentees all rank the same five mentors first; the sixth mentor's place is still filled
    mentors = [mentor(100 + i, sector=1, areas=[1], languages=[0], country="GB") for i in range(5)]
    mentors.append(mentor(200))
    mentees = [mentee(i, sector=1, areas=[1], language=0, country="GB") for i in range(10)]
    result = cohort.cohort_match(mentees, mentors, candidates_per_mentee=5, mentees_per_mentor=1, pricing_rounds=0)
    assert result.mentors_off_every_list == 0
    assert 200 in {r for _, r, _ in result.pairs}
    assert len(result.pairs) == 6 and result.gap == 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n_mentees=st.integers(1, 30), n_mentors=st.integers(1, 20), big=st.booleans())
def test_vectorised_scores_are_score_to_the_last_decimal(seed, n_mentees, n_mentors, big):
    # R-MATCH-1, R-MATCH-3: `score` stays the definition; the NumPy blocks give the same number for every
    # pair, with area ids past 64 (several words per mask) and every capacity from 1 to 10.
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors, areas=150 if big else 12)
    instance = cohort.CohortInstance(mentees, mentors, {}, cohort.TIE_SALT)
    units = np.concatenate([instance.units(a, b) for a, b in instance.blocks()]) if instance.m else None
    for row, m in enumerate(mentees):
        for col, r in enumerate(instance.mentors):
            assert units[row, col] == round(score(m, r).score * cohort.UNIT)


def test_nothing_to_match_gives_an_empty_result_with_a_zero_bound():
    # R-MATCH-4: no mentors, no mentees, no free places: nobody dropped, nothing claimed
    assert cohort.cohort_match([], [mentor(10)]).upper_bound == 0
    empty = cohort.cohort_match([mentee(1)], [mentor(10, capacity=2, free=0)])
    assert empty.pairs == [] and empty.unmatched == [1] and empty.upper_bound == 0 and empty.gap == 0
