"""A socket's dispatch loop (messaging.consumers._dispatch_in_turn): the page's frames and the channel layer's
events are handled one at a time, in the order each source gives them; a source's error reaches the socket;
the socket ending stops both readers; a slow handler does not let a source race ahead (issue 8, R-MSG-2)."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from messaging.consumers import _dispatch_in_turn


class Source:
    """A source of events fed by the test; counts its calls and whether its last call was cancelled."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.calls = 0
        self.cancelled = False

    async def __call__(self):
        self.calls += 1
        try:
            item = await self.queue.get()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if isinstance(item, BaseException):
            raise item
        return item


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 5))


def test_events_from_both_sources_are_handled_one_at_a_time_in_each_sources_order():
    async def scenario():
        frames, layer = Source(), Source()
        handled, running = [], []

        async def dispatch(event):
            assert not running, "two events handled at once"
            running.append(event)
            await asyncio.sleep(0)  # a handler that awaits: the other source's event must wait
            running.pop()
            handled.append(event)
            if event == "last":
                raise StopConsumer

        for n in range(5):
            frames.queue.put_nowait(f"frame {n}")
            layer.queue.put_nowait(f"event {n}")
        loop = asyncio.ensure_future(_dispatch_in_turn([frames, layer], dispatch))
        while len(handled) < 10:
            await asyncio.sleep(0.01)
        frames.queue.put_nowait("last")
        with pytest.raises(StopConsumer):
            await loop
        return handled, layer

    handled, layer = run(scenario())
    assert [e for e in handled if e.startswith("frame")] == [f"frame {n}" for n in range(5)]
    assert [e for e in handled if e.startswith("event")] == [f"event {n}" for n in range(5)]
    assert handled[-1] == "last"
    # The socket ended: the layer's reader, waiting for its next event, was cancelled (it unsubscribes so).
    assert layer.cancelled


def test_a_sources_error_is_raised_where_events_are_handled_and_the_other_reader_stops():
    async def scenario():
        frames, layer = Source(), Source()
        layer.queue.put_nowait(ConnectionError("Redis went away"))

        async def dispatch(event):
            pass

        with pytest.raises(ConnectionError, match="Redis went away"):
            await _dispatch_in_turn([frames, layer], dispatch)
        return frames

    frames = run(scenario())
    assert frames.cancelled


def test_a_slow_handler_holds_the_sources_back():
    async def scenario():
        frames, layer = Source(), Source()
        release = asyncio.Event()
        handled = []

        async def dispatch(event):
            handled.append(event)
            await release.wait()  # the first event's handler is slow

        for n in range(100):
            frames.queue.put_nowait(n)
        loop = asyncio.ensure_future(_dispatch_in_turn([frames, layer], dispatch))
        for _ in range(20):
            await asyncio.sleep(0)
        calls_while_blocked = frames.calls
        release.set()
        while len(handled) < 100:
            await asyncio.sleep(0.001)
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
        return calls_while_blocked, handled

    calls_while_blocked, handled = run(scenario())
    # One event handled, one waiting to be, one held by the reader: not the hundred queued.
    assert calls_while_blocked <= 3
    assert handled == list(range(100))
