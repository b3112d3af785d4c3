# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The pair's conversation: created with the pairing, the two members only, stored then delivered (issue 8)."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from mentoring.ending import pairing_end
from mentoring.messages import message_send
from mentoring.models import Pairing, Role, SchemeMembership
from messaging import selectors
from messaging.models import Conversation, Message, Notification
from messaging.services import (
    conversation_mark_read,
    conversation_open,
    message_post,
    messages_after,
)
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401


def page(conversation):
    return reverse("conversation_detail", args=[conversation.pk])


def test_a_pairing_starts_with_its_conversation_between_the_two_members(started):
    # R-MSG-1: one conversation per pairing, created with it
    conversation = Conversation.objects.get(pairing=started)
    assert {conversation.first_member, conversation.second_member} == {started.mentor, started.mentee}
    assert not conversation.read_only
    # Opening it again is a no-op.
    assert conversation_open(pairing=started, members=[started.mentor, started.mentee]) == conversation
    assert Conversation.objects.count() == 1


def test_the_pairing_page_links_to_the_conversation(client, started):
    client.force_login(started.mentee)
    response = client.get(reverse("pairing_detail", args=[started.pk]))
    assert page(started.conversation) in response.content.decode()


def test_only_the_two_members_read_and_write(client, started, scheme, network):
    # R-MSG-1: another person's conversation id gives 404, on GET and on POST, and stores nothing
    conversation = started.conversation
    stranger = factories.eligible_mentee(scheme, network)
    client.force_login(stranger)
    assert client.get(page(conversation)).status_code == 404
    assert client.post(page(conversation), {"body": "Hello"}).status_code == 404
    assert not Message.objects.exists()
    with pytest.raises(Conversation.DoesNotExist):
        message_post(conversation_id=conversation.pk, sender=stranger, body="Hello")
    for member in (started.mentor, started.mentee):
        client.force_login(member)
        assert client.get(page(conversation)).status_code == 200


def test_a_message_is_stored_and_the_partner_told_without_its_text(client, started, django_capture_on_commit_callbacks):
    # R-MSG-2: stored first; the notification never quotes the message
    client.force_login(started.mentee)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(started.conversation), {"body": "  My secret plan for the interview  "})
    assert response.status_code == 302 and response["Location"] == page(started.conversation)
    message = Message.objects.get()
    assert (message.sender, message.body) == (started.mentee, "My secret plan for the interview")
    told = Notification.objects.get(user=started.mentor, kind="message_received")
    assert told.title == "New message from Amara"
    assert "secret" not in told.title + told.body
    assert told.url == page(started.conversation)
    assert not Notification.objects.filter(user=started.mentee, kind="message_received").exists()
    client.force_login(started.mentor)
    assert "My secret plan for the interview" in client.get(page(started.conversation)).content.decode()


@pytest.mark.parametrize(
    ("body", "says"),
    [("   \n ", "Write a message before you send it."), ("x" * 2001, "at most 2,000 characters")],
)
def test_an_empty_or_too_long_message_is_refused_with_a_clear_message(client, started, body, says):
    # Issue 8, item 4: a length limit with a clear error; the draft is kept
    client.force_login(started.mentee)
    response = client.post(page(started.conversation), {"body": body})
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Message.objects.exists()


def test_a_message_of_exactly_the_limit_is_accepted(started):
    message = message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="x" * 2000)
    assert len(message.body) == 2000


def test_an_ended_pairings_conversation_is_read_only(client, started):
    # Issue 8, item 4
    message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="Good luck!")
    pairing_end(pairing_id=started.pk, actor=started.mentee, reason="goals_met")
    started.conversation.refresh_from_db()
    assert started.conversation.read_only
    with pytest.raises(ValidationError, match=r"This pairing has ended, so the conversation is read-only\."):
        message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="One more thing")
    client.force_login(started.mentee)
    response = client.get(page(started.conversation))
    assert "Good luck!" in response.content.decode()  # still readable
    assert 'name="body"' not in response.content.decode()
    assert client.post(page(started.conversation), {"body": "Hi"}).status_code == 400
    assert Message.objects.count() == 1


@pytest.mark.parametrize("status", [SchemeMembership.Status.SUSPENDED, SchemeMembership.Status.WITHDRAWN])
def test_a_suspended_or_withdrawn_member_cannot_send(client, started, scheme, status):
    # Issue 8, item 4
    SchemeMembership.objects.filter(user=started.mentee, scheme=scheme, role=Role.MENTEE).update(status=status)
    client.force_login(started.mentee)
    response = client.post(page(started.conversation), {"body": "Hello"})
    assert response.status_code == 400
    assert f"is {status}, so you cannot send messages" in response.content.decode()
    assert not Message.objects.exists()
    # The partner, in good standing, still can.
    message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="Hello")


