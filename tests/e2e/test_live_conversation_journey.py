# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""A mentor and a mentee talk live in two browsers (issue 8, items 2, 3 and 10).

The mentee's "My mentoring" page counts the new message and the bell rings without a reload; the
mentor sees "Read" when the mentee opens the conversation; replies arrive live and are announced through
the live region; a third browser whose websockets are blocked still sends through the plain form, and the
mentor's open page gets that message live. axe on every page visited.
"""

import re

import pytest
from playwright.sync_api import expect

from messaging.models import Message
from tests.e2e.conftest import assert_accessible, sign_in
from tests.messaging.conversation_fixtures import started  # noqa: F401

pytestmark = pytest.mark.e2e

# Every websocket this page opens fails at once, as behind a proxy that refuses them.
BLOCK_WEBSOCKETS = """
window.WebSocket = class BlockedWebSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 3;
    setTimeout(() => { if (this.onclose) { this.onclose({ code: 1006 }); } }, 0);
  }
  send() { throw new Error("WebSocket blocked"); }
  close() {}
};
window.WebSocket.OPEN = 1;
"""


def test_a_mentor_and_a_mentee_talk_live(asgi_live_server, new_page, started):
    base = asgi_live_server.url
    conversation = started.conversation
    path = f"/messages/{conversation.pk}/"

    mentor = new_page()
    sign_in(mentor, base, started.mentor, then=path)
    expect(mentor.get_by_text("No messages yet. Say hello to Amara.")).to_be_visible()
    assert_accessible(mentor)

    mentee = new_page()
    sign_in(mentee, base, started.mentee, then="/mentoring/")
    summary = mentee.get_by_test_id("conversation-summary")
    expect(summary.get_by_role("link", name="Messages with David")).to_be_visible()
    bell_before = int(mentee.locator("#notification-count").inner_text())
    nav_unread = mentee.get_by_role("navigation", name="Main").locator("[data-messages-unread] [data-count]")
    expect(nav_unread).to_have_text("0")
    assert_accessible(mentee)

    # The mentor writes; the mentee's page counts it without a reload.
    mentor.get_by_label("Message to Amara").fill("Hello Amara, shall we meet on Monday?")
    mentor.get_by_role("button", name="Send").click()
    expect(mentor.locator("#conversation-messages")).to_contain_text("Hello Amara, shall we meet on Monday?")
    expect(mentor.get_by_label("Message to Amara")).to_have_value("")
    expect(summary.locator(f'[data-conversation-unread="{conversation.pk}"]')).to_have_text("1 unread")
    expect(nav_unread).to_have_text("1")
    expect(mentee.locator("#notification-count")).to_have_text(str(bell_before + 1))
    expect(summary.locator(f'[data-conversation-last="{conversation.pk}"]')).to_have_text(
        "David: Hello Amara, shall we meet on Monday?"
    )
    assert_accessible(mentee)

    # The mentee opens the conversation: it is read, and the mentor's page says so.
    summary.get_by_role("link", name="Messages with David").click()
    expect(mentee.locator("#conversation-messages")).to_contain_text("Hello Amara, shall we meet on Monday?")
    expect(mentor.locator("[data-read-receipt]")).to_have_text("Read by Amara")
    expect(nav_unread).to_have_text("0")
    assert_accessible(mentor)

    # A reply arrives live, is announced politely, and is read by the mentor's visible page.
    mentee.get_by_label("Message to David").fill("Yes please, Monday at 10 suits me.")
    mentee.get_by_role("button", name="Send").click()
    expect(mentor.locator("#conversation-messages")).to_contain_text("Yes please, Monday at 10 suits me.")
    live = mentor.locator("#conversation-live")
    expect(live).to_have_text("New message from Amara: Yes please, Monday at 10 suits me.")
    assert live.get_attribute("aria-live") == "polite"
    expect(mentee.locator("[data-read-receipt]")).to_have_text("Read by David")
    assert_accessible(mentee)

    # Too long: the socket's answer is shown as the form's error, and the draft is kept.
    mentee.get_by_label("Message to David").fill("x" * 2001)
    mentee.get_by_role("button", name="Send").click()
    expect(mentee.locator("#message-error")).to_contain_text("at most 2,000 characters")
    expect(mentee.get_by_label("Message to David")).to_have_value("x" * 2001)
    assert_accessible(mentee)

    # Websockets blocked: the same conversation works as a plain form and a reload.
    blocked = new_page()
    blocked.context.add_init_script(BLOCK_WEBSOCKETS)
    sign_in(blocked, base, started.mentee, then=path)
    blocked.get_by_label("Message to David").fill("Sent without a websocket.")
    blocked.get_by_role("button", name="Send").click()
    blocked.wait_for_url(re.compile(rf".*{path}$"))
    expect(blocked.locator("#conversation-messages")).to_contain_text("Sent without a websocket.")
    assert_accessible(blocked)
    # ...and the mentor's open page still gets it live.
    expect(mentor.locator("#conversation-messages")).to_contain_text("Sent without a websocket.")

    assert list(Message.objects.order_by("pk").values_list("body", flat=True)) == [
        "Hello Amara, shall we meet on Monday?",
        "Yes please, Monday at 10 suits me.",
        "Sent without a websocket.",
    ]
    errors = mentor.errors + mentee.errors + blocked.errors
    assert not errors, errors
