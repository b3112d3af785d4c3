"""Websockets: the member's live badges (the bell, unread messages) and one pairing's conversation.

Messages are stored before they are delivered, so the channel layer (Redis) is only the fast path: when
it fails, sockets stay open and sending still works; when it is back, every socket of the process joins
its groups again (Redis may have restarted empty) and catches up on what it missed (R-MSG-2).
"""

import asyncio
import contextlib
import functools
import json
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections

# Consumers are the top layer (DESIGN.md, Layers): they send through the same service as the page.
from mentoring.messages import message_send
from messaging import delivery, selectors
from messaging.models import Conversation
from messaging.services import (
    MessageRateLimited,
    conversation_group,
    conversation_mark_read,
    message_payload,
    messages_after,
    session_group,
    unread_count,
    user_group,
)

logger = logging.getLogger(__name__)


class _SocketDatabase(SyncToAsync):
    """Runs a socket's database work in a thread, keeping the thread's connection between calls while it is
    healthy (a connection left in a transaction or broken by an error is closed, as close_old_connections
    does). Opening a PostgreSQL connection costs several milliseconds: per message, that was most of it.

    The threads are settings.SOCKET_DATABASE_THREADS workers of a pool of their own, so writes for
    different conversations run side by side, each thread with one connection. With 1 (tests), the work
    runs in channels' one thread-sensitive thread, as database_sync_to_async does. Pages' requests run in
    threads of their own and keep Django's CONN_MAX_AGE.
    """

    def thread_handler(self, loop, *args, **kwargs):
        _keep_healthy_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _keep_healthy_connections()


def _keep_healthy_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close_at = None  # no age limit in these threads
        connection.close_if_unusable_or_obsolete()


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="socket-database")


def database_sync_to_async(func):
    in_one_thread = _SocketDatabase(func, thread_sensitive=True)

    @functools.wraps(func)
    async def call(*args, **kwargs):
        threads = settings.SOCKET_DATABASE_THREADS
        if threads <= 1:
            return await in_one_thread(*args, **kwargs)
        return await _SocketDatabase(func, thread_sensitive=False, executor=_pool(threads))(*args, **kwargs)

    return call


# The largest text frame read. A message at its length limit fits many times over, even JSON-escaped.
MAX_FRAME = 32 * 1024
# How many missed messages one catch-up sends at most; a page offline for longer shows the rest on reload.
RESUME_LIMIT = 500
# A client's reference for a frame, echoed in the answer so a page can tell which send was refused.
MAX_REF = 64


class _LayerOutages:
    """Failures of the channel layer seen by any socket of this process (one per event loop).

    `epoch` counts them; a socket that last joined its groups in an older epoch joins again and catches up.
    `changed` wakes every socket waiting on the layer, so all of them learn of a failure one of them saw.
    """

    def __init__(self):
        self.epoch = 0
        self.changed = asyncio.Event()

    def report(self, error: BaseException, *, seen_epoch: int) -> None:
        if seen_epoch != self.epoch:
            return  # another socket reported this outage already
        self.epoch += 1
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()
        logger.warning(
            "The channel layer failed (%s: %s); sockets stay open and catch up when it is back",
            type(error).__name__,
            error,
        )


_outages: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LayerOutages]" = weakref.WeakKeyDictionary()


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()


