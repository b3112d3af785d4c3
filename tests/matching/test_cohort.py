"""Cohort matching over plain data: capacity, exclusions, optimality against baselines (R-MATCH-3)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.baselines import blocking_pairs, greedy_match, stable_match
from bench.hr_package import package_stable_match
from matching import cohort
from matching.suggest import MenteeNeeds, MentorOffer, mask_of, rank, score


def mentee(mentee_id, sector=None, areas=(), language=None, country=""):
    return MenteeNeeds(mentee_id, sector, mask_of(areas), language, country)


def mentor(mentor_id, sector=None, areas=(), languages=(), country="", capacity=1, free=None):
    return MentorOffer(
        mentor_id, sector, mask_of(areas), mask_of(languages), country, capacity, capacity if free is None else free
    )


def test_a_small_instance_reaches_its_known_optimum():
    # R-MATCH-3: greedy gives mentee 1 the place mentee 2 needs; the optimum does not.
    mentees = [mentee(1, sector=1, areas=[5], language=2), mentee(2, sector=1)]
    mentors = [mentor(10, sector=1, areas=[5]), mentor(11, areas=[5], languages=[2])]
    # Scores: (1,10) 7.5, (1,11) 6.5, (2,10) 3.5, (2,11) 0.5.
    greedy = greedy_match(mentees, mentors)
    assert {(m, r) for m, r, _ in greedy.pairs} == {(1, 10), (2, 11)} and greedy.total_score == 8.0
    result = cohort.cohort_match(mentees, mentors)
    assert {(m, r) for m, r, _ in result.pairs} == {(1, 11), (2, 10)}
    assert result.total_score == 10.0 and result.unmatched == []


def test_a_mentor_with_no_free_place_gets_nobody():
    # R-MATCH-3, R-MATCH-2
    result = cohort.cohort_match([mentee(1, sector=1)], [mentor(10, sector=1, capacity=2, free=0)])
    assert result.pairs == [] and result.unmatched == [1]


def test_exclusions_are_respected():
    # R-MATCH-7: former partners and recent declines are not proposed
    mentees = [mentee(1, sector=1)]
    mentors = [mentor(10, sector=1), mentor(11)]
    result = cohort.cohort_match(mentees, mentors, exclude={1: {10}})
    assert [(m, r) for m, r, _ in result.pairs] == [(1, 11)]


def test_with_no_mentors_everyone_waits():
    # R-MATCH-4: nobody is dropped; they stay waiting
    result = cohort.cohort_match([mentee(1), mentee(2)], [])
    assert result.pairs == [] and result.unmatched == [1, 2]


def test_candidate_lists_hold_exactly_the_scores_suggestions_rank_by():
    # R-MATCH-3: the lists keep the same scores as `suggest.rank`, each the one `score` gives with its reasons;
    # only which of several equally good mentors fill the last places differs (a stable hash, not the lower id).
    rng = random.Random(3)
    mentees, mentors = random_instance(rng, 80, 40)
    by_id = {r.mentor_id: r for r in mentors}
    lists = cohort.candidate_lists(mentees, mentors, candidates_per_mentee=7)
    for m in mentees:
        ranked = rank(m, mentors, limit=7)
        assert [s.score for s in lists[m.mentee_id]] == [s.score for s in ranked]
        assert all(s == score(m, by_id[s.mentor_id]) for s in lists[m.mentee_id])


def random_instance(rng, n_mentees, n_mentors):
    mentors = []
    for i in range(n_mentors):
        capacity = rng.randint(0, 5)
        mentors.append(
            mentor(
                1000 + i,
                rng.choice([None, *range(5)]),
                rng.sample(range(12), rng.randint(0, 4)),
                rng.sample(range(5), rng.randint(0, 2)),
                rng.choice(["", "GB", "FR", "IN"]),
                capacity,
                rng.randint(0, capacity),
            )
        )
    mentees = [
        mentee(
            i,
            rng.choice([None, *range(5)]),
            rng.sample(range(12), rng.randint(0, 3)),
            rng.choice([None, *range(5)]),
            rng.choice(["", "GB", "FR"]),
        )
        for i in range(n_mentees)
    ]
    return mentees, mentors


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n_mentees=st.integers(0, 30), n_mentors=st.integers(0, 12))
def test_cohort_never_exceeds_capacity_and_beats_greedy(seed, n_mentees, n_mentors):
    # R-MATCH-3: property over random instances
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, n_mentees, n_mentors)
    exclude = {m.mentee_id: {r.mentor_id for r in mentors if rng.random() < 0.1} for m in mentees}
    result = cohort.cohort_match(mentees, mentors, exclude=exclude, candidates_per_mentee=5)
    free = {r.mentor_id: r.free_places for r in mentors}
    taken = {}
    for mentee_id, mentor_id, _ in result.pairs:
        taken[mentor_id] = taken.get(mentor_id, 0) + 1
        assert mentor_id not in exclude[mentee_id]
    assert all(taken[r] <= free[r] for r in taken)
    paired = [m for m, _, _ in result.pairs]
    assert len(paired) == len(set(paired))
    assert set(paired) | set(result.unmatched) == {m.mentee_id for m in mentees}
    greedy = greedy_match(mentees, mentors, exclude=exclude, candidates_per_mentee=5)
    assert result.total_score >= greedy.total_score - 1e-6


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_our_deferred_acceptance_is_stable(seed):
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, 25, 10)
    stable = stable_match(mentees, mentors, candidates_per_mentee=6)
    assert blocking_pairs(stable, mentees, mentors, candidates_per_mentee=6) == 0
    assert cohort.cohort_match(mentees, mentors, candidates_per_mentee=6).total_score >= stable.total_score - 1e-6


def test_our_deferred_acceptance_agrees_with_the_matching_package():

    rng = random.Random(11)
    mentees, mentors = random_instance(rng, 60, 20)
    lists = cohort.candidate_lists(mentees, mentors)
    ours = stable_match(mentees, mentors)
    pairs, _ = package_stable_match(lists, {r.mentor_id: r.free_places for r in mentors})
    scores = {(m, s.mentor_id): s.score for m, chosen in lists.items() for s in chosen}
    assert round(sum(scores[p] for p in pairs), 4) == ours.total_score
    assert sorted(pairs) == sorted((m, r) for m, r, _ in ours.pairs)
