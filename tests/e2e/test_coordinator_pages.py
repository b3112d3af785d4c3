"""The coordinator's matching pages in the admin pass the axe check; cohort matching from preview to confirm.

R-MATCH-3, R-MATCH-4, R-COORD-2.
"""

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
    page.get_by_label("Local Network").select_option(label=network.name)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("2 pairs")).to_be_visible()
    expect(page.get_by_role("cell", name="same sector").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm and start these 2 pairings").click()
    expect(page.get_by_text("Started 2 pairings.")).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors


def test_pairing_by_hand_explains_a_refusal_then_starts_the_pairing(
    asgi_live_server, new_page, documents, scheme, network, coordinator
):
    # R-MATCH-3, R-MATCH-5: the manual pairing page, with its error announced
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network, capacity=1)
    mentee = factories.eligible_mentee(scheme, network)
    page = new_page()
    sign_in(page, base, coordinator, then="/admin/")
    page.goto(f"{base}/admin/mentoring/pairing/add/")
    page.get_by_label("Scheme").select_option(label=str(scheme))
    page.get_by_label("Mentee").select_option(label=str(mentee))
    page.get_by_label("Mentor").select_option(label=str(mentor))
    page.get_by_role("button", name="Start the pairing").click()
    expect(page.get_by_role("alert")).to_contain_text("Check the conflict-of-interest declarations")
    assert_accessible(page)
    page.get_by_label("Both have declared any conflict of interest, and none is unmanageable").check()
    page.get_by_role("button", name="Start the pairing").click()
    expect(page.get_by_text("Started:")).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors
