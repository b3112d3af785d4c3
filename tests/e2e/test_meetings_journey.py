"""A mentor in London proposes a meeting; the mentee in New York sees it at their own hour and accepts it.

R-PAIR-2; axe on every page visited (the form with its errors, the pairing page on both sides, the calendar page).
"""

import pytest
from playwright.sync_api import expect

from mentoring.models import Meeting, Pairing
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_propose_in_london_accept_in_new_york(asgi_live_server, new_page, mentor, mentee, scheme, network):
    base = asgi_live_server.url
    mentee.time_zone = "America/New_York"
    mentee.save()
    pairing = Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)

    page = new_page()
    sign_in(page, base, mentor, then=f"/pairings/{pairing.pk}/")
    page.get_by_role("link", name="Propose a meeting").click()
    assert_accessible(page)
    page.get_by_label("Date and time").fill("2020-07-01T14:00")
    page.get_by_role("button", name="Propose this time").click()
    expect(page.get_by_text("That time has already passed")).to_be_visible()
    assert_accessible(page)
    # 1 July 2027, 14:00 in London (BST) is 09:00 in New York (EDT).
    page.get_by_label("Date and time").fill("2027-07-01T14:00")
    page.get_by_label("Length (minutes)").fill("45")
    page.get_by_label("Video call link (optional)").fill("https://meet.example.org/abc")
    page.get_by_role("button", name="Propose this time").click()
    expect(page.get_by_text("You proposed Thursday 1 July 2027, 14:00 BST")).to_be_visible()
    assert_accessible(page)

    other = new_page()
    sign_in(other, base, mentee, then=f"/pairings/{pairing.pk}/")
    expect(other.get_by_text("proposes Thursday 1 July 2027, 09:00 EDT")).to_be_visible()
    assert_accessible(other)
    other.get_by_role("button", name="Accept").click()
    expect(other.get_by_text("Next meeting: Thursday 1 July 2027, 09:00 EDT")).to_be_visible()
    assert_accessible(other)
    assert Meeting.objects.get().status == Meeting.Status.ACCEPTED

    other.get_by_role("link", name="Your calendar feed").click()
    other.get_by_role("button", name="Make my calendar address").click()
    expect(other.get_by_label("Your private calendar address")).to_have_value(
        f"{base}/calendar/{mentee.calendar_feed.token}.ics"
    )
    assert_accessible(other)
    assert not page.errors and not other.errors, (page.errors, other.errors)
