# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The conversation's websocket on the in-memory channel layer (issue 8, items 2 and 3, and bad input)."""

import asyncio
import datetime
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from django.utils import timezone

from mentoring.messages import message_send
from messaging import consumers
from messaging.channel_layer import layer_health
from messaging.consumers import GAP_WAIT
from messaging.models import ConversationRead, Message, Notification
from messaging.routing import websocket_urlpatterns
from messaging.services import message_payload, sockets_close_for
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
FLAKY = {"default": {"BACKEND": "tests.messaging.test_conversation_socket.FlakyLayer"}}

pytestmark = pytest.mark.usefixtures("in_memory_layer")


@pytest.fixture
def in_memory_layer():
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        yield


def socket(user, conversation_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/messages/{conversation_id}/")
    communicator.scope["user"] = user
    return communicator


def bell(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/notifications/")
    communicator.scope["user"] = user
    return communicator


async def resumed(user, conversation_id: int) -> WebsocketCommunicator:
    """The member's conversation socket, open and resumed from the start of an empty conversation."""
    communicator = socket(user, conversation_id)
    await communicator.connect()
    await communicator.send_json_to({"action": "resume", "after": 0})
    assert await communicator.receive_nothing(timeout=0.2)
    return communicator


async def frames_until(communicator, done, timeout=3) -> list[dict]:
    """Frames received until `done(frames)` holds."""
    frames = []
    while not done(frames):
        frames.append(await communicator.receive_json_from(timeout=timeout))
    return frames


send = database_sync_to_async(message_send)


def test_an_anonymous_socket_is_closed(transactional_db, started):
    async def scenario():
        return await socket(AnonymousUser(), started.conversation.pk).connect()

    assert async_to_sync(scenario)() == (False, 4401)


def test_a_strangers_socket_is_closed(transactional_db, started, scheme, network):
    # R-MSG-1: another pairing's id over the socket
    stranger = factories.eligible_mentee(scheme, network)

    async def scenario():
        return await socket(stranger, started.conversation.pk).connect()

    assert async_to_sync(scenario)() == (False, 4403)


def test_a_member_cannot_open_another_pairings_conversation(transactional_db, started, scheme, network):
    # R-MSG-1: the URL names another pairing's conversation; the member is in a pairing of their own
    other = factories.eligible_mentee(scheme, network)
    from mentoring import services  # noqa: PLC0415  (kept local: only this test starts a second pairing)
    from mentoring.models import Pairing  # noqa: PLC0415

    second = services.pairing_start(
        mentor=started.mentor, mentee=other, scheme=scheme, origin=Pairing.Origin.MANUAL
    ).conversation

    async def scenario():
        return await socket(started.mentee, second.pk).connect()

    assert async_to_sync(scenario)() == (False, 4403)


def test_a_message_sent_on_the_socket_reaches_the_partner_and_the_senders_other_tab(transactional_db, started):
    # R-MSG-2: stored first, the sender gets its id, the broadcast follows the commit
    conversation_id = started.conversation.pk

    async def scenario():
        mentee, mentor, mentor_tab = (
            socket(started.mentee, conversation_id),
            socket(started.mentor, conversation_id),
            socket(started.mentor, conversation_id),
        )
        for communicator in (mentee, mentor, mentor_tab):
            assert (await communicator.connect())[0]
        await mentor.send_json_to({"action": "send", "body": "  Hello Amara  "})
        answer = await mentor.receive_json_from(timeout=3)
        received = await mentee.receive_json_from(timeout=3)
        other_tab = await mentor_tab.receive_json_from(timeout=3)
        # The sending page had the message with its answer: it is not sent it again.
        nothing_more = await mentor.receive_nothing(timeout=0.3)
        for communicator in (mentee, mentor, mentor_tab):
            await communicator.disconnect()
        return answer, received, other_tab, nothing_more

    answer, received, other_tab, nothing_more = async_to_sync(scenario)()
    message = Message.objects.get()
    assert answer == {"ok": message.pk, "message": received["message"]}
    assert nothing_more
    assert received == other_tab
    assert received["message"]["id"] == message.pk
    assert received["message"]["body"] == "Hello Amara"
    assert received["message"]["sender"] == "David"
    assert received["message"]["created_at"] == message.created_at.isoformat()
    assert received["message"]["previous"] is None  # the first message of the conversation


def test_a_reference_sent_with_a_message_is_echoed(transactional_db, started):
    async def scenario():
        mentor = socket(started.mentor, started.conversation.pk)
        await mentor.connect()
        await mentor.send_json_to({"action": "send", "body": "Hi", "ref": "s1"})
        await mentor.send_json_to({"action": "send", "body": "", "ref": "s2"})
        frames = await frames_until(mentor, lambda f: sum("ref" in x for x in f) == 2)
        await mentor.disconnect()
        return frames

    frames = [f for f in async_to_sync(scenario)() if "ref" in f]
    assert frames[0]["ok"] == Message.objects.get().pk and frames[0]["ref"] == "s1"
    assert frames[0]["message"]["body"] == "Hi"
    assert frames[1] == {"error": "Write a message before you send it.", "ref": "s2"}


def test_a_reconnecting_page_gets_what_it_missed_in_order(transactional_db, started):
    # R-MSG-2: the client sends the last id it has and receives what it missed, in order
    conversation_id = started.conversation.pk
    first = message_send(conversation_id=conversation_id, sender=started.mentor, body="Seen")
    missed = [
        message_send(conversation_id=conversation_id, sender=started.mentor, body=f"Missed {n}").pk for n in range(3)
    ]

    async def scenario():
        communicator = socket(started.mentee, conversation_id)
        await communicator.connect()
        await communicator.send_json_to({"action": "resume", "after": first.pk})
        frames = [await communicator.receive_json_from(timeout=3) for _ in missed]
        # Then how far the partner has read (the mentor has read their own messages).
        read = await communicator.receive_json_from(timeout=3)
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return frames, read, nothing_more

    frames, read, nothing_more = async_to_sync(scenario)()
    assert [f["message"]["id"] for f in frames] == missed
    assert all(f["catch_up"] for f in frames)
    assert read == {"read": {"by": started.mentor.pk, "up_to": missed[-1]}}
    assert nothing_more


def test_a_message_the_layer_lost_is_fetched_when_the_next_one_shows_the_gap(transactional_db, started):
    # R-MSG-2: each live message names the one before it; a socket that lacks that one sends the new one at
    # once, waits a moment for the missing one, then fetches it from the database
    conversation_id = started.conversation.pk

    async def scenario():
        mentee = await resumed(started.mentee, conversation_id)
        # Stored without a broadcast, as when the layer lost it.
        lost = await database_sync_to_async(Message.objects.create)(
            conversation_id=conversation_id, sender=started.mentor, body="Lost on the way"
        )
        after = await send(conversation_id=conversation_id, sender=started.mentor, body="Arrives")
        frames = await frames_until(mentee, lambda f: any("read" in x for x in f))  # the catch-up ends so
        nothing_more = await mentee.receive_nothing(timeout=GAP_WAIT + 0.3)
        await mentee.disconnect()
        return lost.pk, after.pk, frames, nothing_more

    lost, after, frames, nothing_more = async_to_sync(scenario)()
    got = [(f["message"]["id"], f.get("catch_up", False)) for f in frames if "message" in f]
    assert got == [(after, False), (lost, True)]  # once each; the page puts them in order
    assert nothing_more


def test_two_messages_that_cross_on_the_way_pass_at_once_without_a_catch_up(transactional_db, started):
    # Each process publishes its own messages, so the second can arrive first: both go to the page at once
    # and, once the first has come, nothing is fetched again.
    conversation_id = started.conversation.pk

    async def scenario():
        mentee = await resumed(started.mentee, conversation_id)
        create = database_sync_to_async(Message.objects.create)
        first = await create(conversation_id=conversation_id, sender=started.mentor, body="First")
        second = await create(conversation_id=conversation_id, sender=started.mentee, body="Second")
        layer, group = get_channel_layer(), f"conversation.{conversation_id}"
        for message, previous in ((second, first.pk), (first, None)):
            payload = await database_sync_to_async(message_payload)(message, previous=previous)
            await layer.group_send(group, {"type": "message.new", "message": payload})
        frames = [await mentee.receive_json_from(timeout=3) for _ in range(2)]
        nothing_more = await mentee.receive_nothing(timeout=GAP_WAIT + 0.3)
        await mentee.disconnect()
        return first.pk, second.pk, frames, nothing_more

    first, second, frames, nothing_more = async_to_sync(scenario)()
    assert [(f["message"]["id"], "catch_up" in f) for f in frames] == [(second, False), (first, False)]
    assert nothing_more


def _gap_after_late_messages(started, *, late_by: float, quiet_for: float):
    """Four live messages stored `late_by` seconds before they arrive, then one whose previous never comes
    live: what the mentee's socket sends, whether it stays quiet for `quiet_for` seconds after, then the
    catch-up it sends in the end (and nothing more)."""
    conversation_id = started.conversation.pk

    async def scenario():
        mentee = await resumed(started.mentee, conversation_id)
        create = database_sync_to_async(Message.objects.create)
        layer, group = get_channel_layer(), f"conversation.{conversation_id}"
        previous = None
        for n in range(4):
            message = await create(conversation_id=conversation_id, sender=started.mentor, body=f"Slow {n}")
            payload = await database_sync_to_async(message_payload)(message, previous=previous)
            payload["created_at"] = (timezone.now() - datetime.timedelta(seconds=late_by)).isoformat()
            await layer.group_send(group, {"type": "message.new", "message": payload})
            previous = message.pk
        lost = await create(conversation_id=conversation_id, sender=started.mentor, body="Still on its way")
        after = await create(conversation_id=conversation_id, sender=started.mentee, body="Ahead of it")
        payload = await database_sync_to_async(message_payload)(after, previous=lost.pk)
        await layer.group_send(group, {"type": "message.new", "message": payload})
        live = [await mentee.receive_json_from(timeout=3) for _ in range(5)]
        quiet = await mentee.receive_nothing(timeout=quiet_for)
        fetched = await frames_until(mentee, lambda f: any(x.get("catch_up") for x in f), timeout=5)
        nothing_more = await mentee.receive_nothing(timeout=0.5)
        await mentee.disconnect()
        return lost.pk, live, quiet, fetched + ([] if nothing_more else ["more"])

    lost, live, quiet, fetched = async_to_sync(scenario)()
    assert [f["message"]["body"] for f in live] == ["Slow 0", "Slow 1", "Slow 2", "Slow 3", "Ahead of it"]
    assert [(f["message"]["id"], f["catch_up"]) for f in fetched if "message" in f] == [(lost, True)]
    return quiet


def test_under_load_a_gap_waits_as_long_as_live_messages_are_late_before_it_fetches(
    transactional_db, started, monkeypatch
):
    # R-MSG-2 under load: live messages arriving a second after they were stored mean the missing one is
    # probably only slow; the socket waits longer before fetching (each catch-up is more work for a busy
    # server), and still fetches it in the end.
    monkeypatch.setattr(consumers, "GAP_WAIT", 0.2)
    assert _gap_after_late_messages(started, late_by=1, quiet_for=1.0)  # GAP_WAIT alone: fetched by now


def test_a_gap_waits_no_longer_than_the_most_however_late_messages_seem(transactional_db, started, monkeypatch):
    # A storing server whose clock is ahead makes every message look a minute late: the wait stays bounded.
    monkeypatch.setattr(consumers, "GAP_WAIT", 0.2)
    monkeypatch.setattr(consumers, "MAX_GAP_WAIT", 0.5)
    assert _gap_after_late_messages(started, late_by=60, quiet_for=0.3)


def test_reading_tells_the_senders_pages_and_clears_the_bell(transactional_db, started):
    # R-MSG-3: read receipts, live; the conversation's "new message" notification is read with it
    conversation_id = started.conversation.pk

    async def scenario():
        mentor, mentee = socket(started.mentor, conversation_id), socket(started.mentee, conversation_id)
        mentee_bell = bell(started.mentee)
        for communicator in (mentor, mentee, mentee_bell):
            await communicator.connect()
        sent = await send(conversation_id=conversation_id, sender=started.mentor, body="Are you free on Monday?")
        await frames_until(mentee, lambda f: any("message" in x for x in f))
        await frames_until(mentee_bell, lambda f: any("inbox" in x for x in f))
        await mentee.send_json_to({"action": "read", "up_to": sent.pk})
        to_mentor = await frames_until(mentor, lambda f: any("read" in x for x in f))
        to_bell = await frames_until(mentee_bell, lambda f: any("unread" in x for x in f))
        for communicator in (mentor, mentee, mentee_bell):
            await communicator.disconnect()
        return sent.pk, to_mentor, to_bell

    sent, to_mentor, to_bell = async_to_sync(scenario)()
    assert {"read": {"by": started.mentee.pk, "up_to": sent}} in to_mentor
    assert {"inbox": {"conversation": conversation_id, "unread": 0, "total": 0, "last": None}} in to_bell
    assert ConversationRead.objects.get(user=started.mentee).last_read_id == sent
    assert not Notification.objects.filter(user=started.mentee, kind="message_received", read_at=None).exists()
    # The bell now counts what is left (the pairing's own notice).
    left = Notification.objects.filter(user=started.mentee, read_at=None).count()
    assert [f["unread"] for f in to_bell if "unread" in f] == [left]


def test_the_badges_update_live_when_a_message_arrives(transactional_db, started):
    # R-MSG-3: the bell, the "Messages" link and the conversation's unread count on every open page
    conversation_id = started.conversation.pk

    async def scenario():
        mentee_bell = bell(started.mentee)
        await mentee_bell.connect()
        frames = []
        for text in ("One", "Two"):  # the socket reads the counts when the event comes: one at a time here
            await send(conversation_id=conversation_id, sender=started.mentor, body=text)
            frames += await frames_until(mentee_bell, lambda f: any("inbox" in x for x in f))
        nothing_more = await mentee_bell.receive_nothing(timeout=0.2)
        await mentee_bell.disconnect()
        return frames, nothing_more

    frames, nothing_more = async_to_sync(scenario)()
    inbox = [f["inbox"] for f in frames if "inbox" in f]
    assert [(i["unread"], i["total"], i["last"]["body"]) for i in inbox] == [(1, 1, "One"), (2, 2, "Two")]
    # One notification while the first is unread: the bell goes up once (beside the pairing's own notice).
    assert [f["unread"] for f in frames if "unread" in f and "inbox" not in f] == [2]
    assert Notification.objects.filter(user=started.mentee, kind="message_received").count() == 1
    assert nothing_more


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("not json at all {", "Send JSON frames"),
        ("[" * 10_000 + "]" * 10_000, "Send JSON frames"),  # nested past Python's recursion limit
        ('["a list"]', "Unknown action"),
        ('{"action": "dance"}', "Unknown action"),
        ('{"action": ["send"]}', "Unknown action"),
        ('{"action": "send", "body": ""}', "Write a message before you send it."),
        ('{"action": "send", "body": 12}', "Write a message before you send it."),
        ('{"action": "send", "body": "' + "x" * 2001 + '"}', "at most 2,000 characters"),
        ('{"action": "send", "body": "' + "x" * 40_000 + '"}', "That frame is too large"),
        ('{"action": "send", "body": "Hello\\u0000there"}', "cannot be sent"),
        ('{"action": "resume", "after": "seven"}', "Resume with the id"),
        ('{"action": "resume", "after": -1}', "Resume with the id"),
        ('{"action": "resume", "after": true}', "Resume with the id"),
        ('{"action": "read", "up_to": "all"}', "Say which message was read last"),
        ('{"action": "read", "up_to": 1e400}', "Say which message was read last"),
    ],
)
def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(transactional_db, started, frame, says, caplog):
    # Bad input: an error frame, no traceback logged, nothing stored
    caplog.set_level(logging.DEBUG)

    async def scenario():
        communicator = socket(started.mentee, started.conversation.pk)
        await communicator.connect()
        await communicator.send_to(text_data=frame)
        answer = await communicator.receive_json_from(timeout=3)
        # Still open: a good frame after a bad one is answered.
        await communicator.send_json_to({"action": "resume", "after": 0})
        still_open = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return answer, still_open

    answer, still_open = async_to_sync(scenario)()
    assert says in answer["error"]
    assert still_open
    assert not Message.objects.exists()
    assert "Traceback" not in caplog.text


def test_a_binary_frame_gets_an_error_frame(transactional_db, started, caplog):
    # Bad input: binary frames are not read
    async def scenario():
        communicator = socket(started.mentee, started.conversation.pk)
        await communicator.connect()
        await communicator.send_to(bytes_data=b'{"action": "send", "body": "Hello"}')
        answer = await communicator.receive_json_from(timeout=3)
        await communicator.disconnect()
        return answer

    assert "Binary frames are not read" in async_to_sync(scenario)()["error"]
    assert not Message.objects.exists()
    assert "Traceback" not in caplog.text


def test_a_flood_is_refused_with_a_clear_error_and_not_stored(transactional_db, started, settings, caplog):
    # Bad input: a flood of messages; the limit is per member, across sockets and the form
    settings.MESSAGE_RATE_LIMIT, settings.MESSAGE_RATE_WINDOW = 3, 60

    async def answer(tab, body):
        await tab.send_json_to({"action": "send", "body": body})
        frames = await frames_until(tab, lambda f: any("ok" in x or "error" in x for x in f))
        return next(x for x in frames if "ok" in x or "error" in x)

    async def scenario():
        first_tab = socket(started.mentee, started.conversation.pk)
        second_tab = socket(started.mentee, started.conversation.pk)
        await first_tab.connect()
        await second_tab.connect()
        answers = [
            await answer(first_tab, "Message 0"),
            await answer(first_tab, "Message 1"),
            await answer(second_tab, "Message 2"),
            await answer(second_tab, "One too many"),
        ]
        await first_tab.disconnect()
        await second_tab.disconnect()
        return answers

    *stored, refused = async_to_sync(scenario)()
    assert all("ok" in a for a in stored)
    assert refused["code"] == "rate_limited"
    assert 0 < refused["retry_after"] <= 60
    assert "Your message was not sent" in refused["error"]
    assert Message.objects.count() == 3
    assert not Message.objects.filter(body="One too many").exists()
    assert "Traceback" not in caplog.text


def test_a_suspended_member_is_refused_on_the_socket(transactional_db, started, scheme):
    # Issue 8, item 4: the socket applies the same rule as the page
    started.mentee.memberships.filter(scheme=scheme).update(status="suspended")

    async def scenario():
        communicator = socket(started.mentee, started.conversation.pk)
        await communicator.connect()
        await communicator.send_json_to({"action": "send", "body": "Hello"})
        answer = await communicator.receive_json_from(timeout=3)
        await communicator.disconnect()
        return answer

    assert "so you cannot send messages" in async_to_sync(scenario)()["error"]
    assert not Message.objects.exists()


def test_signing_out_closes_the_conversation_socket(transactional_db, started):
    # DESIGN (Security): a logout closes that user's sockets
    async def scenario():
        communicator = socket(started.mentee, started.conversation.pk)
        await communicator.connect()
        await database_sync_to_async(sockets_close_for)(started.mentee.pk)
        return await communicator.receive_output(timeout=3)

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


class FlakyLayer(InMemoryChannelLayer):
    """An in-memory layer that can be switched off, as Redis stopping: every call fails at once, and
    receives that were waiting fail too."""

    down = False
    _failing: asyncio.Event | None = None

    def switch(self, *, down: bool) -> None:
        self.down = down
        if down and self._failing is not None:
            self._failing.set()
        if not down:
            self._failing = None
            # Redis restarted empty: nobody is in any group any more.
            self.groups.clear()

    def _check(self):
        if self.down:
            raise ConnectionError("Connection refused (the test switched the layer off)")

    async def receive(self, channel):
        self._check()
        if self._failing is None:
            self._failing = asyncio.Event()
        receiving = asyncio.ensure_future(super().receive(channel))
        failing = asyncio.ensure_future(self._failing.wait())
        await asyncio.wait((receiving, failing), return_when=asyncio.FIRST_COMPLETED)
        for task in (receiving, failing):
            task.cancel()
        if receiving.done() and not receiving.cancelled():
            return receiving.result()
        self._check()
        raise ConnectionError("Connection lost")

    async def group_add(self, group, channel):
        self._check()
        return await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._check()
        return await super().group_send(group, message)


def test_sockets_outlive_an_outage_of_the_layer_and_catch_up(transactional_db, started, caplog):
    # R-MSG-2 (item 3 b, in one process): with the layer down each message is stored and the sender gets
    # its id; when it is back, the partner's open socket gets every one, in order, without reconnecting.
    conversation_id = started.conversation.pk

    async def scenario():
        layer = get_channel_layer()
        mentor, mentee = socket(started.mentor, conversation_id), socket(started.mentee, conversation_id)
        for communicator in (mentor, mentee):
            await communicator.connect()
            await communicator.send_json_to({"action": "resume", "after": 0})
        layer.switch(down=True)
        answers = []
        for n in range(3):
            await mentor.send_json_to({"action": "send", "body": f"While it is down {n}"})
            answers.append(await mentor.receive_json_from(timeout=3))
        layer.switch(down=False)
        frames = await frames_until(mentee, lambda f: len([x for x in f if "message" in x]) == 3, timeout=5)
        # Joined again: a live message still arrives.
        await mentor.send_json_to({"action": "send", "body": "After"})
        live = await frames_until(mentee, lambda f: any("message" in x for x in f))
        for communicator in (mentor, mentee):
            await communicator.disconnect()
        return answers, frames, live

    with override_settings(CHANNEL_LAYERS=FLAKY):
        answers, frames, live = async_to_sync(scenario)()
    stored = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    # Each answer carries its message: the sender's page shows it though the layer is down.
    assert [(a["ok"], a["message"]["id"]) for a in answers] == [(pk, pk) for pk in stored[:3]]
    assert [f["message"]["id"] for f in frames if "message" in f] == stored[:3]
    assert [f["message"]["id"] for f in live if "message" in f] == stored[3:]
    assert "The channel layer failed" in caplog.text
    assert "Traceback" not in caplog.text


def test_a_socket_opened_after_an_outage_is_not_caught_up_for_it(transactional_db, started, caplog):
    # An outage the process had before a socket opened is not that socket's: no catch-up, no stray frames,
    # and a refused socket closes cleanly.
    async def scenario():
        health = layer_health()
        health.down(ConnectionError("an earlier outage"))
        health.up()
        refused = await bell(AnonymousUser()).connect()
        member = bell(started.mentee)
        await member.connect()
        quiet = await member.receive_nothing(timeout=0.3)
        await member.disconnect()
        return refused, quiet

    refused, quiet = async_to_sync(scenario)()
    assert refused == (False, 4401)
    assert quiet
    assert "Traceback" not in caplog.text
