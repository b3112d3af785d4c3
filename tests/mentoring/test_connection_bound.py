"""PostgreSQL connections stay bounded under a burst of requests to a real ASGI server (issue 10, item 5).

A uvicorn process serves the production configuration on this test's PostgreSQL database with
WEB_DATABASE_THREADS=3 and a pool of at most 3 connections; forty clients ask for pages at once while
this test counts the server's connections in pg_stat_activity. Without the bounds (mentoring/asgi.py,
the pool in settings) each request in flight held one: 21 at the peak when this was written.
"""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import services_required
from tests.live_servers import AsgiServer, RedisProcess, database_url, server_env

BOUND = 3


APP_NAME = "connection-bound-server"  # the server's connections name themselves (libpq's PGAPPNAME)


def peak_connections(dsn: str, name: str, stop: threading.Event, peaks: list[int]) -> None:
    """Count the server's connections to the test database, every 5 ms."""
    watcher = psycopg.connect(dsn)
    watcher.autocommit = True
    with watcher.cursor() as cursor:
        while not stop.is_set():
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s", [name, APP_NAME]
            )
            peaks.append(cursor.fetchone()[0])
            time.sleep(0.005)
    watcher.close()


def test_a_burst_of_requests_holds_at_most_the_bound_of_connections(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        # Not a debt: CI's second pass runs the whole suite on PostgreSQL, where this runs.
        pytest.skip("a server process shares the test database only on PostgreSQL: CI runs this in that pass")
    if not shutil.which("redis-server"):
        if services_required():
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed; CI runs this test")
    dsn, name = database_url(connection.settings_dict), connection.settings_dict["NAME"]
    redis_process = RedisProcess(tmp_path).start()
    env = server_env(
        database_url=dsn,
        redis_url=redis_process.url,
        secret_key=settings.SECRET_KEY,
        STATIC_ROOT=settings.STATIC_ROOT,  # collected once for the run (tests/conftest.py)
        WEB_DATABASE_THREADS=str(BOUND),
        SOCKET_DATABASE_THREADS="1",
        DATABASE_POOL_MAX=str(BOUND),
        PGAPPNAME=APP_NAME,
    )
    server = AsgiServer("uvicorn", env, tmp_path).spawn().wait()
    stop, peaks = threading.Event(), []
    watcher = threading.Thread(target=peak_connections, args=(dsn, name, stop, peaks))
    try:
        watcher.start()

        def fetch(_):
            # The home page lists the schemes: a database query each.
            with urllib.request.urlopen(f"{server.origin}/", timeout=60) as response:  # noqa: S310
                return response.status

        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(fetch, range(400)))
    finally:
        stop.set()
        watcher.join()
        server.stop()
        redis_process.stop()
    assert statuses == [200] * 400
    assert max(peaks) >= 1, "the burst never reached the database: the test would prove nothing"
    assert max(peaks) <= BOUND, f"{max(peaks)} connections at the peak with a bound of {BOUND}"
