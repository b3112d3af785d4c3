"""Live messaging figures across two ASGI server processes, printed as key=value lines (issue 8, item 9).

Two server processes (daphne or uvicorn) share a Redis of the bench's own (a redis-server on a free
loopback port, so the shared one is never touched) and a PostgreSQL database on loopback. Each pair's
mentor talks to one process and the mentee to the other; every client sends its messages one after
another (the next once the server has acknowledged the last) and all pairs at once. Before that, the same
run measures a raw Redis pub/sub round trip as the floor.

    p50_ms, p99_ms   from a send to the partner's receipt of that message (one clock: one client process)
    msgs_per_s       messages stored and delivered per second, first send to last receipt
    redis_rtt_ms     the median raw pub/sub round trip on the same Redis (the floor)
    lost             acknowledged messages a partner never received (must be 0)
    duplicated       repeat receipts by partners plus rows stored twice (must be 0)
    server           which ASGI server ran

Full run: 100 pairs, 10,000 messages. --quick: 20 pairs, 1,000 messages, within a minute once the
database is migrated. The database is DATABASE_URL or postgres://postgres@127.0.0.1:5432/mentoring_bench
(created and migrated when missing; its name must contain "bench": the run empties it). The servers run
the production settings with MESSAGE_RATE_LIMIT raised: a client here sends far faster than the flood
limit allows, and this measures throughput, not the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from tests.live_servers import RedisProcess, open_socket, server_env, start_servers  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/mentoring_bench"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def database_ready(url: str, env: dict) -> None:
    """Create the bench database when missing, then migrate it (quick once it is up to date)."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"The bench empties its database: {name!r} must have 'bench' in its name.")
    admin = psycopg2.connect(url.replace(parsed.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def make_pairs(count: int) -> list[dict]:
    """`count` active pairings with their conversations, and a signed-in session for each member."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User
    from mentoring.models import LocalNetwork, Pairing, Scheme
    from messaging.services import conversation_open

    call_command("flush", interactive=False, verbosity=0)
    scheme = Scheme.objects.create(name="Bench scheme", slug="bench")
    network = LocalNetwork.objects.create(name="Bench network", slug="bench")
    users = User.objects.bulk_create(
        User(email=f"bench-{n}@example.org", first_name=f"Member{n}", last_name="Bench", password="!")
        for n in range(2 * count)
    )
    pairs = []
    for n in range(count):
        mentor, mentee = users[2 * n], users[2 * n + 1]
        pairing = Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
        conversation = conversation_open(pairing=pairing, members=[mentor, mentee])
        keys = []
        for user in (mentor, mentee):
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            keys.append(session.session_key)
        pairs.append({"conversation": conversation.pk, "keys": keys})
    return pairs


async def redis_round_trip(url: str, samples: int) -> float:
    """The median time from PUBLISH to the subscriber's receipt, in ms: the floor under any delivery."""
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe("bench-rtt")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await client.publish("bench-rtt", b"x")
        while await pubsub.get_message(ignore_subscribe_messages=True, timeout=5) is None:
            pass
        times.append((time.perf_counter() - started) * 1000)
    await pubsub.aclose()
    await client.aclose()
    return statistics.median(times)


class Member:
    """One open conversation page: sends its share one at a time, records its partner's messages."""

    def __init__(self, ws, tag: str, sent_at: dict, receipts: dict):
        self.ws, self.tag, self.sent_at, self.receipts = ws, tag, sent_at, receipts
        self.acks: asyncio.Queue = asyncio.Queue()
        self.acknowledged: dict[str, int] = {}  # body → id
        self.errors: list[dict] = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for raw in self.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            if "message" in frame:
                body = frame["message"]["body"]
                if not body.startswith(self.tag):  # the partner's, not an echo of our own
                    self.receipts.setdefault(body, []).append((now, frame["message"]["id"]))
            elif "ok" in frame:
                self.acks.put_nowait(frame["ok"])
            elif "error" in frame:
                self.errors.append(frame)
                self.acks.put_nowait(None)

    async def talk(self, count: int):
        for n in range(count):
            body = f"{self.tag} {n}"
            self.sent_at[body] = time.perf_counter()
            await self.ws.send(json.dumps({"action": "send", "body": body}))
            message_id = await asyncio.wait_for(self.acks.get(), 30)
            if message_id is not None:
                self.acknowledged[body] = message_id


async def run_clients(servers, pairs: list[dict], per_member: int) -> dict:
    sent_at: dict[str, float] = {}
    receipts: dict[str, list[tuple[float, int]]] = {}
    members = []
    for index, pair in enumerate(pairs):
        for side, key in enumerate(pair["keys"]):
            server = servers[(index + side) % 2]  # the partner is always on the other process
            ws = await open_socket(server, f"/ws/messages/{pair['conversation']}/", key)
            await ws.send(json.dumps({"action": "resume", "after": 0}))
            members.append(Member(ws, f"p{index}s{side}", sent_at, receipts))
    started = time.perf_counter()
    await asyncio.gather(*(member.talk(per_member) for member in members))
    acknowledged = {body for member in members for body in member.acknowledged}
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and not acknowledged <= receipts.keys():
        await asyncio.sleep(0.05)
    for member in members:
        await member.ws.close()
        member.reader.cancel()
    delivered = [receipts[body][0][0] for body in acknowledged if body in receipts]
    return {
        "latencies": [(receipts[body][0][0] - sent_at[body]) * 1000 for body in acknowledged if body in receipts],
        "seconds": (max(delivered) if delivered else time.perf_counter()) - started,
        "acknowledged": [m for member in members for m in member.acknowledged.values()],
        "lost": len(acknowledged - receipts.keys()),
        "repeats": sum(len(got) - 1 for got in receipts.values()),
        "errors": [e for member in members for e in member.errors],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 pairs, 1,000 messages")
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne")
    parser.add_argument("--pairs", type=int, help="pairs of members (default 100, or 20 with --quick)")
    parser.add_argument("--messages", type=int, help="messages in all (default 10,000, or 1,000 with --quick)")
    args = parser.parse_args()
    pairs_wanted = args.pairs or (20 if args.quick else 100)
    messages_wanted = args.messages or (1_000 if args.quick else 10_000)
    per_member = max(1, messages_wanted // (2 * pairs_wanted))

    workdir = Path(tempfile.mkdtemp(prefix="bench-messaging-"))
    redis_process = RedisProcess(workdir).start()
    servers = []
    try:
        env = server_env(
            database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE,
            redis_url=redis_process.url,
            secret_key=secrets.token_urlsafe(50),
            MESSAGE_RATE_LIMIT="1000000",
            STATIC_ROOT=str(workdir),
        )
        database_ready(env["DATABASE_URL"], env)
        os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SECRET_KEY")})
        import django

        django.setup()
        pairs = make_pairs(pairs_wanted)
        from django.db import connection

        connection.close()  # the servers are the database's clients from here on
        servers = start_servers(args.server, 2, env, workdir)
        print(f"# server pids {' '.join(str(s.process.pid) for s in servers)}; logs in {workdir}", file=sys.stderr)
        redis_rtt = asyncio.run(redis_round_trip(redis_process.url, 300))
        result = asyncio.run(run_clients(servers, pairs, per_member))
        from messaging.models import Message

        stored = Message.objects.count()
    finally:
        for server in servers:
            server.stop()
        redis_process.stop()

    sent = len(result["acknowledged"])
    figures = {
        "p50_ms": round(percentile(result["latencies"], 0.50), 2),
        "p99_ms": round(percentile(result["latencies"], 0.99), 2),
        "msgs_per_s": round(sent / result["seconds"], 1),
        "redis_rtt_ms": round(redis_rtt, 3),
        "lost": result["lost"],
        "duplicated": result["repeats"] + max(0, stored - sent),
        "server": args.server,
        "pairs": pairs_wanted,
        "messages": sent,
        "seconds": round(result["seconds"], 2),
        "errors": len(result["errors"]),
    }
    for key, value in figures.items():
        print(f"{key}={value}")
    if result["errors"]:
        print(f"first_error={result['errors'][0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
