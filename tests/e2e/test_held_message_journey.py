# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""In a scheme that keeps all contact on the platform, a mentee is warned about special-category data and sends
anyway, then sends an email address: it is held, the coordinator releases it in the admin, and the mentor sees it.

R-MSG-4, R-MSG-7; axe on every page visited (the warning, the held notice, the queue, the mentor's page).
"""

import pytest
from playwright.sync_api import expect

from messaging.models import HeldMessage, Message
from tests.e2e.conftest import assert_accessible, sign_in
from tests.messaging.conversation_fixtures import started  # noqa: F401

pytestmark = pytest.mark.e2e

CONTACT = "Easier by email: amara.obi@example.org"


def history(page):
    """The conversation's list of messages (the screen reader's live region repeats the newest)."""
    return page.locator("#conversation-messages")


def test_a_held_message_is_released_by_the_coordinator(asgi_live_server, new_page, started, coordinator):
    base = asgi_live_server.url
    conversation = f"/messages/{started.conversation.pk}/"

    mentor_page = new_page()
    sign_in(mentor_page, base, started.mentor, then=conversation)

    page = new_page()
    sign_in(page, base, started.mentee, then=conversation)
    assert_accessible(page)
    composer = page.get_by_label("Message to David")

    # R-MSG-4: a warning quoting clause 5.2; the writer sends it anyway.
    composer.fill("I'm Catholic, so Friday evenings are hard for me")
    page.get_by_role("button", name="Send", exact=True).click()
    warning = page.get_by_test_id("special-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Clause 5.2 of the scheme's terms says")
    expect(warning).to_contain_text("religious or philosophical beliefs")
    assert_accessible(page)
    # An answer to other text replaces the warning: it no longer speaks of what is in the composer.
    error = page.locator("#message-error")
    composer.fill("x" * 2001)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(error).to_contain_text("at most 2,000 characters")
    expect(warning).to_be_hidden()
    composer.fill("I'm Catholic, so Friday evenings are hard for me")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(warning).to_be_visible()
    expect(error).to_be_hidden()
    page.get_by_role("button", name="Send anyway").click()
    expect(history(page).get_by_text("so Friday evenings are hard for me")).to_be_visible()
    expect(warning).to_be_hidden()
    expect(history(mentor_page).get_by_text("so Friday evenings are hard for me")).to_be_visible()

    # R-MSG-7: an email address is held, and the mentee is told why.
    composer.fill(CONTACT)
    page.get_by_role("button", name="Send", exact=True).click()
    notice = page.get_by_test_id("message-notice")
    expect(notice).to_contain_text("Your message is held: it seems to contain an email address.")
    expect(composer).to_have_value("")
    assert_accessible(page)
    page.reload()
    expect(page.get_by_test_id("message-notice")).to_contain_text("Your message is held")
    assert_accessible(page)
    expect(history(mentor_page).get_by_text(CONTACT)).to_have_count(0)
    held = HeldMessage.objects.get()

    # The coordinator releases it from the queue.
    admin = new_page()
    sign_in(admin, base, coordinator, then="/admin/")
    admin.goto(f"{base}/admin/messaging/heldmessage/")
    expect(admin.get_by_text(CONTACT)).to_be_visible()
    assert_accessible(admin)
    admin.locator(f'input[name="_selected_action"][value="{held.pk}"]').check()
    admin.get_by_label("Action:").select_option(label="Release the selected messages to the partner")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_text("Released 1 message.")).to_be_visible()
    assert_accessible(admin)

    # The mentor's open page gets it live; on a fresh load it is there too.
    expect(history(mentor_page).get_by_text(CONTACT)).to_be_visible()
    mentor_page.reload()
    expect(history(mentor_page).get_by_text(CONTACT)).to_be_visible()
    assert_accessible(mentor_page)
    # The mentee's page swapped the held copy for the delivered one.
    expect(history(page).get_by_text(CONTACT)).to_have_count(1)
    expect(page.get_by_test_id("message-notice")).to_have_count(0)
    assert Message.objects.filter(body=CONTACT, status=Message.Status.DELIVERED).count() == 1
    assert not page.errors and not mentor_page.errors and not admin.errors, (page.errors, mentor_page.errors)
