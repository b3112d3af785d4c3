"""Live messaging figures across two ASGI server processes, printed as key=value lines (issue 8, item 9).

Two server processes (daphne or uvicorn) share a Redis of the bench's own (a redis-server on a free
loopback port, so the shared one is never touched) and a PostgreSQL database on loopback. Each pair's
mentor talks to one process and the mentee to the other, all pairs at once. Before anything is measured,
the same run measures a raw Redis pub/sub round trip as the floor, and every member sends one warm-up
message. Then two phases, each of --messages messages:

  paced      together the members offer --rate messages a second (default 500, the target), each sending
             on its own even beat, so latency is measured at that load rather than in a queue of the bench's
             own making. Its delivered rate cannot exceed what is offered: it is paced_msgs_per_s.
  capacity   each member sends its next message once the last is acknowledged: the most the servers take
             (its latency is mostly the queue: every member has a message in flight).

    p50_ms, p99_ms   paced: from a send to the partner's receipt of that message (one clock: one client)
    msgs_per_s       capacity: messages stored and delivered per second, first send to last receipt
    redis_rtt_ms     the median raw pub/sub round trip on the same Redis (the floor)
    lost             acknowledged messages a partner never received, in either phase (must be 0)
    duplicated       repeat receipts by partners plus rows stored twice, in either phase (must be 0)
    server           which ASGI server ran
and, to see where the time goes (paced unless named capacity_): ack_p50_ms (a send to the sender's
{"ok": id}, the stored-first half), server_, database_, client_ and redis_cpu_ms_per_message (the CPU each
party used per message: together they must fit the machine's cores, whatever else runs),
redis_commands_per_message, load_average (other work on the machine skews latency). --rate 0 skips the
paced phase (every figure then comes from the capacity phase). --timeline FILE writes each paced message's
send time and latency, to tell a tail that comes in bursts (a pause) from one spread evenly (queueing).

Full run: 100 pairs, 10,000 messages. --quick: 20 pairs, 1,000 messages, within a minute once the
database is migrated. The database is DATABASE_URL or postgres://postgres@127.0.0.1:5432/mentoring_bench
(created and migrated when missing; its name must contain "bench": the run empties it). The servers run
the production settings with MESSAGE_RATE_WINDOW 0: a member here sends far faster than the flood limit
allows, and this measures throughput, not the limit. The limit's query still runs for every message; it
reads only the window's messages, so here none, where in production a member's last minute (at most 30).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
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

import psycopg  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
import uvloop  # noqa: E402

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
    admin = psycopg.connect(url.replace(parsed.path, "/postgres"))
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


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used (Linux /proc), in seconds; a process gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the command name)
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used during the measured part, per party: the two servers, the database's backends serving
    them, this client process and Redis (all on this machine, so all share its cores)."""

    def __init__(self, servers, env: dict, redis_pid: int):
        self.servers = [server.process.pid for server in servers]
        self.database_url = env["DATABASE_URL"]
        self.redis = redis_pid

    def _database_pids(self) -> list[int]:
        with psycopg.connect(self.database_url) as database, database.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]

    def _sample(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "server": cpu_seconds(self.servers),
            "database": cpu_seconds(self.database),
            "redis": cpu_seconds([self.redis]),
            "client": usage.ru_utime + usage.ru_stime,
        }

    def start(self) -> None:
        self.database = self._database_pids()  # the servers keep their connections (socket threads)
        self.before = self._sample()

    def stop(self) -> None:
        after = self._sample()
        self.used = {party: after[party] - self.before[party] for party in after}


def redis_commands(url: str) -> dict[str, int]:
    """How many of each command Redis has run (INFO commandstats)."""
    import redis

    stats = redis.Redis.from_url(url).info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


