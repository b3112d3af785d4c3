"""Both members of a pairing agree their agreement; goals, session notes and the CPD log pages.

R-PAIR-1, R-PAIR-3, R-PAIR-8; axe on every page visited.
"""

import pytest
from playwright.sync_api import expect

from mentoring.models import Agreement, Pairing
from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_both_members_agree_the_agreement_and_keep_goals(asgi_live_server, new_page, documents, scheme, network):
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network)
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    pairing = Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
    agreement_url = f"/pairings/{pairing.pk}/agreement/"

    page = new_page()
    sign_in(page, base, mentee, then=agreement_url)
    assert_accessible(page)
    expect(page.get_by_text("No agreement yet")).to_be_visible()
    page.get_by_label("Goals of the mentoring").fill("Prepare for chartership.")
    page.get_by_label("What each of us does").fill("I lead; my mentor asks questions.")
    page.get_by_label("Boundaries").fill("No calls after 9 pm.")
    page.get_by_label("How often we meet").fill("Every two weeks")
    page.get_by_label("When we meet").fill("Tuesday evenings")
    page.get_by_role("button", name="Save this draft").click()
    expect(page.get_by_text("waiting for both of you")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm version 1").click()
    expect(page.get_by_text(f"waiting for {mentor.first_name} to confirm")).to_be_visible()

    other = new_page()
    sign_in(other, base, mentor, then=agreement_url)
    expect(other.get_by_text("Amara confirmed version 1, waiting for you")).to_be_visible()
    other.get_by_role("button", name="Confirm version 1").click()
    expect(other.get_by_text("Agreed (version 1)")).to_be_visible()
    assert_accessible(other)
    assert Agreement.objects.get(pairing=pairing).status == Agreement.Status.AGREED

    other.goto(f"{base}/pairings/{pairing.pk}/goals/")
    assert_accessible(other)
    other.get_by_role("button", name="Start from the mentee's goals").click()
    expect(other.get_by_role("heading", name="Prepare for chartership within a year.")).to_be_visible()
    other.get_by_label("Progress").fill("Drafted the competence statement.")
    other.get_by_role("button", name="Record progress").click()
    expect(other.get_by_text("Drafted the competence statement.")).to_be_visible()
    assert_accessible(other)

    other.goto(f"{base}/pairings/{pairing.pk}/notes/")
    other.get_by_role("textbox", name="Note").fill("Amara is nervous about the interview.")
    other.get_by_role("button", name="Save note").click()
    expect(other.get_by_text("Only you can read it.")).to_be_visible()
    assert_accessible(other)
    other.goto(f"{base}/cpd/")
    assert_accessible(other)
    expect(other.get_by_text("(training record)").first).to_be_visible()

    page.reload()
    expect(page.get_by_text("Agreed (version 1)")).to_be_visible()
    assert not page.errors, page.errors
    assert not other.errors, other.errors