def test_the_inbox_shows_each_conversations_last_message_and_unread_count(
    client, started, django_assert_max_num_queries
):
    conversation = started.conversation
    for text in ("One", "Two", "Three"):
        message_send(conversation_id=conversation.pk, sender=started.mentor, body=text)
    client.force_login(started.mentee)
    [row] = selectors.inbox_for(started.mentee)
    assert (row.unread, row.last_message.body) == (3, "Three")
    assert selectors.inbox_for(started.mentor)[0].unread == 0  # one's own messages are never unread
    response = client.get(reverse("conversation_list"))
    body = response.content.decode()
    assert f'data-testid="unread-{conversation.pk}"><span data-count>3</span>' in body
    # The "Messages" link in the navigation counts them too (R-MSG-3).
    assert '<span class="badge rounded-pill bg-light text-dark" data-messages-unread><span data-count>3</span>' in body
    # Reading part of it leaves the rest unread; the mark never moves back.
    first = Message.objects.order_by("pk").first()
    conversation_mark_read(conversation_id=conversation.pk, user=started.mentee, up_to_id=first.pk + 1)
    assert selectors.inbox_for(started.mentee)[0].unread == 1
    conversation_mark_read(conversation_id=conversation.pk, user=started.mentee, up_to_id=first.pk)
    assert selectors.inbox_for(started.mentee)[0].unread == 1
    # Opening the conversation reads it.
    client.get(page(conversation))
    assert selectors.inbox_for(started.mentee)[0].unread == 0
    with django_assert_max_num_queries(8):
        client.get(reverse("conversation_list"))


def test_catch_up_returns_the_missed_messages_in_order(started):
    # R-MSG-2: a page that reconnects with its last id receives what it missed, in order
    sent = [
        message_send(conversation_id=started.conversation.pk, sender=started.mentor, body=f"Message {n}").pk
        for n in range(5)
    ]
    missed = messages_after(conversation=started.conversation, after_id=sent[1])
    assert [m.pk for m in missed] == sent[2:]


def test_older_messages_load_on_request(client, started):
    for n in range(53):
        Message.objects.create(conversation=started.conversation, sender=started.mentor, body=f"Note {n}")
    client.force_login(started.mentee)
    response = client.get(page(started.conversation))
    body = response.content.decode()
    assert "Note 52" in body and "Note 3<" in body and "Note 2<" not in body
    older = response.context["page"].older_than
    assert older and f"?before={older}" in body
    previous = client.get(page(started.conversation), {"before": older}).content.decode()
    assert "Note 0" in previous and "Note 2<" in previous and "Note 3<" not in previous


def test_a_script_in_a_message_is_escaped_and_links_are_safe(client, started, scheme):
    # Issue 8, item 4: plain text, escaped on render; links clickable with rel=nofollow. In a scheme that shares
    # contact details, so the link is delivered at once (R-MSG-7 holds it elsewhere).
    scheme.shares_contact_details = True
    scheme.save(update_fields=["shares_contact_details"])
    payload = '<script>alert("x")</script> see https://example.org/page <img src=x onerror=alert(1)>'
    message_send(conversation_id=started.conversation.pk, sender=started.mentor, body=payload)
    client.force_login(started.mentee)
    body = client.get(page(started.conversation)).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert '<a href="https://example.org/page" rel="nofollow">https://example.org/page</a>' in body


def test_conversations_are_not_in_the_admin():
    # R-MSG-5: conversations are confidential; no admin page shows them
    registered = {model.__name__ for model in admin.site._registry}
    assert not registered & {"Conversation", "Message", "ConversationRead"}


def test_pairings_from_before_conversations_get_one_and_an_ended_ones_is_read_only(started, scheme, network):
    # R-MSG-1 for pairings that predate the conversation (the data migration)
    Conversation.objects.all().delete()
    mentee = factories.eligible_mentee(scheme, network)
    ended = Pairing.objects.create(
        scheme=scheme, mentor=started.mentor, mentee=mentee, network=network, status=Pairing.Status.ENDED
    )
    backfill = import_module("messaging.migrations.0004_conversations_for_existing_pairings")
    backfill.conversations_open_for_pairings(apps, None)
    backfill.conversations_open_for_pairings(apps, None)  # run twice: still one each
    rows = {c.pairing_id: c for c in Conversation.objects.all()}
    assert set(rows) == {started.pk, ended.pk}
    assert (rows[started.pk].first_member, rows[started.pk].second_member) == (started.mentor, started.mentee)
    assert not rows[started.pk].read_only and rows[ended.pk].read_only


def test_a_message_with_control_characters_is_refused_with_a_clear_message(started):
    # A NUL is refused by PostgreSQL itself: the writer gets a message, not a 500, and nothing is stored.
    for text in ("Hello\x00there", "Bell\x07", "Escape\x1b[31m"):
        with pytest.raises(ValidationError, match="cannot be sent"):
            message_send(conversation_id=started.conversation.pk, sender=started.mentor, body=text)
    message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="Two\nlines\tand a tab")
    assert Message.objects.count() == 1