class Member:
    """One open conversation page: sends its share, records the server's answers and its partner's messages.
    Each send carries its body as "ref", which the server echoes in its {"ok": id}."""

    def __init__(self, ws, tag: str, sent_at: dict, receipts: dict):
        self.ws, self.tag, self.sent_at, self.receipts = ws, tag, sent_at, receipts
        self.answered = asyncio.Event()
        self.waiting = 0
        self.acknowledged: dict[str, int] = {}  # body → id
        self.ack_ms: list[float] = []
        self.errors: list[dict] = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for raw in self.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            if "message" in frame and "ok" not in frame:
                body = frame["message"]["body"]
                if not body.startswith(self.tag + " "):  # the partner's, not one of our own from another page
                    self.receipts.setdefault(body, []).append((now, frame["message"]["id"]))
            elif "ok" in frame or "error" in frame:
                body = frame.get("ref")
                if "ok" in frame:
                    self.acknowledged[body] = frame["ok"]
                    self.ack_ms.append((now - self.sent_at[body]) * 1000)
                else:
                    self.errors.append(frame)
                self.waiting -= 1
                self.answered.set()

    async def send(self, body: str):
        self.sent_at[body] = time.perf_counter()
        self.waiting += 1
        self.answered.clear()
        await self.ws.send(json.dumps({"action": "send", "body": body, "ref": body}))

    async def talk(self, count: int, *, interval: float = 0, start_after: float = 0, label: str = ""):
        """`count` messages: every `interval` seconds from `start_after` (paced), or with 0 each once the
        last is acknowledged (as fast as the server takes them)."""
        await asyncio.sleep(start_after)
        due = time.perf_counter()
        for n in range(count):
            await self.send(f"{self.tag} {label}{n}")
            if interval:
                due += interval
                await asyncio.sleep(max(0, due - time.perf_counter()))
            else:
                while self.waiting:
                    await asyncio.wait_for(self.answered.wait(), 30)  # a lost answer fails the run, never hangs it
        while self.waiting:
            await asyncio.wait_for(self.answered.wait(), 30)


async def run_clients(
    servers, pairs: list[dict], per_member: int, rate: float, cpu: CpuMeter, timeline: str | None = None
) -> dict:
    """Open every member's page, warm up, then measure the two phases: paced at `rate` (skipped with 0),
    then as fast as acknowledged."""
    sent_at: dict[str, float] = {}
    receipts: dict[str, list[tuple[float, int]]] = {}
    members = []
    for index, pair in enumerate(pairs):
        for side, key in enumerate(pair["keys"]):
            server = servers[(index + side) % 2]  # the partner is always on the other process
            ws = await open_socket(server, f"/ws/messages/{pair['conversation']}/", key)
            await ws.send(json.dumps({"action": "resume", "after": 0}))
            members.append(Member(ws, f"p{index}s{side}", sent_at, receipts))
    # Warm-up, not measured: every member sends one message and the partner receives it (the servers
    # have just started: imports, URL resolvers and connections are made on first use).
    await asyncio.gather(*(member.talk(1, label="warm-up ") for member in members))
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline and len(receipts) < len(members):
        await asyncio.sleep(0.05)
    if failed := [e for member in members for e in member.errors]:
        raise SystemExit(f"The warm-up was refused: {failed[0]}")
    phases = {}
    if rate:
        phases["paced"] = await _phase(members, sent_at, receipts, per_member, rate, cpu, "paced ", timeline)
    phases["capacity"] = await _phase(members, sent_at, receipts, per_member, 0, cpu, "capacity ", None)
    for member in members:
        await member.ws.close()
        member.reader.cancel()
    return phases


