"""The staff dashboards and the coordinator's lists on a large data set (issue 11, item 6). Prints figures; it is
not a timed test.

A fresh PostgreSQL database (bench_reports_<pid> on 127.0.0.1:5432) is migrated once and copied twice (CREATE
DATABASE ... TEMPLATE): a small data set and a large one, each made by `seed_demo --large` with its sizes,
then VACUUM ANALYZE. Each is measured in a child process of its own (its own settings and connections),
with the production configuration (DEBUG off, static files collected into a temp dir, Redis database
--redis-db for the cache, flushed at the end). The staff user and the coordinator (the demo logins) have TOTP
set up, so two-factor is satisfied as for any staff user; the Django test Client signs them in. The
databases are dropped at the end. Prints key=value lines on stdout, progress on stderr:

    dashboard_ms      /reports/ as staff: the median server time (the test Client's request, in-process) of
                      each filter (none, scheme, network, country, date range), the worst filter's
    dashboard_<filter>_ms   each filter's median
    queries_small     SQL queries of one /reports/ request on the small data set (the most of any filter)
    queries_large     the same on the large data set: equal, or a query grows with rows
    queries_equal     yes when every filter asks the same number of queries on both data sets
    sql_floor_ms      the same figures computed with hand-written SQL (one statement per figure, run in the
                      same process on the same database), the worst filter's median
    dashboard_over_floor   dashboard_ms / sql_floor_ms (the target is 2 or less)
    sql_agrees        yes when the hand-written SQL's figures equal the dashboard's on every filter (else the
                      tables that differ)
    changelist_ms     the coordinator's busiest admin list: the slowest median of the lists of their network's
                      members, memberships, pairings, requests, meetings, feedback, profiles and waiting
                      mentees; changelist_name says which, changelist_queries how many queries it asked
    coordinator_dashboard_ms   /reports/ as the coordinator (their network only), no filter
    seed_s, members, pairings, messages   the large data set: how long `seed_demo --large` took, and its size

Full: 20,000 members, 50,000 pairings, 500,000 messages (the small set: 300, 600, 3,000); 7 timed requests
per page. --quick: 1,500 members, 3,000 pairings, 15,000 messages (the small set: 150, 200, 1,000); 2 timed
requests; under a minute on an idle 2-core machine (migrating the database is half of it). --keep-db keeps
the large database and says how to reach it.
Usage: .venv/bin/python bench/reports.py [--quick] [--keep-db] [--redis-db N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.find_mentor import POSTGRES, production_env  # noqa: E402

STARTED = time.perf_counter()
SIZES = {
    "full": {"small": (300, 600, 3_000), "large": (20_000, 50_000, 500_000), "repeat": 7},
    "quick": {"small": (150, 200, 1_000), "large": (1_500, 3_000, 15_000), "repeat": 2},
}
FILTERS = ("none", "scheme", "network", "country", "dates")


def log(*parts) -> None:
    print(f"[{time.perf_counter() - STARTED:5.1f} s]", *parts, file=sys.stderr, flush=True)


def postgres(sql: str) -> None:
    admin = psycopg.connect(POSTGRES + "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql)
    admin.close()


# --- In the child process: one data set --------------------------------------------------------------------


def median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def filter_params(name: str) -> dict:
    import datetime

    from django.utils import timezone

    from mentoring.models import LocalNetwork

    today = timezone.localdate()
    return {
        "none": {},
        "scheme": {"scheme": "career"},
        "network": {"network": str(LocalNetwork.objects.get(slug="london").pk)},
        "country": {"country": "GB"},
        "dates": {"date_from": str(today - datetime.timedelta(days=365)), "date_to": str(today)},
    }[name]


def scope_of(params: dict):
    import datetime

    from mentoring.models import Scheme
    from reports.selectors import Scope

    return Scope(
        scheme=Scheme.objects.get(slug=params["scheme"]) if "scheme" in params else None,
        network_id=int(params["network"]) if "network" in params else None,
        country=params.get("country", ""),
        date_from=datetime.date.fromisoformat(params["date_from"]) if "date_from" in params else None,
        date_to=datetime.date.fromisoformat(params["date_to"]) if "date_to" in params else None,
    )


def signed_in_client(email: str):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.get(email=email)
    if not user.authenticator_set.exists():
        TOTP.activate(user, generate_totp_secret())  # two-factor set up, as every staff user has
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def queries_of(client, url: str, params: dict) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    return len(captured.captured_queries)


def measure_data_set(repeat: int, with_timings: bool) -> dict:
    from django.urls import reverse

    from bench import report_sql as sql_floor
    from reports import selectors

    staff = signed_in_client("staff@example.org")
    coordinator = signed_in_client("coordinator@example.org")
    url = reverse("reports_dashboard")
    figures: dict = {"queries": {}, "dashboard_ms": {}, "floor_ms": {}, "disagree": []}
    for name in FILTERS:
        params = filter_params(name)
        response = staff.get(url, params)  # warm: this process's caches (documents, names), the database's pages
        assert response.status_code == 200, (name, response.status_code)
        figures["queries"][name] = queries_of(staff, url, params)
        scope = scope_of(params)
        # The page's own tables, built as the view builds them (the test Client keeps no context outside tests).
        dashboard = {
            key: [list(row) for row in selectors.build_table(key, scope).rows]
            for key in selectors.table_names(staff=True)
        }
        floor = sql_floor.figures(scope)
        figures["disagree"] += [f"{name}:{key}" for key, rows in floor.items() if dashboard.get(key) != rows]
        if with_timings:
            figures["dashboard_ms"][name] = median_ms(lambda p=params: staff.get(url, p), repeat)
            figures["floor_ms"][name] = median_ms(lambda s=scope: sql_floor.figures(s), repeat)
    if with_timings:
        coordinator.get(url)
        figures["coordinator_dashboard_ms"] = median_ms(lambda: coordinator.get(url), repeat)
        figures["changelists"] = changelists(coordinator, repeat)
    return figures


CHANGELISTS = {
    "members": "accounts_user",
    "memberships": "mentoring_schememembership",
    "pairings": "mentoring_pairing",
    "requests": "matching_mentorshiprequest",
    "meetings": "mentoring_meeting",
    "feedback": "mentoring_feedback",
    "profiles": "matching_mentorprofile",
    "waiting mentees": "mentoring_waitingmentee",
}


def changelists(client, repeat: int) -> dict:
    from django.urls import NoReverseMatch, reverse

    timed = {}
    for name, route in CHANGELISTS.items():
        try:
            url = reverse(f"admin:{route}_changelist")
        except NoReverseMatch:
            continue
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        timed[name] = {"ms": median_ms(lambda u=url: client.get(u), repeat), "queries": queries_of(client, url, {})}
    return timed


def child(args) -> None:
    """Seed one data set into DATABASE_URL's database and measure it; the figures as JSON on the last line."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # The demo logins' passwords are hashed with a fast hasher: this database is thrown away, and PBKDF2's
    # deliberate slowness would be most of a quick run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    members, pairings, messages = args.sizes
    log(f"{args.phase}: seed_demo --large --members {members} --pairings {pairings} --messages {messages}")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")  # a throw-away database: no waiting for the disk
    with contextlib.redirect_stdout(sys.stderr):
        call_command("seed_demo", large=True, members=members, pairings=pairings, messages=messages, stdout=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")  # measured as configured
    seed_s = time.perf_counter() - started
    log(f"{args.phase}: VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(f"{args.phase}: measuring")
    figures = measure_data_set(args.repeat, with_timings=args.phase == "large")
    figures |= {"seed_s": round(seed_s, 1), "members": members, "pairings": pairings, "messages": messages}
    print(json.dumps(figures))


# --- The parent: databases, children, the figures ----------------------------------------------------------


def run_child(phase: str, sizes, repeat: int, env: dict) -> dict:
    command = [sys.executable, __file__, "--child", phase, "--sizes", *map(str, sizes), "--repeat", str(repeat)]
    result = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"the {phase} data set's run failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data sets: under a minute")
    parser.add_argument("--keep-db", action="store_true", help="keep the large data set's database")
    parser.add_argument("--redis-db", type=int, default=9, help="database number on the shared Redis (not 0)")
    parser.add_argument("--child", choices=["small", "large"], help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.phase = args.child
        child(args)
        return 0
    if args.redis_db == 0:
        raise SystemExit("database 0 of the shared Redis is not the bench's: choose another --redis-db")
    plan = SIZES["quick" if args.quick else "full"]
    workdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    base = f"bench_reports_{os.getpid()}"
    names = {"small": base + "_small", "large": base + "_large"}
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    secret = secrets.token_urlsafe(50)
    env = production_env(POSTGRES + base, redis_url, secret, str(workdir / "static"))
    # Migrating a throw-away database need not wait for the disk at each commit (a third faster here).
    migrating = env | {"DATABASE_URL": POSTGRES + base + "?options=" + quote("-c synchronous_commit=off -c jit=off")}
    figures = {}
    try:
        postgres(f'CREATE DATABASE "{base}"')
        log("migrate and collectstatic (once; the data sets' databases are copies)")
        for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            manage = [sys.executable, "manage.py", *command]
            subprocess.run(manage, env=migrating, cwd=ROOT, check=True, stdout=sys.stderr)  # noqa: S603
        for phase, name in names.items():
            log(f"{phase} data set: a copy of the migrated database, measured by a child process")
            postgres(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
            redis.Redis.from_url(redis_url).flushdb()  # each data set starts with an empty cache
            figures[phase] = run_child(phase, plan[phase], plan["repeat"], env | {"DATABASE_URL": POSTGRES + name})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        for phase, name in [("base", base), *names.items()]:
            if args.keep_db and phase == "large":
                log(f"kept: DATABASE_URL={POSTGRES + name} REDIS_URL={redis_url} SECRET_KEY={secret}")
                continue
            postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not args.keep_db:
            redis.Redis.from_url(redis_url).flushdb()  # the bench's own Redis database only
    small, large = figures["small"], figures["large"]
    worst = max(FILTERS, key=lambda name: large["dashboard_ms"][name])
    worst_floor = max(large["floor_ms"].values())
    busiest = max(large["changelists"], key=lambda name: large["changelists"][name]["ms"])
    disagree = sorted(set(small["disagree"] + large["disagree"]))
    out = {
        "dashboard_ms": round(large["dashboard_ms"][worst], 1),
        "dashboard_worst_filter": worst,
        **{f"dashboard_{name}_ms": round(large["dashboard_ms"][name], 1) for name in FILTERS},
        "queries_small": max(small["queries"].values()),
        "queries_large": max(large["queries"].values()),
        "queries_equal": "yes" if small["queries"] == large["queries"] else f"no {small['queries']} {large['queries']}",
        "sql_floor_ms": round(worst_floor, 1),
        "dashboard_over_floor": round(large["dashboard_ms"][worst] / worst_floor, 2),
        "sql_agrees": "yes" if not disagree else ",".join(disagree),
        "changelist_ms": round(large["changelists"][busiest]["ms"], 1),
        "changelist_name": busiest,
        "changelist_queries": large["changelists"][busiest]["queries"],
        **{f"changelist_{name.replace(' ', '_')}_ms": round(v["ms"], 1) for name, v in large["changelists"].items()},
        "coordinator_dashboard_ms": round(large["coordinator_dashboard_ms"], 1),
        "seed_s": large["seed_s"],
        "members": large["members"],
        "pairings": large["pairings"],
        "messages": large["messages"],
        "total_s": round(time.perf_counter() - STARTED, 1),
    }
    for key, value in out.items():
        print(f"{key}={value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
