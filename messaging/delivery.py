"""Channel-layer sends after commit, without holding up the writer.

A write called from a websocket runs in the server's one database thread (channels' thread-sensitive
sync_to_async); waiting there for Redis would hold up every socket's next write. So a consumer names its
event loop (`serve_from`), which travels with the call into that thread, and sends made after commit are
handed to that loop and the thread goes on. Sends that share a key (one conversation) are made one after
another, in the order the writes committed; different keys go in parallel. Anywhere else (a page's form
post, a task, a test) the send is made in place, as async_to_sync does.

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


class _Lanes:
    """Per event loop: the sends waiting in each key's lane."""

    def __init__(self):
        self.waiting: dict[object, collections.deque] = {}
        self.draining: set[asyncio.Task] = set()  # held, so a running lane is never garbage-collected

    def submit(self, key, events: list[tuple[str, dict]], what: str) -> None:
        lane = self.waiting.get(key)
        if lane is not None:
            lane.append((events, what))
            return
        self.waiting[key] = collections.deque([(events, what)])
        task = asyncio.ensure_future(self._drain(key))
        self.draining.add(task)
        task.add_done_callback(self.draining.discard)

    async def _drain(self, key) -> None:
        lane = self.waiting[key]
        try:
            while lane:
                events, what = lane.popleft()
                await _send_all(events, what)
        finally:
            del self.waiting[key]


_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lanes] = weakref.WeakKeyDictionary()


def _lanes_for(loop: asyncio.AbstractEventLoop) -> _Lanes:
    lanes = _lanes.get(loop)
    if lanes is None:
        lanes = _lanes[loop] = _Lanes()
    return lanes


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


def layer_send(events: list[tuple[str, dict]], *, what: str, key=None) -> None:
    """Send group events in order. Never raises. `key` orders sends that share it (see the module)."""
    if not events or get_channel_layer() is None:
        return
    lane = key if key is not None else object()
    loop = _serving_loop.get()
    if loop is not None and not loop.is_closed():
        try:
            running_here = asyncio.get_running_loop() is loop
        except RuntimeError:
            running_here = False
        if running_here:
            _lanes_for(loop).submit(lane, events, what)
        else:
            loop.call_soon_threadsafe(_lanes_for(loop).submit, lane, events, what)
        return
    try:
        async_to_sync(_send_all)(events, what)
    except RuntimeError as error:
        # Called from a thread that runs an event loop of its own (a test driving a browser): not ours to use.
        logger.warning("Could not push %s: %s", what, error)
