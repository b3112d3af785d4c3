"""The sockets' database threads (messaging.consumers.database_sync_to_async): with a pool, the caller's context
travels into the thread (a write's pushes go to the socket's event loop, messaging.delivery), each thread keeps
its healthy connection between calls, and an error reaches the caller (issue 8, R-MSG-2)."""

import asyncio
import contextvars
import threading

import pytest
from django.db import connection

from messaging import consumers

pytestmark = pytest.mark.django_db(transaction=True)

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def _where(value: int) -> tuple[int, str, str, int]:
    connection.ensure_connection()
    return value * 2, marker.get(), threading.current_thread().name, id(connection.connection)


def _refuse():
    raise ValueError("refused in the thread")


def _close_in_every_thread(threads: int) -> None:
    """Close each pool thread's connection (the test database is dropped at the end)."""
    together = threading.Barrier(threads)

    def close():
        together.wait(5)  # one call in each thread
        connection.close()

    for done in [consumers._pool(threads).submit(close) for _ in range(threads)]:
        done.result(10)


@pytest.fixture
def two_threads(settings):
    settings.SOCKET_DATABASE_THREADS = 2
    yield
    _close_in_every_thread(2)


def test_pooled_calls_carry_the_context_keep_their_connection_and_raise(two_threads):
    where = consumers.database_sync_to_async(_where)
    refuse = consumers.database_sync_to_async(_refuse)

    async def main():
        marker.set("socket's")
        first = await where(1)
        again = await where(2)
        with pytest.raises(ValueError, match="refused in the thread"):
            await refuse()
        return first, again

    first, again = asyncio.run(main())
    assert first[:2] == (2, "socket's") and again[:2] == (4, "socket's")
    assert first[2].startswith("socket-database") and threading.current_thread().name != first[2]
    if first[2] == again[2]:  # the same thread: the same connection, kept between calls
        assert first[3] == again[3]
    assert marker.get() == "unset"  # nothing is copied back into the caller's context
