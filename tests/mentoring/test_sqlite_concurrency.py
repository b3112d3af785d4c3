"""`make run`'s SQLite holds under concurrent writers: they queue, none gets a 500 (issue 6, section 2).

The real ASGI server (daphne, in a subprocess) runs on a SQLite file, as `make run` does, and
threads post to it at the same moment over real HTTP. On PostgreSQL the row-lock race tests
(tests/matching/test_capacity_race.py) cover the same rules.
"""

import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
MENTEES = 6  # all ask the one mentor with one free place
GREEDY_ASKS = 5  # one mentee asks this many mentors at once, with a limit of PENDING_LIMIT
PENDING_LIMIT = 2

# Runs inside `manage.py shell`: migrates the fresh database, adds the people, prints them as JSON.
SETUP = f"""
import json
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management import call_command

from mentoring.models import DocumentKind
from tests import factories

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


def session_for(user):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


call_command("migrate", verbosity=0)
for kind in DocumentKind:
    factories.TermsVersionFactory(kind=kind, version="2026.1")
scheme = factories.SchemeFactory(slug="career", max_pending_requests_per_mentee={PENDING_LIMIT})
network = factories.LocalNetworkFactory()
mentor = factories.listed_mentor(scheme, network, capacity=1)
others = [factories.listed_mentor(scheme, network, capacity=3) for _ in range({GREEDY_ASKS})]
mentees = [factories.eligible_mentee(scheme, network) for _ in range({MENTEES})]
greedy = factories.eligible_mentee(scheme, network)
print(json.dumps({{
    "mentor": {{"id": mentor.pk, "profile": mentor.mentor_profile.pk, "session": session_for(mentor)}},
    "others": [m.mentor_profile.pk for m in others],
    "mentees": [session_for(m) for m in mentees],
    "greedy": {{"id": greedy.pk, "session": session_for(greedy)}},
}}))
"""


@pytest.fixture
def sqlite_settings():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("a SQLite test: on PostgreSQL the row-lock race tests in tests/matching cover this")


def run_env(database: Path) -> dict:
    """`make run`'s environment: DEBUG on, a SQLite file, no Redis; not the test settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"})
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def live_site(sqlite_settings, tmp_path):
    """A migrated SQLite file with the people above, served by daphne on a free loopback port."""
    env = run_env(tmp_path / "db.sqlite3")
    log_path = tmp_path / "daphne.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "mentoring.asgi:application"],
            cwd=ROOT,
            env={**env, "LOG_LEVEL": "INFO"},  # daphne says which port it took at INFO
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # daphne touches the database only when a request comes, so it starts while the data is made.
        people = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        deadline = time.monotonic() + 20
        port = None
        while port is None and time.monotonic() < deadline and server.poll() is None:
            found = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", log_path.read_text())
            port = int(found.group(1)) if found else time.sleep(0.1)
        assert port, "daphne did not start:\n" + log_path.read_text()
        yield {"port": port, "people": people, "database": tmp_path / "db.sqlite3", "log": log_path}
    finally:
        server.terminate()
        server.wait(timeout=10)


class Member:
    """One signed-in browser: its session cookie, and a CSRF token taken from a form page."""

    def __init__(self, port: int, session: str):
        self.port = port
        self.cookies = {"sessionid": session}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode()
        connection.close()
        return response.status, text

    def open_form(self, path: str) -> None:
        status, page = self.request("GET", path)
        assert status == 200, page[:2000]
        self.csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def all_at_once(jobs: list) -> list[tuple[int, str]]:
    """Run each (member, path, form) POST in its own thread, released together."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def post(index, member, path, form):
        barrier.wait(timeout=30)
        results[index] = member.request("POST", path, form)

    threads = [threading.Thread(target=post, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_no_server_error(results: list, log: Path) -> None:
    # DEBUG's error page names the exception in its title ("OperationalError at /mentors/1/request/").
    errors = [
        re.sub(r"\s+", " ", text.partition("<title>")[2].partition("</title>")[0]) for s, text in results if s >= 500
    ]
    assert not errors, f"{len(errors)} of {len(results)} got a 500: {errors}\n{log.read_text()[-2000:]}"


NO_CONFLICT = {"conflict_kind": "none", "conflict_manageable": "yes"}


def test_concurrent_requests_and_accepts_queue_on_sqlite_and_the_rules_hold(live_site):
    # R-MATCH-2: capacity and the pending-request limit hold while writers queue on SQLite.
    port, people, log = live_site["port"], live_site["people"], live_site["log"]
    mentor_profile = people["mentor"]["profile"]

    # Several mentees ask the one mentor with one free place, at the same moment.
    mentees = [Member(port, session) for session in people["mentees"]]
    for member in mentees:
        member.open_form(f"/mentors/{mentor_profile}/request/")
    form = {"message": "Hello, would you mentor me?", **NO_CONFLICT}
    results = all_at_once([(m, f"/mentors/{mentor_profile}/request/", form) for m in mentees])
    assert_no_server_error(results, log)
    assert [status for status, _ in results] == [302] * MENTEES

    # One mentee asks several mentors at once: only PENDING_LIMIT requests may wait.
    greedy = Member(port, people["greedy"]["session"])
    greedy.open_form(f"/mentors/{people['others'][0]}/request/")
    results = all_at_once([(greedy, f"/mentors/{pk}/request/", form) for pk in people["others"]])
    assert_no_server_error(results, log)
    assert sorted(status for status, _ in results) == [302] * PENDING_LIMIT + [400] * (GREEDY_ASKS - PENDING_LIMIT)

    # The mentor, with one place left, accepts every request at the same moment (two browser tabs and more).
    database = sqlite3.connect(live_site["database"])
    request_ids = [
        pk
        for (pk,) in database.execute(
            "SELECT id FROM matching_mentorshiprequest WHERE mentor_id = ?", [people["mentor"]["id"]]
        )
    ]
    assert len(request_ids) == MENTEES
    mentor = Member(port, people["mentor"]["session"])
    mentor.open_form(f"/requests/{request_ids[0]}/")
    results = all_at_once([(mentor, f"/requests/{pk}/accept/", NO_CONFLICT) for pk in request_ids])
    assert_no_server_error(results, log)
    assert [status for status, _ in results] == [302] * MENTEES  # to the pairing, or back with the reason

    pairings = database.execute(
        "SELECT count(*) FROM mentoring_pairing WHERE mentor_id = ? AND status = 'active'", [people["mentor"]["id"]]
    ).fetchone()[0]
    accepted = database.execute(
        "SELECT count(*) FROM matching_mentorshiprequest WHERE mentor_id = ? AND status = 'accepted'",
        [people["mentor"]["id"]],
    ).fetchone()[0]
    greedy_pending = database.execute(
        "SELECT count(*) FROM matching_mentorshiprequest WHERE mentee_id = ? AND status = 'pending'",
        [people["greedy"]["id"]],
    ).fetchone()[0]
    database.close()
    assert (pairings, accepted) == (1, 1)
    assert greedy_pending == PENDING_LIMIT
