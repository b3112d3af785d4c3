"""Real processes for the multi-process proofs (tests/messaging/test_realtime_processes.py) and for
bench/messaging.py: ASGI server processes (daphne or uvicorn) on free loopback ports, a redis-server of
our own that a test may stop and start (never the shared one on 6379), and websocket clients signed in
with a session cookie.

Nothing here imports Django at module level: bench/messaging.py sets its environment up first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
SERVERS = ("daphne", "uvicorn")


def database_url(db: dict) -> str:
    """The URL of a Django database's settings (the test database, which server processes then share)."""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class RedisProcess:
    """A redis-server of our own on a free port, no persistence: stopping it loses everything in it, as a
    crashed Redis would. `start` again brings it back empty on the same port."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        if not self.binary:
            raise RuntimeError("redis-server is not installed")
        log = self.workdir / f"redis-{self.port}.log"
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"),
                    *("no", "--daemonize", "no", "--dir", str(self.workdir), "--loglevel", "warning"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start:\n{log.read_text()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


def server_env(*, database_url: str, redis_url: str, secret_key: str, **extra: str) -> dict:
    """The environment of a server process: production settings on loopback, this database and Redis."""
    dropped = {"PYTEST_VERSION", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "mentoring.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secret_key,  # the session's auth hash is checked with it
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


class AsgiServer:
    """mentoring.asgi:application in a process of its own, served by daphne or uvicorn."""

    def __init__(self, kind: str, env: dict, workdir: Path):
        if kind not in SERVERS:
            raise ValueError(f"unknown server {kind!r}: one of {', '.join(SERVERS)}")
        self.kind, self.env, self.workdir = kind, env, workdir
        self.port = free_port()
        self.log = workdir / f"{kind}-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.kind == "daphne":
            return [
                *(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)),
                "mentoring.asgi:application",
            ]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--lifespan",
            "off",  # channels' router serves http and websocket only
            "--no-access-log",
            "--log-level",
            "warning",
            "mentoring.asgi:application",
        ]

    def spawn(self) -> AsgiServer:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def wait(self) -> AsgiServer:
        _wait_for_port(self.port, self.process, self.log)
        return self

    def stop(self) -> None:
        _stop(self.process)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def start_servers(kind: str, count: int, env: dict, workdir: Path) -> list[AsgiServer]:
    """`count` servers, started side by side."""
    servers = [AsgiServer(kind, env, workdir).spawn() for _ in range(count)]
    try:
        for server in servers:
            server.wait()
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


async def open_socket(server: AsgiServer, path: str, session_key: str) -> ClientConnection:
    """A websocket to `server`, signed in as the session's member, from the site's own origin."""
    return await connect(
        server.ws_url(path),
        origin=server.origin,
        additional_headers={"Cookie": f"sessionid={session_key}"},
        compression=None,
        proxy=None,
        open_timeout=20,
        max_queue=None,
    )


async def send_frame(ws: ClientConnection, frame: dict) -> None:
    await ws.send(json.dumps(frame))


async def next_frame(ws: ClientConnection, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))
