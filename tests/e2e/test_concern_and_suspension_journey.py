# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""Issue 9, item 8: a mentee reports a concern about her mentor from the footer (R-SAFE-1); the Safeguarding Lead
finds it at the top of the queue and suspends the mentor (R-SAFE-2); the mentor's profile leaves search and his
messages are refused, on the page he had open (the socket) and after a reload; a coordinator who tries the case
address gets 404. Each page passes the axe check."""

import re

import pytest
from playwright.sync_api import expect

from messaging.models import Message
from safeguarding import concerns
from safeguarding.models import Concern, Suspension
from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in
from tests.messaging.conversation_fixtures import started  # noqa: F401

pytestmark = pytest.mark.e2e

WHAT = "He keeps asking me to meet him alone and not to tell anyone."


def test_a_concern_about_a_mentor_leads_to_his_suspension(
    asgi_live_server, new_page, started, safeguarding_lead, coordinator, scheme, network
):
    base = asgi_live_server.url
    conversation = f"/messages/{started.conversation.pk}/"
    # An older concern that is not urgent: the new, urgent one must still come first.
    someone = factories.eligible_mentee(scheme, network)
    older = concerns.concern_raise(reporter=someone, what_happened="Not urgent.", immediate_risk=False)

    # The mentor has the conversation open, with its live socket.
    mentor = new_page()
    sign_in(mentor, base, started.mentor, then=conversation)

    # R-SAFE-1: the mentee finds her mentor in search, then reports a concern from the footer of any page.
    mentee = new_page()
    sign_in(mentee, base, started.mentee, then="/mentors/")
    expect(mentee.get_by_role("main").get_by_role("link", name="David", exact=True)).to_have_count(1)
    assert_accessible(mentee)
    mentee.get_by_role("contentinfo").get_by_role("link", name="Report a concern").click()
    mentee.wait_for_url("**/safeguarding/concerns/new/")
    assert_accessible(mentee)
    mentee.get_by_role("button", name="Send to the Safeguarding Lead").click()  # nothing in it
    expect(mentee.get_by_text("Tell us what happened.")).to_be_visible()
    expect(mentee.get_by_text("Say whether anyone is at immediate risk of harm.")).to_be_visible()
    assert_accessible(mentee)
    assert Concern.objects.count() == 1
    mentee.get_by_label("Who is it about? (optional)").select_option(label=started.mentor.get_full_name())
    mentee.get_by_label("What happened?").fill(WHAT)
    advice = mentee.get_by_text("Someone is at immediate risk: call 999 now")
    expect(advice).to_be_hidden()
    mentee.get_by_role("group", name=re.compile("immediate risk")).get_by_label("Yes").check()
    expect(advice).to_be_visible()
    assert_accessible(mentee)
    mentee.get_by_role("button", name="Send to the Safeguarding Lead").click()
    mentee.wait_for_url("**/safeguarding/concerns/sent/")
    expect(
        mentee.get_by_role("status").filter(has_text="Your concern has reached the Safeguarding Lead")
    ).to_be_visible()
    assert_accessible(mentee)
    concern = Concern.objects.exclude(pk=older.pk).get()
    assert (concern.person, concern.immediate_risk, concern.pairing) == (started.mentor, True, started)

    # R-SAFE-2: the Lead's queue has it at the top; the case page; suspend at once.
    lead = new_page()
    sign_in(lead, base, safeguarding_lead)
    lead.get_by_role("navigation", name="Main").get_by_role("link", name="Concerns").click()
    lead.wait_for_url("**/safeguarding/concerns/")
    rows = lead.get_by_role("table").get_by_role("row")
    expect(rows.nth(1)).to_contain_text(f"Concern {concern.pk}")
    expect(rows.nth(1)).to_contain_text("Urgent")
    expect(rows.nth(2)).to_contain_text(f"Concern {older.pk}")
    assert_accessible(lead)
    lead.get_by_role("link", name=f"Concern {concern.pk}", exact=True).click()
    lead.wait_for_url(f"**/safeguarding/concerns/{concern.pk}/")
    expect(lead.get_by_text(WHAT)).to_be_visible()
    assert_accessible(lead)
    lead.get_by_role("button", name="Suspend this member").click()  # not confirmed
    expect(lead.get_by_text("Tick the box to confirm the suspension.")).to_be_visible()
    assert_accessible(lead)
    lead.get_by_label(re.compile("I am suspending this member at once")).check()
    lead.get_by_role("button", name="Suspend this member").click()
    lead.wait_for_url(f"**/safeguarding/concerns/{concern.pk}/")
    expect(lead.get_by_role("status").filter(has_text="is suspended")).to_be_visible()
    expect(lead.get_by_role("button", name="Lift the suspension")).to_be_visible()
    assert_accessible(lead)
    assert Suspension.objects.filter(member=started.mentor, lifted_at__isnull=True).count() == 1

    # The profile leaves search.
    mentee.goto(base + "/mentors/")
    expect(mentee.get_by_role("main").get_by_role("link", name="David", exact=True)).to_have_count(0)
    assert_accessible(mentee)
    # The mentee's own conversation says the mentoring is paused, not why.
    mentee.goto(base + conversation)
    expect(mentee.get_by_test_id("conversation-paused")).to_be_visible()
    assert_accessible(mentee)

    # His messages are refused: on the page he had open (over the socket), and after a reload there is no composer.
    mentor.get_by_label("Message to Amara").fill("Don't tell anyone about our chats.")
    mentor.get_by_role("button", name="Send", exact=True).click()
    expect(mentor.locator("#message-error")).to_contain_text("so you cannot send messages")
    mentor.reload()
    expect(mentor.get_by_test_id("conversation-paused")).to_be_visible()
    expect(mentor.get_by_label("Message to Amara")).to_have_count(0)
    assert_accessible(mentor)
    assert not Message.objects.exists()

    # A coordinator who tries the case address gets 404.
    other = new_page()
    sign_in(other, base, coordinator, then="/mentoring/")
    response = other.goto(f"{base}/safeguarding/concerns/{concern.pk}/")
    assert response.status == 404
    expect(other.get_by_text(WHAT)).to_have_count(0)
    assert_accessible(other)
    assert other.get_by_role("navigation", name="Main").get_by_role("link", name="Concerns").count() == 0
    for page in (mentee, lead, mentor, other):
        assert not page.errors, page.errors


def test_the_leads_triage_notes_and_outcome_and_a_profile_concern_are_accessible(
    asgi_live_server, new_page, mentee, safeguarding_lead, scheme, network
):
    # R-SAFE-1 from a profile; R-SAFE-2: triage, an action, a note, closing needs the outcome; axe with errors too
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network, role_title="Power engineer")
    page = new_page()
    page.goto(base + "/safeguarding/contact/")  # signed out: how to reach the Lead
    assert_accessible(page)
    sign_in(page, base, mentee, then="/mentors/")
    page.get_by_role("main").get_by_role("link", name=mentor.first_name, exact=True).click()
    page.get_by_role("link", name="Raise a safeguarding concern").click()
    page.wait_for_url("**/concern/")
    assert_accessible(page)
    page.get_by_label("What happened?").fill("He asked for my home address.")
    page.get_by_role("group", name=re.compile("immediate risk")).get_by_label("No").check()
    page.get_by_role("button", name="Send to the Safeguarding Lead").click()
    page.wait_for_url("**/safeguarding/concerns/sent/")
    concern = Concern.objects.get()
    assert (concern.person, concern.source) == (mentor, Concern.Source.PROFILE)

    lead = new_page()
    sign_in(lead, base, safeguarding_lead, then=f"/safeguarding/concerns/{concern.pk}/")
    triage = lead.get_by_role("region", name="Triage")
    triage.get_by_label("Triaged").check()
    triage.get_by_role("button", name="Move the concern").click()
    expect(lead.get_by_role("status").filter(has_text="Triaged")).to_be_visible()
    lead.get_by_role("button", name="Record the action").click()  # empty
    expect(lead.get_by_text("Write the action you took.")).to_be_visible()
    assert_accessible(lead)
    lead.get_by_label("The action you took").fill("Phoned the mentee; she is safe.")
    lead.get_by_role("button", name="Record the action").click()
    lead.get_by_role("textbox", name=re.compile("^Note")).fill("Mentor's employer contacted.")
    lead.get_by_role("button", name="Add the note").click()
    expect(lead.get_by_text("Mentor's employer contacted.")).to_be_visible()
    triage = lead.get_by_role("region", name="Triage")
    triage.get_by_label("Closed").check()
    triage.get_by_role("button", name="Move the concern").click()  # no outcome
    expect(lead.get_by_text("Write the outcome before you close the concern.").first).to_be_visible()
    assert_accessible(lead)
    lead.get_by_role("textbox", name=re.compile("^Outcome")).fill("Advice given; nothing further.")
    lead.get_by_role("region", name="Triage").get_by_role("button", name="Move the concern").click()
    expect(lead.get_by_text("This concern is closed.")).to_be_visible()
    assert_accessible(lead)
    lead.goto(base + "/safeguarding/concerns/?status=closed")
    expect(lead.get_by_role("link", name=f"Concern {concern.pk}", exact=True)).to_be_visible()
    assert_accessible(lead)
    concern.refresh_from_db()
    assert concern.status == "closed" and concern.notes.count() == 2
    assert not page.errors, page.errors
    assert not lead.errors, lead.errors
