"""The coordinator's workbench on the admin home passes the axe check and its counts lead to their lists (R-COORD-2)."""

import pytest
from playwright.sync_api import expect

from matching import services as matching_services
from matching.models import MentorProfile
from messaging.models import Notification
from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_a_coordinator_opens_a_queue_from_the_workbench_and_reads_a_profiles_change(
    asgi_live_server, new_page, documents, scheme, network, coordinator
):
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network, role_title="Senior engineer")
    profile = MentorProfile.objects.get(user=mentor)
    matching_services.mentor_profile_review(profile_id=profile.pk, approve=True, note="", actor=coordinator)
    profile.refresh_from_db()
    profile.role_title = "Principal engineer"
    matching_services.mentor_profile_save(profile=profile, expertise=[], languages=[])
    factories.eligible_mentee(scheme, network)
    Notification.objects.create(user=coordinator, kind="profile_submitted", title="A profile waits for approval")

    page = new_page()
    sign_in(page, base, coordinator, then="/admin/")
    expect(page.get_by_role("heading", name="Your workbench: London")).to_be_visible()
    expect(page.get_by_role("button", name="A profile waits for approval")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="1 Mentor profiles to approve").click()
    expect(page.get_by_text("1 mentor profile")).to_be_visible()
    assert_accessible(page)
    page.locator(f'#result_list a[href*="/mentorprofile/{profile.pk}/change/"]').click()
    expect(page.get_by_role("rowheader", name="Current role (changed)")).to_be_visible()
    expect(page.locator("ins", has_text="Principal")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="1 Unmatched mentees").click()
    expect(page.get_by_text("Prepare for chartership within a year.")).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors
