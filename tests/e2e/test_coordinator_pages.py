"""The coordinator's matching pages in the admin pass the axe check; cohort matching from preview to proposal;
pairing by hand from the ranked list, started once both members confirm.

R-MATCH-3, R-MATCH-4, R-MATCH-5, R-COORD-2.
"""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_cohort_matching_and_queues(asgi_live_server, new_page, documents, scheme, network, coordinator):
    base = asgi_live_server.url
    energy = factories.SectorFactory(name="Energy")
    factories.listed_mentor(scheme, network, sector=energy, capacity=2)
    factories.listed_mentor(scheme, network, status="submitted")
    for _ in range(3):
        mentee = factories.eligible_mentee(scheme, network)
        mentee.mentee_profile.sector = energy
        mentee.mentee_profile.save()

    page = new_page()
    sign_in(page, base, coordinator, then="/admin/")
    for path in (
        "matching/mentorprofile/?status__exact=submitted",
        "mentoring/waitingmentee/",
        "matching/mentorshiprequest/",
        "matching/profilereport/",
        "mentoring/pairing/add/",
    ):
        page.goto(f"{base}/admin/{path}")
        assert_accessible(page)

    page.goto(f"{base}/admin/mentoring/scheme/{scheme.pk}/cohort/")
    assert_accessible(page)
    # The coordinator's own network is chosen already (R-MATCH-3).
    expect(page.get_by_label("Local Network")).to_have_value(str(network.pk))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("2 pairings proposed")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Fit (0–100)")).to_be_visible()
    expect(page.get_by_role("cell", name="same sector").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Drop").first.check()
    page.get_by_role("button", name="Propose the pairings you kept to the members").click()
    expect(page.get_by_text("Proposed 1 pairing.")).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors


def test_pairing_by_hand_from_the_ranked_list_starts_when_both_members_confirm(
    asgi_live_server, new_page, documents, scheme, network, coordinator
):
    # R-MATCH-3, R-MATCH-5: the coordinator proposes from the ranked list; each member declares and confirms
    base = asgi_live_server.url
    energy = factories.SectorFactory(name="Energy")
    mentor = factories.listed_mentor(scheme, network, capacity=1, sector=energy, role_title="Grid engineer")
    factories.listed_mentor(scheme, network, role_title="Software lead")
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    mentee.mentee_profile.sector = energy
    mentee.mentee_profile.save()
    page = new_page()
    sign_in(page, base, coordinator, then="/admin/")
    page.goto(f"{base}/admin/mentoring/waitingmentee/")
    page.get_by_role("link", name=f"Find a mentor for {mentee}").click()
    expect(page.get_by_role("columnheader", name="Fit (0–100)")).to_be_visible()
    best = page.get_by_role("table", name=re.compile("Mentors with a free place")).get_by_role("row").nth(1)
    expect(best).to_contain_text("Grid engineer")
    expect(best).to_contain_text("same sector")
    assert_accessible(page)
    page.get_by_role("button", name="Propose this pairing to both members").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a mentor from the list.")
    assert_accessible(page)
    page.get_by_label(f"{mentor.first_name}, Grid engineer").check()
    page.get_by_role("button", name="Propose this pairing to both members").click()
    expect(page.get_by_text("Proposed:")).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors

    for person, outcome in ((mentee, "The pairing starts when the other member confirms too."), (mentor, "started")):
        member = new_page()
        sign_in(member, base, person)
        member.get_by_role("link", name="My mentoring").click()
        member.locator("#proposed ~ ul, section[aria-labelledby=proposed]").get_by_role("link").first.click()
        assert_accessible(member)
        member.get_by_label("No conflict").check()
        member.get_by_role("button", name="Confirm this pairing").click()
        expect(member.get_by_text(outcome).first).to_be_visible()
        assert_accessible(member)
        assert not member.errors, member.errors
