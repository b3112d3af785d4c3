# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The special-category warning (R-MSG-4) and held messages (R-MSG-7) on the conversation's websocket."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from mentoring.messages import held_message_reject, held_message_release
from messaging.models import HeldMessage, Message, SpecialCategoryWarningCount
from messaging.routing import websocket_urlpatterns
from messaging.special_category import CLAUSE_5_2
from tests.messaging.conversation_fixtures import started  # noqa: F401

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
SENSITIVE = "As a Muslim I'd rather not meet on Fridays"
CONTACT = "Text me on 07700 900123 if the platform is slow"

pytestmark = pytest.mark.usefixtures("in_memory_layer")


@pytest.fixture
def in_memory_layer():
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        yield


def socket(user, conversation_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/messages/{conversation_id}/")
    communicator.scope["user"] = user
    return communicator


async def opened(*communicators):
    for communicator in communicators:
        assert (await communicator.connect())[0]
    return communicators


async def closed(*communicators):
    for communicator in communicators:
        await communicator.disconnect()


def test_the_writer_is_warned_and_can_send_anyway(transactional_db, started):
    # R-MSG-4: a warning frame quoting clause 5.2; nothing stored until the writer confirms
    conversation_id = started.conversation.pk

    async def scenario():
        mentee, mentor = await opened(socket(started.mentee, conversation_id), socket(started.mentor, conversation_id))
        await mentee.send_json_to({"action": "send", "body": SENSITIVE})
        warning = await mentee.receive_json_from(timeout=3)
        partner_heard_nothing = await mentor.receive_nothing(timeout=0.2)
        stored_after_warning = await database_sync_to_async(Message.objects.count)()
        # A confirmation that is not exactly true is no confirmation.
        await mentee.send_json_to({"action": "send", "body": SENSITIVE, "confirm_special": "yes"})
        warned_again = await mentee.receive_json_from(timeout=3)
        await mentee.send_json_to({"action": "send", "body": SENSITIVE, "confirm_special": True})
        answer = await mentee.receive_json_from(timeout=3)
        received = await mentor.receive_json_from(timeout=3)
        # The answer carried the message: the sender's socket is not sent it again.
        nothing_more = await mentee.receive_nothing(timeout=0.3)
        await closed(mentee, mentor)
        return warning, partner_heard_nothing, stored_after_warning, warned_again, (answer, nothing_more), received

    warning, partner_heard_nothing, stored_after_warning, warned_again, answers, received = async_to_sync(scenario)()
    assert warning["needs_confirm"] is True
    assert CLAUSE_5_2 in warning["warning"] and "religious or philosophical beliefs (“Muslim”)" in warning["warning"]
    assert "error" not in warning
    assert partner_heard_nothing and stored_after_warning == 0
    assert warned_again["needs_confirm"] is True
    message = Message.objects.get()
    answer, nothing_more = answers
    assert answer == {"ok": message.pk, "message": received["message"]} and nothing_more
    assert received["message"]["body"] == SENSITIVE
    row = SpecialCategoryWarningCount.objects.get()
    assert (row.warned, row.sent_anyway) == (2, 1)


def test_a_held_message_is_the_senders_alone_on_the_socket(transactional_db, started, coordinator):
    # R-MSG-7: the sender is told why at once; the partner's pages get nothing, now or on catch-up
    conversation_id = started.conversation.pk

    async def scenario():
        mentee, mentee_tab, mentor = await opened(
            socket(started.mentee, conversation_id),
            socket(started.mentee, conversation_id),
            socket(started.mentor, conversation_id),
        )
        await mentee.send_json_to({"action": "send", "body": CONTACT})
        answer = await mentee.receive_json_from(timeout=3)
        quiet = [await c.receive_nothing(timeout=0.3) for c in (mentee, mentee_tab, mentor)]
        await mentor.send_json_to({"action": "resume", "after": 0})
        partner_caught_up_nothing = await mentor.receive_nothing(timeout=0.3)
        await mentee_tab.send_json_to({"action": "resume", "after": 0})
        sender_catch_up = await mentee_tab.receive_json_from(timeout=3)
        await closed(mentee, mentee_tab, mentor)
        return answer, quiet, partner_caught_up_nothing, sender_catch_up

    answer, quiet, partner_caught_up_nothing, sender_catch_up = async_to_sync(scenario)()
    message = Message.objects.get()
    assert message.status == Message.Status.HELD
    assert answer["ok"] == message.pk
    assert answer["held"]["id"] == message.pk and answer["held"]["status"] == "held"
    assert answer["held"]["notice"].startswith("Your message is held: it seems to contain a phone number.")
    assert all(quiet), "a held message was pushed to a page"
    assert partner_caught_up_nothing
    assert sender_catch_up["message"]["id"] == message.pk and sender_catch_up["message"]["status"] == "held"


def test_a_released_message_reaches_the_partners_open_page(transactional_db, started, coordinator):
    # R-MSG-7: released, it is delivered as usual, live; the sender's page swaps its held copy
    conversation_id = started.conversation.pk

    async def scenario():
        mentee, mentor = await opened(socket(started.mentee, conversation_id), socket(started.mentor, conversation_id))
        await mentee.send_json_to({"action": "send", "body": CONTACT})
        held = (await mentee.receive_json_from(timeout=3))["held"]
        held_id = await database_sync_to_async(lambda: HeldMessage.objects.get().pk)()
        await database_sync_to_async(held_message_release)(held_id=held_id, actor=coordinator)
        to_partner = await mentor.receive_json_from(timeout=3)
        to_sender = await mentee.receive_json_from(timeout=3)
        await closed(mentee, mentor)
        return held, to_partner, to_sender

    held, to_partner, to_sender = async_to_sync(scenario)()
    delivered = Message.objects.get(status=Message.Status.DELIVERED)
    assert to_partner == to_sender
    assert to_partner["message"]["id"] == delivered.pk and to_partner["message"]["body"] == CONTACT
    assert to_partner["message"]["released_from"] == held["id"]
    assert "status" not in to_partner["message"]


def test_a_rejected_message_never_reaches_the_partner(transactional_db, started, coordinator):
    # R-MSG-7
    conversation_id = started.conversation.pk

    async def scenario():
        mentee, mentor = await opened(socket(started.mentee, conversation_id), socket(started.mentor, conversation_id))
        await mentee.send_json_to({"action": "send", "body": CONTACT})
        await mentee.receive_json_from(timeout=3)
        held_id = await database_sync_to_async(lambda: HeldMessage.objects.get().pk)()
        await database_sync_to_async(held_message_reject)(held_id=held_id, actor=coordinator)
        partner_heard_nothing = await mentor.receive_nothing(timeout=0.3)
        await mentor.send_json_to({"action": "resume", "after": 0})
        partner_caught_up_nothing = await mentor.receive_nothing(timeout=0.3)
        await mentee.send_json_to({"action": "resume", "after": 0})
        sender_sees = await mentee.receive_json_from(timeout=3)
        await closed(mentee, mentor)
        return partner_heard_nothing, partner_caught_up_nothing, sender_sees

    partner_heard_nothing, partner_caught_up_nothing, sender_sees = async_to_sync(scenario)()
    assert partner_heard_nothing and partner_caught_up_nothing
    assert sender_sees["message"]["status"] == "rejected"
    assert "a coordinator did not release this message" in sender_sees["message"]["notice"]


def test_in_a_scheme_that_shares_contact_details_the_socket_delivers_as_usual(transactional_db, started, scheme):
    # R-MSG-7
    scheme.shares_contact_details = True
    scheme.save(update_fields=["shares_contact_details"])
    conversation_id = started.conversation.pk

    async def scenario():
        mentee, mentor = await opened(socket(started.mentee, conversation_id), socket(started.mentor, conversation_id))
        await mentee.send_json_to({"action": "send", "body": CONTACT})
        received = await mentor.receive_json_from(timeout=3)
        await closed(mentee, mentor)
        return received

    assert async_to_sync(scenario)()["message"]["body"] == CONTACT
    assert Message.objects.get().status == Message.Status.DELIVERED
