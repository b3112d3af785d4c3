"""Channel-layer sends after commit, without holding up the writer.

A write called from a websocket runs in a database thread (consumers.database_sync_to_async); waiting there
for Redis would hold up that socket's next write. So a consumer names its event loop (`serve_from`), which
travels with the call into that thread, and sends made after commit are handed to that loop and the thread
goes on. They leave in the order they reach the loop, everything waiting in one round trip (see _Outbox): for
one conversation that is the order its writes committed (they hold its row lock in turn), unless a thread is
descheduled between its commit and the hand-over; a receiving socket sees such a crossing by the message's
`previous` and waits for the missing one. Anywhere else (a page's form post, a task, a test) the send is made
in place, as async_to_sync does.

Either way a failed send is logged in one line and never raised: the write has committed, and pages catch
up (consumers resync after a layer outage; every page load shows the stored state).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import weakref

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

_serving_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "messaging_serving_loop", default=None
)


def serve_from(loop: asyncio.AbstractEventLoop) -> None:
    """Called by a consumer in its own task: writes it makes hand their sends to `loop`."""
    _serving_loop.set(loop)


class _Outbox:
    """Per event loop: the sends waiting, in the order they reached the loop. One task sends everything
    waiting in one round trip (group_send_many), then whatever came meanwhile: under load, many messages
    share one write to Redis instead of one each (bench/messaging.py), and sends still leave in the order
    they came."""

    def __init__(self):
        self.waiting: collections.deque = collections.deque()
        self.draining: asyncio.Task | None = None  # held, so a running drain is never garbage-collected

    def submit(self, events: list[tuple[str, dict]], what: str) -> None:
        self.waiting.append((events, what))
        if self.draining is None:
            self.draining = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        try:
            while self.waiting:
                batch = list(self.waiting)
                self.waiting.clear()
                events = [event for events, _ in batch for event in events]
                what = batch[0][1] if len(batch) == 1 else f"{len(batch)} sends ({batch[0][1]}, …)"
                await _send_all(events, what)
        finally:
            self.draining = None


_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Outbox] = weakref.WeakKeyDictionary()


def _outbox_for(loop: asyncio.AbstractEventLoop) -> _Outbox:
    outbox = _outboxes.get(loop)
    if outbox is None:
        outbox = _outboxes[loop] = _Outbox()
    return outbox


async def _send_all(events: list[tuple[str, dict]], what: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        send_many = getattr(layer, "group_send_many", None)  # production's layer: one round trip for all
        if send_many is not None:
            await send_many(events)
        else:
            for group, event in events:
                await layer.group_send(group, event)
    except Exception as error:
        # Redis down or restarting, a full channel: one line, not a traceback per message.
        logger.warning("Could not push %s: %s: %s", what, type(error).__name__, error)
        logger.debug("Push failure", exc_info=True)


def layer_send(events: list[tuple[str, dict]], *, what: str) -> None:
    """Send group events, after those of earlier calls. Never raises (see the module)."""
    if not events or get_channel_layer() is None:
        return
    loop = _serving_loop.get()
    if loop is not None and not loop.is_closed():
        try:
            running_here = asyncio.get_running_loop() is loop
        except RuntimeError:
            running_here = False
        if running_here:
            _outbox_for(loop).submit(events, what)
        else:
            loop.call_soon_threadsafe(_outbox_for(loop).submit, events, what)
        return
    try:
        async_to_sync(_send_all)(events, what)
    except RuntimeError as error:
        # Called from a thread that runs an event loop of its own (a test driving a browser): not ours to use.
        logger.warning("Could not push %s: %s", what, error)
