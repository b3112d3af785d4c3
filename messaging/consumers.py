"""Websockets: the member's live badges (the bell, unread messages) and one pairing's conversation.

Messages are stored before they are delivered, so the channel layer (Redis) is only the fast path: when
it fails, sockets stay open and sending still works; when it is back, every socket of the process joins
its groups again (Redis may have restarted empty) and catches up on what it missed (R-MSG-2).
"""

import asyncio
import contextlib
import contextvars
import datetime
import functools
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections

# Consumers are the top layer (DESIGN.md, Layers): they send through the same service as the page.
from mentoring.messages import message_send
from messaging import delivery, selectors
from messaging.channel_layer import LAYER_LOST, layer_health
from messaging.models import Conversation, Message
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
from messaging.special_category import SpecialCategoryWarning

logger = logging.getLogger(__name__)


class _SocketDatabase(SyncToAsync):
    """channels' one thread-sensitive thread, as database_sync_to_async uses it, keeping the thread's
    connection between calls while it is healthy (see _in_socket_thread)."""

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


def _in_socket_thread(func, args, kwargs):
    _keep_healthy_connections()
    try:
        return func(*args, **kwargs)
    finally:
        _keep_healthy_connections()


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="socket-database")


def database_sync_to_async(func):
    """Runs a socket's database work in a thread, keeping the thread's connection between calls while it is
    healthy (a connection left in a transaction or broken by an error is closed, as close_old_connections
    does). Opening a PostgreSQL connection costs several milliseconds: per message, that was most of it.

    The threads are settings.SOCKET_DATABASE_THREADS workers of a pool of their own, so writes for
    different conversations run side by side, each thread with one connection. The call runs in a copy of
    the caller's context (contextvars: delivery.serve_from's loop travels so), handed to the pool directly:
    asgiref's SyncToAsync, which also copies the context back and shields the call, cost a third more CPU per
    call (bench/messaging.py makes one per message). Nothing here sets a context variable for the caller.
    With 1 (tests), the work runs in channels' one thread-sensitive thread, as database_sync_to_async does.
    Pages' requests run in threads of their own and keep Django's CONN_MAX_AGE.
    """
    in_one_thread = _SocketDatabase(func, thread_sensitive=True)

    @functools.wraps(func)
    async def call(*args, **kwargs):
        threads = settings.SOCKET_DATABASE_THREADS
        if threads <= 1:
            return await in_one_thread(*args, **kwargs)
        context = contextvars.copy_context()
        work = functools.partial(context.run, _in_socket_thread, func, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(_pool(threads), work)

    return call


# The largest text frame read. A message at its length limit fits many times over, even JSON-escaped.
MAX_FRAME = 32 * 1024
# How many missed messages one catch-up sends at most; a page offline for longer shows the rest on reload.
RESUME_LIMIT = 500
# How long a live message whose previous one has not come waits for it before a catch-up, in seconds: at
# least GAP_WAIT, and LAG_FACTOR times the socket's recent delivery lag when the servers are slow (see _fill_gap),
# but never more than MAX_GAP_WAIT (the lag is read against the storing server's clock, which may be off).
GAP_WAIT = 2.0
LAG_FACTOR = 3
MAX_GAP_WAIT = 20.0
# A client's reference for a frame, echoed in the answer so a page can tell which send was refused.
MAX_REF = 64
# How many of its own messages a socket remembers until the layer brings them back (then it skips them).
MAX_OWN = 1000


async def _dispatch_in_turn(sources, dispatch) -> None:
    """Dispatch what each source returns, one event at a time, until dispatch raises. As channels'
    await_many_dispatch, with one reader task per source for the socket's life instead of a new task and an
    asyncio.wait for every event (three events per message sent between two processes: measured with
    bench/messaging.py). While one event is handled, one more waits for it and each reader holds at most one
    (there, one per source): a slow handler holds the sources back, as there."""
    ready: asyncio.Queue = asyncio.Queue(maxsize=1)

    async def read(source):
        while True:
            try:
                event = await source()
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # raised where it is dispatched, as await_many_dispatch does
                await ready.put((None, error))
                return
            await ready.put((event, None))

    readers = [asyncio.ensure_future(read(source)) for source in sources]
    try:
        while True:
            event, error = await ready.get()
            if error is not None:
                raise error
            await dispatch(event)
    finally:
        for reader in readers:
            reader.cancel()
        for reader in readers:
            with contextlib.suppress(asyncio.CancelledError):
                await reader


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()


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
        self._layer_epoch = layer_health().epoch  # outages before this socket opened are not its own
        delivery.serve_from(asyncio.get_running_loop())  # sends after this socket's writes go to this loop
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = self._layer_receive
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await _dispatch_in_turn([receive, self._layer_receive], self.dispatch)

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
        health = layer_health()
        self._layer_epoch = health.epoch
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        except Exception as error:
            health.down(error)

    async def _layer_receive(self) -> dict:
        """The next event from the channel layer; after an outage, {"type": "layer.back"} once rejoined."""
        health = layer_health()
        while True:
            if self._layer_epoch != health.epoch or health.is_down:
                if self.groups_joined:
                    await self._rejoin(health)
                    return {"type": "layer.back"}
                # Not joined (not accepted yet, or refused): nothing to catch up on; wait for Redis.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(health.answering.wait(), 1)
                self._layer_epoch = health.epoch
                continue
            if getattr(self.channel_layer, "reports_health", False):
                # This layer wakes its waiting sockets itself when Redis fails (channel_layer.LAYER_LOST);
                # a receive must not be cancelled there (it would drop the socket's subscription).
                message = await self.channel_layer.receive(self.channel_name)
                if message != LAYER_LOST:
                    return message
                continue
            receiving = asyncio.ensure_future(self.channel_layer.receive(self.channel_name))
            woken = asyncio.ensure_future(health.changed.wait())
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
                health.down(error)  # a layer whose receive fails (channels_redis's default one)

    async def _rejoin(self, health) -> None:
        """Join the groups again once the layer answers: Redis may have restarted empty."""
        reports = getattr(self.channel_layer, "reports_health", False)
        delay = 0.2
        while True:
            if reports and health.is_down:
                # The layer says when Redis answers (its subscriptions come back by themselves).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(health.answering.wait(), 5)
                continue
            epoch = health.epoch
            try:
                for group in self.groups_joined:
                    await self.channel_layer.group_add(group, self.channel_name)
            except Exception as error:
                health.down(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if not reports:
                health.up()  # a group_add that worked is the news that Redis answers
            if not health.is_down and health.epoch == epoch:
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
def _missed(conversation: Conversation, after_id: int, partner_id: int, viewer) -> tuple[list[dict], int, int]:
    """The messages after `after_id` that `viewer` sees (oldest first, at most RESUME_LIMIT: never a held
    message of the partner's), the id the page then has every message up to, and how far the partner has read."""
    rows = messages_after(conversation=conversation, after_id=after_id, limit=RESUME_LIMIT, viewer=viewer)
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
def _send(conversation_id: int, sender, body: str, confirm_special: bool = False) -> dict:
    """The sender's answer: the new id, and for a held message (R-MSG-7) the message with the reason it is held."""
    message = message_send(conversation_id=conversation_id, sender=sender, body=body, confirm_special=confirm_special)
    if message.status == Message.Status.HELD:
        return {"ok": message.pk, "held": message_payload(message)}
    return {"ok": message.pk, "message": message.live_payload}


@database_sync_to_async
def _mark_read(conversation_id: int, user, up_to: int) -> None:
    conversation_mark_read(conversation_id=conversation_id, user=user, up_to_id=up_to)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


class ConversationConsumer(LiveConsumer):
    """One pairing's conversation, live (R-MSG-2). Frames from the page:

    {"action": "resume", "after": <last id>}  the messages after it, each {"message": …, "catch_up": true},
                                              then the partner's read mark {"read": {"by": id, "up_to": id}}
    {"action": "send", "body": "…"}           {"ok": <id>, "message": …} once stored (the page shows it from
                                              there: this socket is not sent it again; or, with "held": the
                                              message instead, for one held
                                              for carrying contact details, R-MSG-7), or {"error": …}
                                              ("code": "rate_limited" and "retry_after" for a flood), or
                                              {"warning": …, "needs_confirm": true} for text that seems to hold
                                              special-category data (R-MSG-4) until it is resent with
                                              "confirm_special": true; "ref" is echoed when given
    {"action": "read", "up_to": <id>}         the page showed the messages up to it; both sides' pages get
                                              {"read": …}
    Live: {"message": …} for each new message, {"read": …} when either member reads. Every bad frame gets
    {"error": …}, never a traceback. Close codes: 4401 signed out, 4403 not this member's conversation.

    Once the page has resumed, the socket knows the id up to which the page has every message: a live
    message whose `previous` is newer than that means one is missing: the socket sends the message at once
    (the page orders by id), waits for the missing one (two messages sent at once can cross: GAP_WAIT, longer
    while live messages come late, see _fill_gap), and then fetches what is still missing from the database.
    After an outage of the layer it catches up too.
    """

    contiguous: int | None = None  # the page has every message up to this id
    _gap_wait: asyncio.Task | None = None
    lag = 0.0  # seconds from a live message's storing to its arrival here, a moving average

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ahead: dict[int, int] = {}  # sent while one before it is missing: id → the previous one's id
        self.own: set[int] = set()  # sent from this socket and answered with the message, not yet back live

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
            answer = await _send(self.conversation.pk, self.scope["user"], body, frame.get("confirm_special") is True)
        except SpecialCategoryWarning as warning:
            await self.send_json({"warning": warning.text, "needs_confirm": True, **echo})
        except MessageRateLimited as refused:
            await self.send_json(
                {"error": refused.messages[0], "code": "rate_limited", "retry_after": refused.retry_after, **echo}
            )
        except ValidationError as refused:
            await self.send_json({"error": " ".join(refused.messages), **echo})
        except Conversation.DoesNotExist:
            await self.close(code=4403)
        else:
            live = answer.get("message")
            if live is not None:
                if self._take(live):
                    self.own.add(live["id"])
                    if len(self.own) > MAX_OWN:  # the layer lost some: forget the oldest
                        self.own = set(sorted(self.own)[MAX_OWN // 2 :])
                else:
                    # A catch-up running meanwhile (a gap, the layer back) has sent it already.
                    del answer["message"]
            await self.send_json({**answer, **echo})

    async def _action_resume(self, after):
        if not _is_id(after):
            await self.send_json({"error": 'Resume with the id of the last message you have: {"after": 123}.'})
            return
        await self._catch_up(after, asked=True)

    async def _action_read(self, up_to):
        if not _is_id(up_to):
            await self.send_json({"error": 'Say which message was read last: {"action": "read", "up_to": 123}.'})
            return
        await _mark_read(self.conversation.pk, self.scope["user"], up_to)

    async def _catch_up(self, after: int, *, asked: bool = False):
        """Send the messages after `after` from the database, in order. Asked by the page (resume): all of
        them. Otherwise (a gap, the layer back): only those the page has not had."""
        payloads, through, partner_read = await _missed(self.conversation, after, self.partner_id, self.scope["user"])
        for payload in payloads:
            if asked or not (payload["id"] <= (self.contiguous or 0) or payload["id"] in self.ahead):
                await self.send_json({"message": payload, "catch_up": True})
        self.contiguous = max(self.contiguous or 0, through)
        self._advance()
        if partner_read:
            await self.send_json({"read": {"by": self.partner_id, "up_to": partner_read}})

    def _advance(self) -> None:
        """Messages sent ahead of a missing one join the run once everything before them is here."""
        self.ahead = {mid: previous for mid, previous in self.ahead.items() if mid > self.contiguous}
        while joined := [mid for mid, previous in self.ahead.items() if previous <= self.contiguous]:
            self.contiguous = max(self.contiguous, *joined)
            self.ahead = {mid: previous for mid, previous in self.ahead.items() if mid > self.contiguous}

    async def message_new(self, event):
        message = event["message"]
        self._note_lag(message)
        if message["id"] in self.own:  # sent from this socket: the page had it with the answer
            self.own.discard(message["id"])
            return
        if self._take(message):
            # At once, even after a gap: the page puts messages in order by id.
            await self.send_json({"message": message})

    def _take(self, message: dict) -> bool:
        """Whether the page still needs this live message; if so, it is counted as the page's now."""
        if self.contiguous is None:  # the page has not said what it has: pass everything on
            return True
        if message["id"] <= self.contiguous or message["id"] in self.ahead:
            return False  # the page has it (a catch-up sent it)
        previous = message.get("previous")
        if previous is None or previous <= self.contiguous:
            self.contiguous = message["id"]
            self._advance()
        else:
            # The one before it is missing: two messages sent at once can cross on the way (each process
            # publishes its own), so wait a moment for it before fetching it from the database.
            self.ahead[message["id"]] = previous
            if self._gap_wait is None:
                self._gap_wait = asyncio.ensure_future(self._fill_gap())
        return True

    def _note_lag(self, message: dict) -> None:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            stored = datetime.datetime.fromisoformat(message["created_at"])
            lag = max(0.0, (datetime.datetime.now(datetime.UTC) - stored).total_seconds())
            self.lag += (lag - self.lag) / 4

    async def _fill_gap(self):
        """Wait for the missing message, then fetch what is still missing. Under load live messages come
        late, and two that cross come late by as much: the wait grows with the lag, so an overloaded server
        is not also sent to the database for messages that are only slow (each catch-up adds load)."""
        loop = asyncio.get_running_loop()
        noticed = loop.time()
        try:
            while (left := noticed + min(max(GAP_WAIT, LAG_FACTOR * self.lag), MAX_GAP_WAIT) - loop.time()) > 0:
                await asyncio.sleep(left)
            if self.ahead:
                await self._catch_up(self.contiguous)
        finally:
            self._gap_wait = None

    async def message_read(self, event):
        await self.send_json({"read": {"by": event["reader_id"], "up_to": event["up_to"]}})

    async def layer_back(self, event):
        if self.contiguous is not None:
            await self._catch_up(self.contiguous)

    async def disconnect(self, code):
        if self._gap_wait is not None:
            self._gap_wait.cancel()
        await super().disconnect(code)
