"""Issue 11, item 8, as one journey: a coordinator signs in with TOTP, reads their workbench, approves a profile
from its queue and sees the mentor listed, exports their waiting list; staff import the membership system's CSV
through its preview; a coordinator of another network reaches none of it (R-COORD-1, R-COORD-2, R-COORD-4).

The ranked pairing and the cohort preview with a dropped pair are in test_coordinator_pages.py, the held message's
release in test_held_message_journey.py and the dashboards in test_reports_journey.py.
"""

import datetime

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import User
from matching.models import MentorListing, MentorProfile
from mentoring.models import SchemeMembership
from tests import factories
from tests.conftest import _role_user
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_a_coordinator_approves_from_the_workbench_and_exports_what_they_may_see(
    asgi_live_server, new_page, documents, scheme, network, other_network, coordinator, tmp_path
):
    base = asgi_live_server.url
    waiting = factories.listed_mentor(scheme, network, status="submitted", role_title="Grid engineer")
    profile = MentorProfile.objects.get(user=waiting)
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    elsewhere = factories.eligible_mentee(scheme, other_network, first_name="Bryn")
    assert not MentorListing.objects.filter(profile=profile).exists()

    page = new_page()
    sign_in(page, base, coordinator, then="/admin/")  # the coordinator has TOTP: sign_in enters the code
    expect(page.get_by_role("heading", name="Your workbench: London")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="1 Mentor profiles to approve").click()
    page.locator(f'input[name="_selected_action"][value="{profile.pk}"]').check()
    page.locator('select[name="action"]').select_option(label="Approve the selected profiles for listing")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("pproved")
    assert_accessible(page)
    assert MentorListing.objects.filter(profile=profile, scheme=scheme).exists()  # listed at once
    page.goto(f"{base}/admin/")
    expect(page.get_by_role("link", name="1 Mentor profiles to approve")).to_have_count(0)

    # The waiting list as CSV: their network's mentee, not another network's.
    page.goto(f"{base}/admin/mentoring/waitingmentee/")
    expect(page.get_by_role("link", name=str(mentee), exact=True)).to_be_visible()
    page.get_by_role("link", name="Export").click()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Submit").click()
    path = tmp_path / "waiting.csv"
    download.value.save_as(path)
    exported = path.read_text()
    assert mentee.email in exported and elsewhere.email not in exported
    assert "dbs" not in exported.lower()
    assert not page.errors, page.errors

    # A coordinator of another network: the profile, the ranked list for this mentee and the export's rows are
    # not theirs (R-COORD-1).
    outsider = _role_user(settings.GROUP_COORDINATORS, first_name="Olu")
    other_network.coordinators.add(outsider)
    membership = SchemeMembership.objects.get(user=mentee, scheme=scheme)
    other = new_page()
    sign_in(other, base, outsider, then="/admin/")
    expect(other.get_by_role("heading", name=f"Your workbench: {other_network.name}")).to_be_visible()
    for path in (
        f"/admin/matching/mentorprofile/{profile.pk}/change/",
        f"/admin/mentoring/pairing/add/?mentee={membership.pk}",
        f"/reports/?network={network.pk}",
    ):
        response = other.goto(base + path)
        assert response.status == 404, path
    other.goto(f"{base}/admin/mentoring/waitingmentee/")
    expect(other.get_by_role("link", name=str(elsewhere), exact=True)).to_be_visible()
    expect(other.get_by_role("link", name=str(mentee), exact=True)).to_have_count(0)


def test_staff_import_the_membership_systems_csv_through_its_preview(
    asgi_live_server, new_page, documents, scheme, network, scheme_staff, tmp_path
):
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network)
    User.objects.filter(pk=mentor.pk).update(membership_number="11110001")
    mentor.refresh_from_db()
    assert MentorListing.objects.filter(mentor=mentor).exists()
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text("member,grade\n11110001,Fellow\n")
    good = tmp_path / "members.csv"
    good.write_text(f"number,grade,status,expiry\n11110001,Fellow,Lapsed,{yesterday}\n")

    page = new_page()
    sign_in(page, base, scheme_staff, then="/admin/")
    page.goto(f"{base}/admin/accounts/user/")
    page.get_by_role("link", name="Import").click()
    assert_accessible(page)
    page.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert").first).to_be_visible()  # the wrong header, announced
    assert_accessible(page)
    page.locator('input[type="file"]').set_input_files(str(good))
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("ins", has_text="Fellow").first).to_be_visible()
    assert User.objects.get(pk=mentor.pk).membership_grade != "Fellow"  # the preview saved nothing
    assert_accessible(page)
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_be_visible()
    mentor.refresh_from_db()
    assert (mentor.membership_grade, mentor.membership_status) == ("Fellow", "lapsed")
    assert not MentorListing.objects.filter(mentor=mentor).exists()  # re-checked at once: no longer listed
    assert not page.errors, page.errors
