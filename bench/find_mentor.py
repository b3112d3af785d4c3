"""Find a mentor under load: the production server with N listed mentors (issue 10, item 4).

A fresh PostgreSQL database (bench_find_<pid> on 127.0.0.1:5432, dropped at the end) is migrated and
filled with `seed_demo` plus N listed mentors and 100 mentees with goals (bench/suggest_site.py's
`build`). The production configuration (DEBUG off, collectstatic with the manifest storage into a temp
dir, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT off, Redis database --redis-db of the shared Redis
for the cache and channel layer, flushed at the end) is served by uvicorn as in deploy/Procfile on a
free loopback port. One mentee is signed in by a session written straight to the database. Asyncio
clients (raw HTTP/1.1 with keep-alive) drive it for a fixed time each; every answer must be a 200.
Prints key=value lines on stdout, progress on stderr:

    floor_rps       /accounts/login/, anonymous, 8 clients (the floor)
    find_rps        /mentors/ signed in (suggestions and list), 8 clients
    filtered_rps    /mentors/?sector&expertise&language&country (the most common combination), 8 clients
    find_ratio      find_rps / floor_rps
    find_p50_ms     the median latency of the find_rps run
    find_p95_ms     /mentors/ with a single client, the 95th percentile
    queries_find    SQL queries of one /mentors/ request, in-process (test Client, CaptureQueriesContext),
                    after a first request (queries_find_cold) has warmed whatever the process caches
    change_wait_ms  8 clients on /mentors/ while a thread changes one listed mentor's capacity every
                    second through matching.services.mentor_profile_save. Each change's window holds the
                    requests that were still waiting when it committed or were issued within 1 s after it
                    (a request in flight may still read the listing after the change). The p99 latency of
                    those requests less the p99 of the find_rps run (same page and clients, no changes),
                    0 when not above it (change_p99_ms and find_p99_ms are printed too). The slowest single
                    request was used first, but on a saturated 2-core machine it measured the tail's noise
                    (the run without changes had its own 300 ms gap between median and slowest).
                    change_rps is the throughput of the run with changes
    rss_mb          resident memory of the server's worker processes at the end (sum of VmRSS)
    errors          answers other than 200, and failed connections, over every run

Each client keeps its connection for 10 requests, as a browser would for a few pages, then opens a new
one. With one connection per client for the whole run, uvicorn's workers split the 8 connections as they
happened to accept them: a run where one worker got them all measured a third less throughput than the
same code in a run where they were shared (each worker's CPU time: 0.01 s against 3.62 s), and the floor
read 51 or 109 requests/s from one run to the next.

Full: 10,000 mentors, 10 s per run, 200 single-client requests (at most 60 s). --quick: 1,000 mentors,
3 s, 50 requests (at most 6 s). --keep-db keeps the database and the Redis database and says how to
reach them; --workers sets uvicorn's worker processes (default 2, one per core).
Usage: .venv/bin/python bench/find_mentor.py [--quick] [--keep-db] [--workers N] [--redis-db N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.suggest_site import build  # noqa: E402
from tests.live_servers import free_port  # noqa: E402

POSTGRES = "postgres://postgres@127.0.0.1:5432/"
REQUESTS_PER_CONNECTION = 10
STARTED = time.perf_counter()


def log(*parts) -> None:
    print(f"[{time.perf_counter() - STARTED:5.1f} s]", *parts, file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def production_env(database_url: str, redis_url: str, secret_key: str, static_root: str) -> dict:
    """As .ci/boot's: nothing from the shell may turn production behaviour off."""
    dropped = {"PYTEST_VERSION", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE", "DEBUG", "STATIC_ROOT"}
    prefixes = ("SECURE_", "SESSION_", "MFA_")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(prefixes)}
    env.update(
        DJANGO_SETTINGS_MODULE="mentoring.settings",
        DEBUG="false",
        SECRET_KEY=secret_key,  # the session's auth hash is checked with it
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STATIC_ROOT=static_root,
        EMAIL_URL="dummymail://",  # seed_demo's emails must not reach stdout
        LOG_LEVEL="WARNING",
    )
    return env


