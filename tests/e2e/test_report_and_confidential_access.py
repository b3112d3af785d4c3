# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""A mentee reports her mentor's message as a safeguarding concern (R-MSG-6); the Safeguarding Lead reads the
concern and, through the access page, the conversation (R-MSG-5); the mentee sees that read in her own data.
Each page passes the axe check."""

import re

import pytest
from playwright.sync_api import expect

from messaging.models import ConversationAccessLog
from messaging.services import message_post
from safeguarding.models import Concern
from tests.e2e.conftest import assert_accessible, sign_in
from tests.messaging.conversation_fixtures import started  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_reported_message_reaches_the_lead_who_reads_the_conversation_and_the_member_sees_it(
    asgi_live_server, new_page, started, safeguarding_lead
):
    base = asgi_live_server.url
    conversation = started.conversation
    message_post(conversation_id=conversation.pk, sender=started.mentor, body="Come to my flat tonight, alone.")

    mentee = new_page()
    sign_in(mentee, base, started.mentee)
    mentee.goto(f"{base}/messages/{conversation.pk}/")
    mentee.get_by_role("link", name=re.compile(r"^Report the message from David of ")).click()
    mentee.wait_for_url("**/report/**")
    assert_accessible(mentee)
    mentee.get_by_role("button", name="Send report").click()  # nothing filled in
    assert mentee.locator(".invalid-feedback").count() >= 2
    assert_accessible(mentee)
    mentee.get_by_label(re.compile("A safeguarding concern: someone")).check()
    mentee.get_by_label("What happened").fill("He keeps asking me to meet him alone at his flat.")
    mentee.get_by_role("group", name=re.compile("immediate risk")).get_by_label("Yes").check()
    mentee.get_by_role("button", name="Send report").click()
    mentee.wait_for_url(f"**/messages/{conversation.pk}/")
    assert mentee.get_by_role("status").filter(has_text="We have passed this to the Safeguarding Lead").count() == 1
    assert_accessible(mentee)
    concern = Concern.objects.get()
    assert concern.immediate_risk and concern.person == started.mentor

    lead = new_page()
    sign_in(lead, base, safeguarding_lead)
    lead.goto(base + "/notifications/")
    lead.get_by_role("button", name=re.compile("URGENT: A safeguarding concern was raised")).click()
    lead.wait_for_url(f"**/safeguarding/concerns/{concern.pk}/")
    assert lead.get_by_text("He keeps asking me to meet him alone").count() == 1
    assert_accessible(lead)
    lead.goto(base + "/safeguarding/concerns/")
    assert_accessible(lead)
    lead.get_by_role("link", name=f"Concern {concern.pk}").click()
    lead.get_by_role("link", name="Read the pair's conversation").click()
    lead.wait_for_url("**/access/**")
    assert_accessible(lead)
    lead.get_by_role("button", name="Open the conversation").click()  # no reason given
    assert lead.locator(".invalid-feedback").count() >= 1
    assert_accessible(lead)
    lead.get_by_label("Why do you need to read this conversation?").fill("Checking the messages the concern names.")
    lead.get_by_role("button", name="Open the conversation").click()
    lead.wait_for_url("**/messages/read/**")
    assert lead.get_by_text("Come to my flat tonight, alone.").count() == 1
    assert lead.get_by_role("status").filter(has_text="Checking the messages the concern names.").count() == 1
    assert lead.get_by_role("textbox").count() == 0  # read-only
    assert_accessible(lead)
    assert ConversationAccessLog.objects.count() == 1

    mentee.goto(base + "/accounts/details/")
    mentee.get_by_role("link", name="Who has read your conversations").click()
    expect(mentee.get_by_role("cell", name=re.compile("Checking the messages the concern names"))).to_have_count(1)
    assert_accessible(mentee)
    assert not mentee.errors, mentee.errors
    assert not lead.errors, lead.errors
