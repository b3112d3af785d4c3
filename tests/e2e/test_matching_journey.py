"""A mentee searches, reads a profile and asks; the mentor accepts; both see the pairing and were told.

R-MATCH-1, R-MATCH-2, R-MATCH-5, R-PROFILE-4, R-MSG-3; axe on every page visited.
"""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_search_request_accept_and_both_see_the_pairing(asgi_live_server, new_page, documents, scheme, network):
    base = asgi_live_server.url
    energy = factories.SectorFactory(name="Energy")
    area = factories.ExpertiseAreaFactory(name="Power systems")
    mentor = factories.listed_mentor(
        scheme, network, sector=energy, expertise=[area], role_title="Grid engineer", capacity=2
    )
    factories.listed_mentor(scheme, network, role_title="Software lead")
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    mentee.mentee_profile.sector = energy
    mentee.mentee_profile.save()

    page = new_page()
    sign_in(page, base, mentee)
    page.get_by_role("link", name="Find a mentor").click()
    assert_accessible(page)
    suggested = page.locator("section", has=page.get_by_role("heading", name="Suggested for you"))
    expect(suggested.get_by_text("same sector")).to_be_visible()
    page.get_by_label("Sector").select_option(label="Energy")
    page.get_by_role("button", name="Search").click()
    assert_accessible(page)
    expect(page.get_by_text("1 mentor found.")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name=mentor.first_name).last.click()
    assert_accessible(page)
    expect(page.get_by_text("has not verified any member's mentoring skills")).to_be_visible()
    page.get_by_role("link", name=re.compile("Ask .* to mentor you")).click()
    assert_accessible(page)
    page.get_by_label("Your message to the mentor").fill("I would value help preparing for chartership.")
    page.get_by_label("No conflict").check()
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Waiting for the mentor")).to_be_visible()
    assert_accessible(page)

    other = new_page()
    sign_in(other, base, mentor)
    expect(other.locator("#notification-count")).to_have_text("1")
    other.get_by_role("link", name="My mentoring").click()
    assert_accessible(other)
    other.get_by_role("link", name="Amara", exact=True).click()
    assert_accessible(other)
    expect(other.get_by_text("Prepare for chartership within a year.")).to_be_visible()
    other.get_by_label("No conflict").check()
    other.get_by_role("button", name="Accept and start the pairing").click()
    expect(other.get_by_role("heading", name="Pairing with Amara")).to_be_visible()
    assert_accessible(other)

    # The mentee's open page hears about it over the websocket, then sees the pairing.
    expect(page.locator("#notification-count")).not_to_have_text("0", timeout=10_000)
    page.get_by_role("link", name=re.compile("Notifications")).click()
    assert_accessible(page)
    expect(page.get_by_text(f"{mentor.first_name} accepted your request").first).to_be_visible()
    page.get_by_role("link", name="My mentoring").click()
    expect(page.get_by_text("Paired with")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=mentor.first_name).first.click()
    expect(page.get_by_role("heading", name=f"Pairing with {mentor.first_name}")).to_be_visible()
    assert mentor.email not in page.content()  # the scheme keeps contact on the platform (R-PROFILE-2)
    assert not page.errors, page.errors
    assert not other.errors, other.errors


def test_mentor_profile_and_goals_pages_are_accessible(asgi_live_server, new_page, documents, scheme, network):
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network)
    page = new_page()
    sign_in(page, base, mentor)
    for path in ("/mentoring/profile/", "/mentoring/goals/", "/mentoring/", "/mentors/"):
        page.goto(base + path)
        assert_accessible(page)
    page.goto(base + "/mentoring/profile/")
    page.get_by_label("Summary of work history").fill("I was diagnosed with dyslexia at university.")
    page.get_by_label("Most mentees at once").fill("500")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Choose between 1 and 10 mentees.")).to_be_visible()
    assert_accessible(page)