def postgres(sql: str) -> None:
    admin = psycopg.connect(POSTGRES + "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql)
    admin.close()


def fill(n_mentors: int) -> None:
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", verbosity=0, interactive=False)
    log("seed_demo")
    call_command("seed_demo", verbosity=0)
    log(f"building {n_mentors} listed mentors and 100 mentees")
    build(n_mentors, 100)
    log("building the listing and eligibility tables (bulk inserts send no signals; the scheduled jobs build them)")
    from matching import listing
    from safeguarding import eligible_table

    listing.refresh_all()
    eligible_table.refresh_all()
    log("VACUUM ANALYZE (autovacuum would have, on a database that grew over months)")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def the_data():
    """The bench scheme's first mentee (goals, eligible), a listed mentor to change, the four filters that
    match the most mentors together, and how many mentors the scheme has."""
    from matching.models import MenteeProfile, MentorProfile

    mentee = MenteeProfile.objects.filter(user__memberships__scheme__slug="bench").order_by("pk").first().user
    mentors = MentorProfile.objects.filter(user__memberships__scheme__slug="bench")
    combos = Counter(mentors.values_list("sector", "expertise", "languages", "country"))  # a row per combination
    (sector, area, language, country), matching = combos.most_common(1)[0]
    filters = {"sector": sector, "expertise": area, "language": language, "country": country}
    log(f"filters {filters} match {matching} mentors")
    return mentee, mentors.order_by("pk").first().pk, filters, mentors.count()


def session_cookie(user) -> str:
    """A signed-in session for `user`, written to the session store as a sign-in would."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def queries_of_find(mentee) -> tuple[int, int]:
    """SQL queries of /mentors/ in this process: the first request, then the next."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(mentee)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/mentors/")
        assert response.status_code == 200, response.status_code
        counts.append(len(captured.captured_queries))
    connection.close()
    return counts[0], counts[1]


class Connection:
    """One keep-alive HTTP/1.1 connection: GET, read the whole answer (Content-Length or chunked)."""

    def __init__(self, host: str, port: int, cookie: str = ""):
        self.host, self.port, self.cookie = host, port, cookie
        self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        cookie = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{cookie}\r\n".encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                body += (await self.reader.readexactly(size + 2))[:-2]  # each chunk ends with CRLF
            await self.reader.readline()  # the blank line after the last chunk (no trailers)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection") == "close":
            self.close()
        return int(status_line.split()[1]), body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Driver:
    """Clients that each GET one path in a loop for a while; every request's (start, ms) is kept."""

    def __init__(self, host: str, port: int):
        self.host, self.port, self.errors = host, port, 0

    async def _client(self, path: str, cookie: str, until: float, count: int, times: list) -> None:
        connection = Connection(self.host, self.port, cookie)
        done = 0
        while time.perf_counter() < until and done < count:
            started = time.perf_counter()
            try:
                status, _ = await connection.get(path)
            except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                status = f"{type(error).__name__}: {error}"
                connection.close()
            if status != 200:
                self.errors += 1
                log(f"  error on {path}: {status}")
            times.append((started, (time.perf_counter() - started) * 1000))
            done += 1
            if done % REQUESTS_PER_CONNECTION == 0:
                connection.close()  # the next request opens a new one: see the module's note on workers
        connection.close()

    def run(self, path: str, cookie: str = "", *, clients=8, seconds=float("inf"), count=10**9) -> tuple:
        """Returns (requests per second, [(start, ms)]) ."""
        times: list[tuple[float, float]] = []
        started = time.perf_counter()
        until = started + seconds

        async def together():
            await asyncio.gather(*(self._client(path, cookie, until, count, times) for _ in range(clients)))

        asyncio.run(together())
        return len(times) / (time.perf_counter() - started), times


