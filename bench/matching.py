"""Suggestion and cohort-matching figures on plain data (no database), printed as key=value lines.

Full run: suggestions over 10,000 listed mentors (100 mentees sampled), then
cohort matching of 10,000 mentees to 3,000 mentors with 1 to 5 free places, and
again at 2,000 x 600 (the small_* figures).
--quick: 1,000 listed mentors; 1,000 mentees to 300 mentors.

optimum_score is the exact optimum of the same instance: a min-cost flow over
every pair (baselines.exact_match), no candidate lists. Over all 30 million pairs
of the full size it takes about a minute and 3.5 GB; --no-full-exact skips it, and
then optimum_score comes from the 2,000 x 600 instance (optimum_size says which).
optimality = cohort_score / optimum_score; bound_gap = 1 - cohort_score / the
upper bound the cohort run reports itself (0: it proved its own optimality).
cohort_cpu_seconds is the process's CPU time, for a machine shared with others.

stable_score/stable_seconds come from the `matching` package's hospital-resident
solver where it is quick enough (the quick size), else from our own deferred
acceptance (cohort.stable_match), which the quick run checks against the package
(stable_matches_package).
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines import blocking_pairs, exact_match, greedy_match, stable_match
from hr_package import package_stable_match

from matching import cohort
from matching.suggest import MenteeNeeds, MentorOffer, mask_of, rank

N_SECTORS, N_AREAS, N_LANGUAGES = 40, 60, 12
COUNTRIES = ["GB", "IE", "FR", "DE", "ES", "IT", "NL", "PL", "IN", "NG", "KE", "ZA", "US", "CA", "AU"]


def skewed(rng: random.Random, n: int) -> int:
    """Popular sectors and areas come up far more often, as in a real scheme."""
    return min(int(rng.paretovariate(1.2)) - 1, n - 1)


def make_mentors(rng: random.Random, n: int, *, free_places: bool) -> list[MentorOffer]:
    mentors = []
    for i in range(n):
        capacity = rng.randint(1, 5)
        mentors.append(
            MentorOffer(
                mentor_id=100_000 + i,
                sector_id=skewed(rng, N_SECTORS),
                expertise_mask=mask_of({skewed(rng, N_AREAS) for _ in range(rng.randint(2, 6))}),
                language_mask=mask_of({0} | {rng.randrange(N_LANGUAGES) for _ in range(rng.randint(0, 2))}),
                country=rng.choice(COUNTRIES[:3] if rng.random() < 0.6 else COUNTRIES),
                capacity=capacity,
                free_places=capacity if free_places else rng.randint(1, capacity),
            )
        )
    return mentors


def make_mentees(rng: random.Random, n: int) -> list[MenteeNeeds]:
    return [
        MenteeNeeds(
            mentee_id=i,
            sector_id=skewed(rng, N_SECTORS) if rng.random() < 0.9 else None,
            expertise_mask=mask_of({skewed(rng, N_AREAS) for _ in range(rng.randint(1, 3))}),
            language_id=0 if rng.random() < 0.7 else rng.randrange(N_LANGUAGES),
            country=rng.choice(COUNTRIES[:3] if rng.random() < 0.6 else COUNTRIES),
        )
        for i in range(n)
    ]


def cohort_figures(mentees, mentors, *, exact: bool) -> dict:
    """Our cohort run on one instance, and with `exact` the true optimum beside it."""
    figures = {}
    wall, cpu = time.perf_counter(), time.process_time()
    ours = cohort.cohort_match(mentees, mentors)
    figures["cohort_seconds"] = round(time.perf_counter() - wall, 2)
    figures["cohort_cpu_seconds"] = round(time.process_time() - cpu, 2)
    figures["cohort_score"] = ours.total_score
    figures["cohort_matched"] = len(ours.pairs)
    figures["places"] = sum(m.free_places for m in mentors)
    figures["places_filled"] = len(ours.pairs)
    figures["upper_bound"] = ours.upper_bound
    figures["bound_gap"] = round(ours.gap, 6)
    figures["mentors_off_every_list"] = ours.mentors_off_every_list
    figures["candidate_pairs"] = ours.candidate_pairs
    figures["flow_solves"] = ours.rounds
    if exact:
        start = time.perf_counter()
        optimum = exact_match(mentees, mentors)
        figures["optimum_seconds"] = round(time.perf_counter() - start, 2)
        figures["optimum_score"] = optimum.total_score
        figures["optimality"] = round(ours.total_score / optimum.total_score, 6) if optimum.total_score else 1.0
    return figures, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--no-full-exact", action="store_true", help="skip the exact solve over all pairs at 10,000 x 3,000"
    )
    args = parser.parse_args()
    listed, n_mentees, n_mentors = (1_000, 1_000, 300) if args.quick else (10_000, 10_000, 3_000)
    rng = random.Random(2026)
    figures = {"listed_mentors": listed, "mentees": n_mentees, "mentors": n_mentors}
    figures["load_average"] = round(os.getloadavg()[0], 2)

    offers = make_mentors(rng, listed, free_places=True)
    sample = make_mentees(rng, 100)
    timings = []
    for needs in sample:
        start = time.perf_counter()
        rank(needs, offers, limit=10)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    figures["suggest_p50_ms"] = round(timings[49], 2)
    figures["suggest_p95_ms"] = round(timings[94], 2)

    mentees, mentors = make_mentees(rng, n_mentees), make_mentors(rng, n_mentors, free_places=False)
    exact_here = args.quick or not args.no_full_exact
    main_figures, ours = cohort_figures(mentees, mentors, exact=exact_here)
    figures.update(main_figures)
    if not args.quick:
        small_rng = random.Random(2027)
        small_mentees, small_mentors = make_mentees(small_rng, 2_000), make_mentors(small_rng, 600, free_places=False)
        small, _ = cohort_figures(small_mentees, small_mentors, exact=True)
        figures.update({f"small_{key}": value for key, value in small.items()})
        if not exact_here:
            figures["optimum_score"] = small["optimum_score"]
            figures["optimality"] = small["optimality"]
    figures["optimum_size"] = (
        f"{n_mentees}x{n_mentors}" if exact_here else "2000x600 (the exact solve at 10000x3000 was skipped)"
    )
    mentee_lists = cohort.candidate_lists(mentees, mentors)
    on_a_list = {s.mentor_id for chosen in mentee_lists.values() for s in chosen}
    # What lists from the mentees' side alone would leave out (hashed ties; by id it was worse).
    figures["mentors_off_mentee_lists"] = sum(1 for m in mentors if m.free_places and m.mentor_id not in on_a_list)
    figures["greedy_score"] = greedy_match(mentees, mentors).total_score

    start = time.perf_counter()
    own_stable = stable_match(mentees, mentors)
    own_seconds = time.perf_counter() - start
    if args.quick:
        lists = mentee_lists
        pairs, package_seconds = package_stable_match(lists, {m.mentor_id: m.free_places for m in mentors})
        scores = {(m, s.mentor_id): s.score for m, chosen in lists.items() for s in chosen}
        figures["stable_solver"] = "package"
        figures["stable_score"] = round(sum(scores[p] for p in pairs), 4)
        figures["stable_seconds"] = round(package_seconds, 2)
        figures["stable_matches_package"] = figures["stable_score"] == own_stable.total_score
    else:
        figures["stable_solver"] = "own"
        figures["stable_score"] = own_stable.total_score
        figures["stable_seconds"] = round(own_seconds, 2)
    figures["own_stable_seconds"] = round(own_seconds, 2)
    figures["blocking_pairs"] = blocking_pairs(ours, mentees, mentors)
    taken: dict[int, int] = {}
    for _, mentor_id, _ in ours.pairs:
        taken[mentor_id] = taken.get(mentor_id, 0) + 1
    free = {m.mentor_id: m.free_places for m in mentors}
    figures["capacity_violations"] = sum(1 for mentor_id, n in taken.items() if n > free[mentor_id])
    for key, value in figures.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