async def _phase(members, sent_at, receipts, per_member, rate, cpu, label, timeline) -> dict:
    """Every member sends `per_member` messages: every len(members) / rate seconds, the members spread
    evenly over one interval (paced), or with rate 0 each once the last is acknowledged. Figures over the
    messages sent here, once every one acknowledged has arrived (or 15 s have passed)."""
    sent_at.clear()
    receipts.clear()
    for member in members:
        member.acknowledged.clear()
        member.ack_ms.clear()
        member.errors.clear()
    interval = len(members) / rate if rate else 0
    cpu.start()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            member.talk(per_member, interval=interval, start_after=interval * n / len(members), label=label)
            for n, member in enumerate(members)
        )
    )
    acknowledged = {body for member in members for body in member.acknowledged}
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and not acknowledged <= receipts.keys():
        await asyncio.sleep(0.05)
    cpu.stop()
    delivered = [receipts[body][0][0] for body in acknowledged if body in receipts]
    if timeline is not None:
        # When each message was sent (seconds into the run) and its latency: a tail that comes in bursts (a
        # pause of a server) reads differently from one spread evenly (queueing).
        with open(timeline, "w") as out:
            for body in sorted(acknowledged & receipts.keys(), key=sent_at.__getitem__):
                out.write(f"{sent_at[body] - started:.4f} {(receipts[body][0][0] - sent_at[body]) * 1000:.2f}\n")
    return {
        "latencies": [(receipts[body][0][0] - sent_at[body]) * 1000 for body in acknowledged if body in receipts],
        "seconds": (max(delivered) if delivered else time.perf_counter()) - started,
        "acknowledged": [m for member in members for m in member.acknowledged.values()],
        "lost": len(acknowledged - receipts.keys()),
        "repeats": sum(len(got) - 1 for got in receipts.values()),
        "errors": [e for member in members for e in member.errors],
        "ack_ms": [ms for member in members for ms in member.ack_ms],
        "cpu": dict(cpu.used),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 pairs, 1,000 messages")
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne")
    parser.add_argument("--pairs", type=int, help="pairs of members (default 100, or 20 with --quick)")
    parser.add_argument("--messages", type=int, help="messages in all (default 10,000, or 1,000 with --quick)")
    parser.add_argument(
        "--rate",
        type=float,
        default=500,
        help="messages per second offered in the paced phase, spread over all members (default 500, the "
        "target); 0: no paced phase, only the capacity phase (each member sends its next message once the "
        "last is acknowledged)",
    )
    parser.add_argument("--timeline", metavar="FILE", help="write each message's send time and latency to FILE")
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
            # The flood limit's query as production runs it (the 30th newest message of the sender within the
            # window), with a window of 0 s so it never refuses.
            MESSAGE_RATE_WINDOW="0",
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
        redis_rtt = uvloop.run(redis_round_trip(redis_process.url, 300))
        commands_before = redis_commands(redis_process.url)
        cpu = CpuMeter(servers, env, redis_process.process.pid)
        # uvloop, as the servers use: the clients share the machine's two cores with the servers.
        result = uvloop.run(run_clients(servers, pairs, per_member, args.rate, cpu, args.timeline))
        commands = {k: v - commands_before.get(k, 0) for k, v in redis_commands(redis_process.url).items()}
        from messaging.models import Message

        stored = Message.objects.count()
    finally:
        for server in servers:
            server.stop()
        redis_process.stop()

    # Latency from the paced phase (the target's load), throughput from the other (the most taken).
    paced_name = "paced" if "paced" in result else "capacity"
    paced, capacity = result[paced_name], result["capacity"]
    sent = {name: len(phase["acknowledged"]) for name, phase in result.items()}

    def ms_per_message(seconds: float, phase: str) -> float:
        return round(seconds * 1000 / max(1, sent[phase]), 2)

    figures = {
        "p50_ms": round(percentile(paced["latencies"], 0.50), 2),
        "p99_ms": round(percentile(paced["latencies"], 0.99), 2),
        "msgs_per_s": round(sent["capacity"] / capacity["seconds"], 1),
        "redis_rtt_ms": round(redis_rtt, 3),
        "lost": sum(phase["lost"] for phase in result.values()),
        # Repeat receipts by partners, plus rows stored beyond those acknowledged and the warm-up's.
        "duplicated": sum(phase["repeats"] for phase in result.values())
        + max(0, stored - sum(sent.values()) - 2 * pairs_wanted),
        "server": args.server,
        "offered_msgs_per_s": args.rate or "as fast as acknowledged",
        "paced_msgs_per_s": round(sent["paced"] / paced["seconds"], 1) if "paced" in result else "none",
        "ack_p50_ms": round(percentile(paced["ack_ms"], 0.50), 2),  # send to the sender's {"ok": id}
        **{
            f"{party}_cpu_ms_per_message": ms_per_message(seconds, paced_name)
            for party, seconds in paced["cpu"].items()
        },
        "capacity_p50_ms": round(percentile(capacity["latencies"], 0.50), 2),
        "capacity_server_cpu_ms_per_message": ms_per_message(capacity["cpu"]["server"], "capacity"),
        "load_average": os.getloadavg()[0],  # other work on the machine skews every figure above
        "redis_commands_per_message": round(sum(commands.values()) / max(1, sum(sent.values())), 1),
        "pairs": pairs_wanted,
        "messages": sent[paced_name],
        "seconds": round(paced["seconds"], 2),
        "errors": sum(len(phase["errors"]) for phase in result.values()),
    }
    for key, value in figures.items():
        print(f"{key}={value}")
    print(
        "# redis commands: " + ", ".join(f"{k}={v}" for k, v in sorted(commands.items(), key=lambda kv: -kv[1])),
        file=sys.stderr,
    )
    if errors := [e for phase in result.values() for e in phase["errors"]]:
        print(f"first_error={errors[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
