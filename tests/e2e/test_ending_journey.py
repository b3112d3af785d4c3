"""A mentee gives midpoint feedback, then ends the pairing with a reason; the withdraw page explains itself.

R-PAIR-4, R-PAIR-5, R-PAIR-7; axe on every page visited.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mentoring.ending import feedback_requests_send
from mentoring.models import Feedback, Pairing, Role, SchemeMembership
from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_give_feedback_then_end_the_pairing_with_a_reason(asgi_live_server, new_page, documents, scheme, network):
    base = asgi_live_server.url
    mentor = factories.listed_mentor(scheme, network)
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    SchemeMembership.objects.filter(user__in=[mentor, mentee]).update(status=SchemeMembership.Status.ACTIVE)
    pairing = Pairing.objects.create(
        scheme=scheme,
        mentor=mentor,
        mentee=mentee,
        network=network,
        started_at=timezone.now() - datetime.timedelta(weeks=13),
    )
    assert feedback_requests_send() == 2

    page = new_page()
    sign_in(page, base, mentee)
    page.goto(f"{base}/pairings/{pairing.pk}/feedback/midpoint/")
    assert_accessible(page)
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_text("Choose a rating from 1 to 5.").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("4").check()
    page.get_by_label("Comments").fill("Our meetings help.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    assert Feedback.objects.get(member=mentee).rating == 4

    page.goto(f"{base}/pairings/{pairing.pk}/end/")
    assert_accessible(page)
    page.get_by_label("Goals met").check()
    page.get_by_label("Comments").fill("I am ready for chartership.")
    page.get_by_label("I understand the pairing ends now").check()
    page.get_by_role("button", name="End the pairing").click()
    expect(page.get_by_text("The pairing has ended.")).to_be_visible()
    assert_accessible(page)
    pairing.refresh_from_db()
    assert pairing.status == Pairing.Status.ENDED and pairing.end_reason == "goals_met"

    membership = SchemeMembership.objects.get(user=mentee, scheme=scheme, role=Role.MENTEE)
    page.goto(f"{base}/membership/{membership.pk}/withdraw/")
    expect(page.get_by_text("Nothing is deleted")).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors
