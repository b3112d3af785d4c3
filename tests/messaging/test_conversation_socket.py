# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The conversation's websocket on the in-memory channel layer (issue 8, items 2 and 3, and bad input)."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings

from mentoring.messages import message_send
from messaging.models import Message
from messaging.routing import websocket_urlpatterns
from messaging.services import sockets_close_for
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

pytestmark = pytest.mark.usefixtures("in_memory_layer")


@pytest.fixture
def in_memory_layer():
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        yield


def socket(user, conversation_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/messages/{conversation_id}/")
    communicator.scope["user"] = user
    return communicator


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
        answers = [await mentor.receive_json_from(timeout=3), await mentor.receive_json_from(timeout=3)]
        received = await mentee.receive_json_from(timeout=3)
        other_tab = await mentor_tab.receive_json_from(timeout=3)
        for communicator in (mentee, mentor, mentor_tab):
            await communicator.disconnect()
        return answers, received, other_tab

    answers, received, other_tab = async_to_sync(scenario)()
    message = Message.objects.get()
    assert {"ok": message.pk} in answers
    assert received == other_tab
    assert received["message"]["id"] == message.pk
    assert received["message"]["body"] == "Hello Amara"
    assert received["message"]["sender"] == "David"
    assert received["message"]["created_at"] == message.created_at.isoformat()


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
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return frames, nothing_more

    frames, nothing_more = async_to_sync(scenario)()
    assert [f["message"]["id"] for f in frames] == missed
    assert nothing_more


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("not json at all {", "Send JSON frames"),
        ('["a list"]', "Unknown action"),
        ('{"action": "dance"}', "Unknown action"),
        ('{"action": "send", "body": ""}', "Write a message before you send it."),
        ('{"action": "send", "body": 12}', "Write a message before you send it."),
        ('{"action": "send", "body": "' + "x" * 2001 + '"}', "at most 2,000 characters"),
        ('{"action": "resume", "after": "seven"}', "Resume with the id"),
    ],
)
def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(transactional_db, started, frame, says, caplog):
    # Bad input: an error frame, no traceback logged, nothing stored
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
