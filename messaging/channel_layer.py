"""The channel layer's health as the sockets of one process see it, and the Redis layer production uses.

Production runs channels_redis's pub/sub layer (settings.CHANNEL_LAYERS): a group send is one PUBLISH and
Redis pushes it to every process subscribed, where channels_redis's default layer spends some twenty
commands on each message (measured with bench/messaging.py). The pub/sub layer keeps nothing for a
process that is away, and on its own it hides an outage from the sockets (its receive loop logs the error
and reconnects). `RedisPubSubLayer` tells `LayerHealth` instead, so the sockets catch up on what they
missed from the database once Redis answers again (R-MSG-2: stored first, delivered best effort).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close

logger = logging.getLogger(__name__)


class LayerHealth:
    """Whether the channel layer works, for the sockets of one process (one per event loop).

    `epoch` counts the outages; a socket that joined its groups in an older epoch joins them again and
    catches up. `changed` wakes every socket waiting on the layer when an outage starts; `answering` is
    set while the layer works.
    """

    def __init__(self):
        self.epoch = 0
        self.down_since_epoch: int | None = None
        self.changed = asyncio.Event()
        self.answering = asyncio.Event()
        self.answering.set()

    @property
    def is_down(self) -> bool:
        return self.down_since_epoch is not None

    def down(self, error: BaseException) -> None:
        if self.is_down:
            return
        self.epoch += 1
        self.down_since_epoch = self.epoch
        self.answering.clear()
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()
        logger.warning(
            "The channel layer failed (%s: %s); sockets stay open and catch up when it is back",
            type(error).__name__,
            error,
        )

    def up(self) -> None:
        if not self.is_down:
            return
        self.down_since_epoch = None
        self.answering.set()
        logger.warning("The channel layer answers again; sockets catch up on what they missed")


_health: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerHealth] = weakref.WeakKeyDictionary()


def layer_health() -> LayerHealth:
    """The health of the channel layer for this event loop's sockets."""
    loop = asyncio.get_running_loop()
    health = _health.get(loop)
    if health is None:
        health = _health[loop] = LayerHealth()
    return health


# What a socket waiting on the layer receives when Redis fails: it then waits for Redis and catches up.
LAYER_LOST = {"type": "layer.lost"}


class _Shard(RedisSingleShardConnection):
    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, message) in one round trip (channels_redis publishes one at a time, each
        behind the shard's lock)."""
        async with self._lock:
            self._ensure_redis()
            pipe = self._redis.pipeline(transaction=False)
            for channel, message in items:
                pipe.publish(channel, message)
            await pipe.execute()

    async def _do_receiving(self):
        # As channels_redis's loop, but an error is an outage to report (not a traceback a second) and to
        # wake the sockets with; a read that works after one means Redis answers again (redis-py has
        # subscribed us again by then). The read waits as long as it takes (timeout None): channels_redis
        # reads with a timeout of 0.1 s, which costs a timer for every message and wakes every 0.1 s when
        # idle. Subscribing meanwhile is a write on the same connection; a failure ends the read at once.
        health = layer_health()
        failing = False
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if failing:
                        failing = False
                        health.up()
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as error:
                health.down(error)
                if not failing:
                    failing = True
                    self.channel_layer.wake_all()
                await asyncio.sleep(0.5)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

    async def group_send_many(self, events: list[tuple[str, dict]]) -> None:
        """group_send for each (group, message), in order, one round trip per shard."""
        by_shard: dict[_Shard, list[tuple[str, bytes]]] = {}
        for group, message in events:
            channel = self._get_group_channel_name(group)
            by_shard.setdefault(self._get_shard(channel), []).append((channel, self.channel_layer.serialize(message)))
        for shard, items in by_shard.items():
            await shard.publish_many(items)

    def wake_all(self) -> None:
        """Every socket of this process waiting on the layer receives LAYER_LOST."""
        lost = self.channel_layer.serialize(LAYER_LOST)
        for queue in self.channels.values():
            queue.put_nowait(lost)

    async def new_channel(self, prefix="specific."):
        # A socket that opens while Redis is down still opens (sending works); it joins its groups when
        # Redis is back. Its own channel stays unsubscribed then: nothing here sends to one socket alone.
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = asyncio.Queue()
        try:
            await self._get_shard(channel).subscribe(channel)
        except Exception as error:
            layer_health().down(error)
        return channel

    async def receive(self, channel):
        # As channels_redis's, but a socket that closes while Redis is down leaves quietly: its
        # subscriptions went with the connection (channels_redis logs a traceback for each).
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        queue = self.channels[channel]
        try:
            message = await queue.get()
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            if channel in self.channels:
                del self.channels[channel]
                with contextlib.suppress(Exception):
                    await self._get_shard(channel).unsubscribe(channel)
            raise
        return self.channel_layer.deserialize(message)


class RedisPubSubLayer(RedisPubSubChannelLayer):
    """channels_redis's pub/sub layer that reports outages to LayerHealth (see the module)."""

    reports_health = True

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
            return layer
