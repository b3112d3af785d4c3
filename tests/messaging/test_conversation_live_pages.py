# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""What the pages show of the live conversation on load, and the rules the socket and the form share
(issue 8: read receipts, unread badges, the flood limit, the scheme's check inside the transaction)."""

import asyncio

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mentoring import services
from mentoring.messages import message_send
from mentoring.models import Pairing, SchemeMembership
from messaging import delivery
from messaging.context_processors import notifications
from messaging.models import Message, Notification
from messaging.selectors import unread_badges, unread_total
from messaging.services import (
    MessageRateLimited,
    conversation_mark_read,
    message_post,
    notification_mark_read,
    notify,
    unread_count,
)
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401


def page(conversation):
    return reverse("conversation_detail", args=[conversation.pk])


def send(pairing, sender, body):
    return message_send(conversation_id=pairing.conversation.pk, sender=sender, body=body)


def test_the_read_receipt_is_on_the_senders_last_message_the_partner_has_read(client, started):
    # R-MSG-3: read state, shown on load (the socket moves it live)
    first = send(started, started.mentor, "First")
    second = send(started, started.mentor, "Second")
    client.force_login(started.mentor)
    assert "data-read-receipt" not in client.get(page(started.conversation)).content.decode()
    conversation_mark_read(conversation_id=started.conversation.pk, user=started.mentee, up_to_id=first.pk)
    body = client.get(page(started.conversation)).content.decode()
    assert body.count("data-read-receipt") == 1
    receipt_at = body.index("data-read-receipt")
    assert body.index(f'data-message-id="{first.pk}"') < receipt_at < body.index(f'data-message-id="{second.pk}"')
    assert 'Read<span class="visually-hidden"> by Amara</span>' in body
    # The partner's own page never shows a receipt for messages it received.
    client.force_login(started.mentee)
    assert "data-read-receipt" not in client.get(page(started.conversation)).content.decode()


def test_the_navigation_counts_unread_messages_in_one_query(rf, started):
    # R-MSG-3: the "Messages" link's badge; cheap on every page
    for text in ("One", "Two"):
        send(started, started.mentor, text)
    request = RequestFactory().get("/")
    request.user = started.mentee
    with CaptureQueriesContext(connection) as queries:
        context = notifications(request)
    assert context["unread_messages"] == 2
    assert len(queries) == 1  # the bell's count and the messages' count, together


def test_the_navigation_badges_agree_with_the_counts_they_stand_for(started, scheme, network):
    """R-MSG-3: `unread_badges` (one statement, every page) equals `unread_count` and `unread_total` through
    sends both ways, a held message, read marks, a read notification and another pair's conversation."""
    mentor, mentee = started.mentor, started.mentee

    def agree() -> tuple[int, int]:
        for user in (mentor, mentee):
            assert unread_badges(user.pk) == (unread_count(user), unread_total(user))
        return unread_badges(mentee.pk)

    assert agree()[1] == 0
    first = send(started, mentor, "One")
    send(started, mentor, "Two")
    assert agree()[1] == 2
    held = send(started, mentor, "Mail me at david@example.com")
    assert held.status == Message.Status.HELD  # not arrived: not unread
    assert agree()[1] == 2
    conversation_mark_read(conversation_id=started.conversation.pk, user=mentee, up_to_id=first.pk)
    assert agree()[1] == 1
    send(started, mentee, "Back to you")
    assert agree()[1] == unread_total(mentee)
    notifications = agree()[0]
    notice = notify(mentee, "dbs_updated", url="/onboarding/")
    notify(mentee, "dbs_updated", url="/onboarding/")
    assert agree()[0] == notifications + 2
    notification_mark_read(user=mentee, notification_id=notice.pk)
    assert agree()[0] == notifications + 1
    # Another pair's conversation is not counted for the mentee.
    messages = agree()[1]
    zoe = factories.eligible_mentee(scheme, network, first_name="Zoe")
    SchemeMembership.objects.filter(user=zoe).update(status=SchemeMembership.Status.ACTIVE)
    other = services.pairing_start(mentor=mentor, mentee=zoe, scheme=scheme, origin=Pairing.Origin.MANUAL)
    message_send(conversation_id=other.conversation.pk, sender=mentor, body="Hi Zoe")
    assert agree()[1] == messages
    assert unread_badges(zoe.pk)[1] == 1


def test_my_mentoring_sums_up_each_conversation(client, started):
    # R-MSG-3: "My mentoring" shows each conversation's unread count and last message (kept live by the bell's socket)
    send(started, started.mentor, "See you on Monday")
    client.force_login(started.mentee)
    body = client.get(reverse("mentoring_home")).content.decode()
    conversation_id = started.conversation.pk
    assert "Messages with David" in body
    assert f'data-conversation-unread="{conversation_id}" data-testid="unread-{conversation_id}">' in body
    assert '<span data-count>1</span><span class="visually-hidden"> unread</span>' in body
    assert "David: See you on Monday" in body


def test_a_flood_through_the_form_is_refused_with_429_and_nothing_stored(client, started, settings):
    # Bad input: the flood limit covers the form too, with a clear message and Retry-After
    settings.MESSAGE_RATE_LIMIT, settings.MESSAGE_RATE_WINDOW = 2, 60
    client.force_login(started.mentee)
    for text in ("One", "Two"):
        assert client.post(page(started.conversation), {"body": text}).status_code == 302
    response = client.post(page(started.conversation), {"body": "Three"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    body = response.content.decode()
    assert "Your message was not sent" in body and 'role="alert"' in body
    assert ">Three</textarea>" in body  # the draft is kept
    assert Message.objects.count() == 2


def test_the_flood_limit_counts_every_conversation_of_the_member(started, settings, scheme, network):
    settings.MESSAGE_RATE_LIMIT, settings.MESSAGE_RATE_WINDOW = 2, 60
    send(started, started.mentor, "One")
    send(started, started.mentor, "Two")
    with pytest.raises(MessageRateLimited) as refused:
        send(started, started.mentor, "Three")
    assert refused.value.retry_after <= 60
    # The partner is not held back by the mentor's flood.
    send(started, started.mentee, "Hello")
    assert Message.objects.count() == 3


def test_the_senders_check_runs_inside_the_transaction_and_refuses_before_anything_is_written(started):
    # message_send's scheme rule: under message_post's lock, in the same transaction as the write
    seen = []

    def check(conversation):
        seen.append((conversation.pk, connection.in_atomic_block))
        raise ValidationError("Not today.")

    with pytest.raises(ValidationError, match=r"Not today\."):
        message_post(conversation_id=started.conversation.pk, sender=started.mentor, body="Hello", check=check)
    assert seen == [(started.conversation.pk, True)]
    assert not Message.objects.exists()
    assert not Notification.objects.filter(kind="message_received").exists()


def test_the_partner_is_told_once_while_the_conversation_is_unread(started):
    # R-MSG-3: one "new message" notification per unread stretch, read with the conversation
    for text in ("One", "Two", "Three"):
        send(started, started.mentor, text)
    told = Notification.objects.filter(user=started.mentee, kind="message_received")
    assert told.count() == 1
    assert conversation_mark_read(conversation_id=started.conversation.pk, user=started.mentee)
    assert not told.filter(read_at=None).exists()
    # Nothing new to read: the mark stays, and nothing is pushed.
    assert not conversation_mark_read(conversation_id=started.conversation.pk, user=started.mentee)
    send(started, started.mentor, "Four")
    assert told.count() == 2 and told.filter(read_at=None).count() == 1


def test_each_live_message_names_the_one_before_it(started, monkeypatch, django_capture_on_commit_callbacks):
    # R-MSG-2: the link a socket checks to find a message the layer lost; sent after commit, in order
    pushed = []
    monkeypatch.setattr(delivery, "layer_send", lambda events, **kwargs: pushed.append((events, kwargs)))
    with django_capture_on_commit_callbacks(execute=True):
        first = send(started, started.mentor, "One")
    with django_capture_on_commit_callbacks(execute=True):
        second = send(started, started.mentee, "Two")
    live = [(events[0][1]["message"], kwargs) for events, kwargs in pushed if events[0][1]["type"] == "message.new"]
    assert [(m["id"], m["previous"]) for m, _ in live] == [(first.pk, None), (second.pk, first.pk)]


def test_sends_after_commit_leave_in_commit_order_and_share_a_round_trip(monkeypatch):
    # R-MSG-2: the socket's process sends what its writes committed in that order; what waits goes together
    calls = []

    class Layer:
        async def group_send_many(self, events):
            calls.append([event["n"] for _, event in events])
            await asyncio.sleep(0.01)  # Redis answering: more sends wait meanwhile

    monkeypatch.setattr(delivery, "get_channel_layer", lambda: Layer())

    async def scenario():
        delivery.serve_from(asyncio.get_running_loop())
        for n in range(3):
            delivery.layer_send([(f"conversation.{n % 2}", {"n": n})], what=f"message {n}")
        await asyncio.sleep(0.005)  # the first batch is on its way
        delivery.layer_send([("conversation.0", {"n": 3})], what="message 3")
        delivery.layer_send([("conversation.1", {"n": 4})], what="message 4")
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert calls == [[0, 1, 2], [3, 4]]