def change_every_second(profile_id: int, until: float, changed_at: list[float]) -> None:
    """Toggle one listed mentor's capacity (2 ↔ 3) through the site's service once a second, from 0.3 s
    into the run until 0.5 s before its end. Capacity is not reviewed text: the mentor stays listed, with
    other free places. Runs in a thread of its own, so with a database connection of its own."""
    from django.db import connection

    from matching.models import MentorProfile
    from matching.services import mentor_profile_save

    due = time.perf_counter() + 0.3
    while due < until - 0.5:
        time.sleep(max(0.0, due - time.perf_counter()))
        profile = MentorProfile.objects.get(pk=profile_id)
        profile.capacity = 2 if profile.capacity == 3 else 3
        mentor_profile_save(
            profile=profile, expertise=list(profile.expertise.all()), languages=list(profile.languages.all())
        )
        changed_at.append(time.perf_counter())
        due += 1
    connection.close()


def rss_mb(server_pid: int) -> float:
    """VmRSS summed over uvicorn's workers (its children started by multiprocessing), else the server's."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == server_pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                workers.append(stat.parent)
    statuses = [(folder / "status").read_text() for folder in workers or [Path(f"/proc/{server_pid}")]]
    return sum(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) for status in statuses) / 1024


def start_server(env: dict, workers: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    """uvicorn as deploy/Procfile starts it, on a free loopback port; `wait_for` it before use."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--proxy-headers"]
    command += ["--forwarded-allow-ips=*", "--lifespan", "off", "--no-access-log", "--workers", str(workers)]
    with log_path.open("w") as out:
        server = subprocess.Popen([*command, "mentoring.asgi:application"], cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
    return server, port


def wait_for(server: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("uvicorn exited:\n" + log_path.read_text()[-4000:])
        with contextlib.suppress(OSError):
            asyncio.run(Connection("127.0.0.1", port).get("/accounts/login/"))
            return
        time.sleep(0.2)
    server.kill()
    raise SystemExit("uvicorn did not answer:\n" + log_path.read_text()[-4000:])


def measure(driver: Driver, cookie: str, filtered: str, changing: int, quick: bool) -> dict:
    seconds, singles, single_cap = (3, 50, 6) if quick else (10, 200, 60)
    log("warming up (every worker builds what it caches)")
    for path, with_cookie in (("/accounts/login/", ""), ("/mentors/", cookie), (filtered, cookie)):
        driver.run(path, with_cookie, clients=4, count=1)
    driver.errors = 0
    log(f"8 clients, {seconds} s each: floor, find, filtered")
    floor_rps, _ = driver.run("/accounts/login/", seconds=seconds)
    find_rps, find_times = driver.run("/mentors/", cookie, seconds=seconds)
    filtered_rps, _ = driver.run(filtered, cookie, seconds=seconds)
    log(f"1 client, {singles} requests of /mentors/ (at most {single_cap} s)")
    _, single_times = driver.run("/mentors/", cookie, clients=1, count=singles, seconds=single_cap)
    log(f"  {len(single_times)} requests")

    log(f"8 clients on /mentors/ for {seconds} s, one mentor changed every second")
    changed_at: list[float] = []
    until = time.perf_counter() + seconds
    changer = threading.Thread(target=change_every_second, args=(changing, until, changed_at))
    changer.start()
    change_rps, change_times = driver.run("/mentors/", cookie, seconds=seconds)
    changer.join()
    baseline = statistics.median(ms for _, ms in find_times)
    # Each change's window: requests still waiting when it committed, or issued within 1 s after it.
    windows = [[ms for start, ms in change_times if start < t + 1 and start + ms / 1000 > t] for t in changed_at]
    after_changes = [ms for window in windows for ms in window]
    quiet_p99 = percentile([ms for _, ms in find_times], 0.99)
    changed_p99 = percentile(after_changes, 0.99) if after_changes else None
    log(f"  {len(changed_at)} changes; {len(after_changes)} requests in their windows, p99 {changed_p99} ms")
    log(f"  without changes: median {baseline:.0f} ms, p99 {quiet_p99:.0f} ms")
    return {
        "floor_rps": round(floor_rps, 1),
        "find_rps": round(find_rps, 2),
        "filtered_rps": round(filtered_rps, 2),
        "find_ratio": round(find_rps / floor_rps, 3),
        "find_p50_ms": round(baseline, 1),  # 8 clients
        "find_p95_ms": round(percentile([ms for _, ms in single_times], 0.95), 1),  # 1 client
        # What a change adds to the slow end: the p99 right after changes less the p99 without (0 if none).
        "change_wait_ms": round(max(0.0, changed_p99 - quiet_p99), 1) if changed_p99 is not None else "n/a",
        "find_p99_ms": round(quiet_p99, 1),
        "change_p99_ms": round(changed_p99, 1) if changed_p99 is not None else "n/a",
        "change_rps": round(change_rps, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 mentors, 3 s runs, 50 single requests")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (and the Redis database)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2: two cores)")
    parser.add_argument("--redis-db", type=int, default=9, help="database number on the shared Redis (not 0)")
    args = parser.parse_args()
    if args.redis_db == 0:
        raise SystemExit("database 0 of the shared Redis is not the bench's: choose another --redis-db")
    workdir = Path(tempfile.mkdtemp(prefix="bench-find-"))
    name = f"bench_find_{os.getpid()}"
    database_url, redis_url = POSTGRES + name, f"redis://127.0.0.1:6379/{args.redis_db}"
    env = production_env(database_url, redis_url, secrets.token_urlsafe(50), str(workdir / "static"))
    os.environ.update(env)  # this process shares the servers' settings: its sessions and changes are theirs
    postgres(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    server, log_path = None, workdir / "uvicorn.log"
    try:
        with contextlib.redirect_stdout(sys.stderr):
            log("collectstatic")
            call_command("collectstatic", interactive=False, verbosity=0)
            fill(1_000 if args.quick else 10_000)
            log(f"starting uvicorn with {args.workers} workers")
            server, port = start_server(env, args.workers, log_path)
            mentee, changing, filters, listed = the_data()
            cookie = session_cookie(mentee)
            log("queries of /mentors/, in-process")
            queries_cold, queries_warm = queries_of_find(mentee)
        wait_for(server, port, log_path)
        status, body = asyncio.run(Connection("127.0.0.1", port, cookie).get("/mentors/"))
        page = body.decode()
        assert status == 200, f"/mentors/ answered {status}"
        assert "Suggested for you" in page, "no suggestions on /mentors/: is the mentee signed in and eligible?"
        assert len(re.findall(r'href="/mentors/\d+/', page)) >= 10, "no mentor list on /mentors/"
        driver = Driver("127.0.0.1", port)
        figures = {
            "server": f"uvicorn --workers {args.workers}",
            "mentors": listed,  # approved, trained, terms accepted: listed by construction (build)
            **measure(driver, cookie, "/mentors/?" + urlencode(filters), changing, args.quick),
            "queries_find": queries_warm,
            "queries_find_cold": queries_cold,
            "rss_mb": round(rss_mb(server.pid), 1),
            "errors": driver.errors,
        }
        for key, value in figures.items():
            print(f"{key}={value}", flush=True)
    finally:
        if server is not None:
            log("stopping the server")
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.keep_db:
            log(f"kept: DATABASE_URL={database_url} REDIS_URL={redis_url} SECRET_KEY={env['SECRET_KEY']}")
        else:
            from django.db import connections

            connections.close_all()
            postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            redis.Redis.from_url(redis_url).flushdb()  # the bench's own Redis database only
    return 0


if __name__ == "__main__":
    sys.exit(main())
