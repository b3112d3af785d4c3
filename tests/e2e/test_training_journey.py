"""Training in the browser (R-COORD-3, R-ELIG-3): a coordinator adds an event of their network, a new mentor books
it from their checklist, a full event says so, the coordinator marks attendance and the checklist is complete.
Every page passes the axe check; staff's DBS check page too (R-SAFE-3)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mentoring.models import Role, SchemeMembership
from safeguarding.models import DBSCheck, TrainingBooking, TrainingCourse, TrainingKind
from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_a_new_mentor_books_training_and_attendance_completes_their_checklist(
    asgi_live_server, new_page, documents, scheme, network, coordinator
):
    base = asgi_live_server.url
    mentor = factories.UserFactory(first_name="Tomasz", last_name="Nowak")
    factories.accept_current_documents(mentor)
    factories.TrainingRecordFactory(user=mentor, kind=TrainingKind.SAFEGUARDING_ELEARNING)
    factories.MembershipFactory(
        user=mentor, scheme=scheme, network=network, role=Role.MENTOR, status=SchemeMembership.Status.PENDING
    )
    # A live-server test's database starts empty of the catalogue the migration adds.
    workshop = factories.TrainingCourseFactory()
    one_day = factories.TrainingCourseFactory(
        name="Mentor training: one-day course", delivery=TrainingCourse.Delivery.ONE_DAY_COURSE
    )
    full = factories.TrainingEventFactory(network=network, course=one_day, capacity=1, place="Full room")
    TrainingBooking.objects.create(event=full, member=factories.eligible_mentee(scheme, network))

    admin = new_page()
    sign_in(admin, base, coordinator, then="/admin/")
    admin.goto(f"{base}/admin/safeguarding/trainingevent/add/")
    assert_accessible(admin)
    when = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    admin.get_by_label("Course").select_option(label=str(workshop))
    admin.get_by_label("Network").select_option(label=network.name)
    admin.get_by_label("Starts at").fill(f"{when}T10:00")
    admin.get_by_label("Ends at").fill(f"{when}T13:00")
    admin.locator("#id_place").fill("Savoy Place, London")
    admin.locator("#id_capacity").fill("10")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_text("was added successfully")).to_be_visible()
    assert_accessible(admin)

    page = new_page()
    sign_in(page, base, mentor, then="/onboarding/")
    page.get_by_role("link", name="Complete the Mentor training").click()
    expect(page.get_by_role("heading", name="Training", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=f"Book a place on {workshop}").click()
    expect(page.get_by_text("You have a place.")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_text("This event is full.")).to_be_visible()

    # The workshop has happened: the coordinator marks attendance.
    booking = TrainingBooking.objects.get(member=mentor)
    event = booking.event
    type(event).objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=4), ends_at=timezone.now() - datetime.timedelta(hours=1)
    )
    admin.goto(f"{base}/admin/safeguarding/trainingbooking/")
    assert_accessible(admin)
    admin.locator(f'input[name="_selected_action"][value="{booking.pk}"]').check()
    admin.get_by_label("Action:").select_option("mark_attended")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_text("training recorded: Tomasz Nowak")).to_be_visible()

    page.goto(base + "/onboarding/")
    expect(page.get_by_test_id("ready")).to_be_visible()
    assert_accessible(page)
    assert not page.errors and not admin.errors, (page.errors, admin.errors)


def test_staff_record_a_dbs_check_and_a_future_certificate_date_is_explained(
    asgi_live_server, new_page, documents, dbs_scheme, network, scheme_staff
):
    base = asgi_live_server.url
    mentor = factories.listed_mentor(dbs_scheme, network)
    check = factories.DBSCheckFactory(user=mentor, status=DBSCheck.Status.SUBMITTED, cleared_on=None)
    page = new_page()
    sign_in(page, base, scheme_staff, then="/admin/")
    page.goto(f"{base}/admin/safeguarding/dbscheck/add/")
    assert_accessible(page)
    page.goto(f"{base}/admin/safeguarding/dbscheck/{check.pk}/change/")
    assert_accessible(page)
    page.get_by_label("Status").select_option("cleared")
    page.get_by_label("Certificate number").fill("001234567890")
    page.get_by_label("Certificate issued on").fill((timezone.localdate() + datetime.timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The certificate date cannot be in the future")).to_be_visible()
    assert_accessible(page)
    assert DBSCheck.objects.get(pk=check.pk).status == DBSCheck.Status.SUBMITTED
    assert not page.errors, page.errors
