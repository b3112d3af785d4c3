"""Run the PyPI `matching` package's hospital-resident solver, for comparison only (bench and tests).

Our Django app is also called `matching`, and the package imports itself by that
absolute name, so it cannot be imported in this process. It runs in a child
Python started with -P (no script directory on sys.path) from a neutral folder;
the instance goes in and the matching comes out as JSON.
"""

import json
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, sys, time
sys.setrecursionlimit(1_000_000)  # the package deep-copies its players recursively
from matching.games import HospitalResident
data = json.load(sys.stdin)
start = time.perf_counter()
game = HospitalResident.create_from_dictionaries(
    {int(k): v for k, v in data["residents"].items()},
    {int(k): v for k, v in data["hospitals"].items()},
    {int(k): v for k, v in data["capacities"].items()},
)
solution = game.solve(optimal="resident")
seconds = time.perf_counter() - start
pairs = [[resident.name, hospital.name] for hospital, residents in solution.items() for resident in residents]
json.dump({"pairs": pairs, "seconds": seconds}, sys.stdout)
"""


def solve_hospital_resident(
    resident_prefs: dict[int, list[int]], hospital_prefs: dict[int, list[int]], capacities: dict[int, int]
) -> tuple[list[tuple[int, int]], float]:
    """Resident-optimal stable matching from the package: (pairs of (resident, hospital), seconds to solve)."""
    payload = json.dumps({"residents": resident_prefs, "hospitals": hospital_prefs, "capacities": capacities})
    with tempfile.TemporaryDirectory() as neutral:
        done = subprocess.run(  # noqa: S603  our own interpreter and code, no shell
            [sys.executable, "-P", "-c", _CHILD],
            input=payload,
            capture_output=True,
            text=True,
            cwd=neutral,
            timeout=600,
            check=True,
        )
    answer = json.loads(done.stdout)
    return [(int(r), int(h)) for r, h in answer["pairs"]], answer["seconds"]


def package_stable_match(lists: dict[int, list], free: dict[int, int]):
    """The package's answer on our candidate lists: mentors rank by score, then lower mentee id."""
    resident_prefs = {mentee_id: [s.mentor_id for s in chosen] for mentee_id, chosen in lists.items() if chosen}
    listed_by: dict[int, list[tuple[float, int]]] = {}
    for mentee_id, chosen in lists.items():
        for s in chosen:
            listed_by.setdefault(s.mentor_id, []).append((s.score, mentee_id))
    hospital_prefs = {
        mentor_id: [m for _, m in sorted(h, key=lambda x: (-x[0], x[1]))] for mentor_id, h in listed_by.items()
    }
    capacities = {mentor_id: free[mentor_id] for mentor_id in hospital_prefs}
    return solve_hospital_resident(resident_prefs, hospital_prefs, capacities)