def _outages_here() -> _LayerOutages:
    loop = asyncio.get_running_loop()
    outages = _outages.get(loop)
    if outages is None:
        outages = _outages[loop] = _LayerOutages()
    return outages


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """A socket that outlives failures of the channel layer, and reads frames carefully (bad input gets an
    error frame, never a traceback). Subclasses join their groups with `join` and handle `layer.back`."""

    groups_joined: tuple[str, ...] = ()
    _layer_epoch = 0

    async def __call__(self, scope, receive, send):
        # As channels' AsyncConsumer.__call__, with the layer's receive wrapped (_layer_receive): there, a
        # receive that raises (Redis gone) ends the socket with a logged traceback.
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        if self.channel_layer is None:
            return await super().__call__(scope, receive, send)
        self.scope = scope
        delivery.serve_from(asyncio.get_running_loop())  # sends after this socket's writes go to this loop
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = self._layer_receive
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive, self._layer_receive], self.dispatch)

    async def dispatch(self, message):
        # channels closes stale database connections before every handler, a thread hop per event; our
        # handlers reach the database only through database_sync_to_async, which does that itself.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None or message["type"].startswith("_"):
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join(self, groups: list[str]) -> None:
        """Join the socket's groups. With the layer down the socket still opens (sending works); it joins
        when the layer is back."""
        self.groups_joined = tuple(groups)
        outages = _outages_here()
        self._layer_epoch = outages.epoch
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        except Exception as error:
            outages.report(error, seen_epoch=self._layer_epoch)

    async def _layer_receive(self) -> dict:
        """The next event from the channel layer; after an outage, {"type": "layer.back"} once rejoined."""
        outages = _outages_here()
        while True:
            if self._layer_epoch != outages.epoch:
                await self._rejoin(outages)
                return {"type": "layer.back"}
            receiving = asyncio.ensure_future(self.channel_layer.receive(self.channel_name))
            woken = asyncio.ensure_future(outages.changed.wait())
            try:
                await asyncio.wait((receiving, woken), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (receiving, woken):
                    if not task.done():
                        task.cancel()
                        # A cancelled receive may still end in the layer's own error: retrieve it, or asyncio
                        # logs "Task exception was never retrieved" with a traceback.
                        task.add_done_callback(_retrieve)
            if receiving.done() and not receiving.cancelled():
                error = receiving.exception()
                if error is None:
                    return receiving.result()
                outages.report(error, seen_epoch=self._layer_epoch)
                if self._layer_epoch == outages.epoch:  # pragma: no cover (report always moves it on)
                    await asyncio.sleep(1)

    async def _rejoin(self, outages: _LayerOutages) -> None:
        delay = 0.2
        while True:
            epoch = outages.epoch
            try:
                for group in self.groups_joined:
                    await self.channel_layer.group_add(group, self.channel_name)
            except Exception:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            else:
                self._layer_epoch = epoch
                return

    async def disconnect(self, code):
        for group in self.groups_joined:
            # With the layer down, the group entry expires on its own (group_expiry).
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def read_frame(self, text_data, bytes_data) -> dict | None:
        """The frame as a JSON object, or None after answering a bad one with an error frame."""
        if text_data is None:
            await self.send_json({"error": "Binary frames are not read: send JSON text frames."})
            return None
        if len(text_data) > MAX_FRAME:
            await self.send_json({"error": f"That frame is too large: at most {MAX_FRAME:,} characters."})
            return None
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.send_json({"error": 'Send JSON frames: {"action": "send", "body": "…"}.'})
            return None
        return frame if isinstance(frame, dict) else {}

    async def session_logout(self, event):
        # The member signed out (on any device): this page must stop listening.
        await self.close(code=4401)


@database_sync_to_async
def _unread_counts(user_id: int) -> dict[int, int]:
    return selectors.unread_counts(user_id)


@database_sync_to_async
def _badges(user) -> dict:
    counts = selectors.unread_counts(user.pk)
    return {"unread": unread_count(user), "counts": counts, "total": sum(counts.values())}


class NotificationConsumer(LiveConsumer):
    """Pushes the bell's unread count and the unread messages (the "Messages" link, the inbox, "My
    mentoring") to every open page of one signed-in member (R-MSG-3)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.join([user_group(user.pk)])
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The socket only listens; anything sent (JSON or not) gets a clear error, never a crash.
        await self.send_json({"error": "This socket does not accept messages."})

    async def notification_count(self, event):
        await self.send_json({"unread": event["unread"]})

    async def inbox_changed(self, event):
        inbox = {"conversation": event["conversation"], "unread": 0, "total": None, "last": event["last"]}
        if event["counted"]:
            counts = await _unread_counts(self.scope["user"].pk)
            inbox.update(unread=counts.get(event["conversation"], 0), total=sum(counts.values()))
        await self.send_json({"inbox": inbox})

    async def layer_back(self, event):
        # Counts may have changed while the layer was down: send them all.
        badges = await _badges(self.scope["user"])
        await self.send_json({"unread": badges["unread"]})
        await self.send_json({"inbox": {"counts": badges["counts"], "total": badges["total"]}})


@database_sync_to_async
def _conversation_for(user, pk: int) -> Conversation | None:
    return (
        Conversation.objects.for_participant(user).select_related("first_member", "second_member").filter(pk=pk).first()
    )


@database_sync_to_async
def _missed(conversation: Conversation, after_id: int, partner_id: int) -> tuple[list[dict], int, int]:
    """The messages after `after_id` (oldest first, at most RESUME_LIMIT), the id the page then has every
    message up to, and how far the partner has read."""
    rows = messages_after(conversation=conversation, after_id=after_id, limit=RESUME_LIMIT)
    if rows:
        through = rows[-1].pk
    else:
        # Nothing newer: cut an id past the newest message to it, so later messages are not taken for seen.
        through = conversation.messages.filter(pk__lte=after_id).order_by("-pk").values_list("pk", flat=True).first()
    payloads, previous = [], None
    for message in rows:
        payloads.append(message_payload(message, previous=previous))
        previous = message.pk
    return payloads, through or 0, selectors.read_up_to(conversation, partner_id)


@database_sync_to_async
def _send(conversation_id: int, sender, body: str) -> int:
    return message_send(conversation_id=conversation_id, sender=sender, body=body).pk


@database_sync_to_async
def _mark_read(conversation_id: int, user, up_to: int) -> None:
    conversation_mark_read(conversation_id=conversation_id, user=user, up_to_id=up_to)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


class ConversationConsumer(LiveConsumer):
    """One pairing's conversation, live (R-MSG-2). Frames from the page:

    {"action": "resume", "after": <last id>}  the messages after it, each {"message": …, "catch_up": true},
                                              then the partner's read mark {"read": {"by": id, "up_to": id}}
    {"action": "send", "body": "…"}           {"ok": <id>} once stored, or {"error": …} ("code": "rate_limited"
                                              and "retry_after" for a flood); "ref" is echoed when given
    {"action": "read", "up_to": <id>}         the page showed the messages up to it; both sides' pages get
                                              {"read": …}
    Live: {"message": …} for each new message, {"read": …} when either member reads. Every bad frame gets
    {"error": …}, never a traceback. Close codes: 4401 signed out, 4403 not this member's conversation.

    Once the page has resumed, the socket knows the id up to which the page has every message: a live
    message whose `previous` is newer than that means one was missed (the layer lost it), and the socket
    sends what is missing first. After an outage of the layer it does the same.
    """

    contiguous: int | None = None  # the page has every message up to this id

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        pk = self.scope["url_route"]["kwargs"]["pk"]
        self.conversation = await _conversation_for(user, pk)
        if self.conversation is None:
            await self.close(code=4403)
            return
        self.partner_id = self.conversation.partner_of(user).pk
        await self.join([conversation_group(self.conversation.pk), session_group(user.pk)])
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        frame = await self.read_frame(text_data, bytes_data)
        if frame is None:
            return
        action = frame.get("action")
        if action == "send":
            await self._action_send(frame)
        elif action == "resume":
            await self._action_resume(frame.get("after"))
        elif action == "read":
            await self._action_read(frame.get("up_to"))
        else:
            await self.send_json({"error": 'Unknown action: use "send", "resume" or "read".'})

    async def _action_send(self, frame: dict):
        ref = frame.get("ref")
        echo = (
            {"ref": ref}
            if isinstance(ref, str | int) and not isinstance(ref, bool) and len(str(ref)) <= MAX_REF
            else {}
        )
        body = frame.get("body")
        if not isinstance(body, str):
            await self.send_json({"error": "Write a message before you send it.", **echo})
            return
        try:
            message_id = await _send(self.conversation.pk, self.scope["user"], body)
        except MessageRateLimited as refused:
            await self.send_json(
                {"error": refused.messages[0], "code": "rate_limited", "retry_after": refused.retry_after, **echo}
            )
        except ValidationError as refused:
            await self.send_json({"error": " ".join(refused.messages), **echo})
        except Conversation.DoesNotExist:
            await self.close(code=4403)
        else:
            await self.send_json({"ok": message_id, **echo})

    async def _action_resume(self, after):
        if not _is_id(after):
            await self.send_json({"error": 'Resume with the id of the last message you have: {"after": 123}.'})
            return
        await self._catch_up(after)

    async def _action_read(self, up_to):
        if not _is_id(up_to):
            await self.send_json({"error": 'Say which message was read last: {"action": "read", "up_to": 123}.'})
            return
        await _mark_read(self.conversation.pk, self.scope["user"], up_to)

    async def _catch_up(self, after: int):
        payloads, through, partner_read = await _missed(self.conversation, after, self.partner_id)
        for payload in payloads:
            await self.send_json({"message": payload, "catch_up": True})
        self.contiguous = max(self.contiguous or 0, through)
        if partner_read:
            await self.send_json({"read": {"by": self.partner_id, "up_to": partner_read}})

    async def message_new(self, event):
        message = event["message"]
        if self.contiguous is not None:
            if message["id"] <= self.contiguous:
                return  # the page has it (a catch-up sent it)
            previous = message.get("previous")
            if previous is not None and previous > self.contiguous:
                await self._catch_up(self.contiguous)  # one was missed: send it and this one, in order
                return
            self.contiguous = message["id"]
        await self.send_json({"message": message})

    async def message_read(self, event):
        await self.send_json({"read": {"by": event["reader_id"], "up_to": event["up_to"]}})

    async def layer_back(self, event):
        if self.contiguous is not None:
            await self._catch_up(self.contiguous)
