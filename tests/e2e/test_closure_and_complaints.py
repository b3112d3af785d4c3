"""A scheme set to close two weeks ahead tells each participant once and shows its banner (R-SCHEME-3);
the complaint pages (R-SAFE-4). Each page passes the axe check."""

import datetime

import pytest
from django.utils import timezone

from mentoring import closure
from mentoring.models import Pairing
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_a_closing_scheme_tells_every_participant_once_and_shows_the_banner(
    asgi_live_server, new_page, scheme, network, mentee, mentor, scheme_staff
):
    closes_on = timezone.localdate() + datetime.timedelta(days=14)
    closure.scheme_close_set(scheme_id=scheme.pk, closes_on=closes_on, actor=scheme_staff)
    assert closure.scheme_closure_notices_send() == 2
    assert closure.scheme_closure_notices_send() == 0  # the next day's run tells no one again
    expected = f"{scheme.name} closes on {closes_on.day} {closes_on:%B %Y}"
    base = asgi_live_server.url
    for member in (mentee, mentor):
        page = new_page()
        sign_in(page, base, member)
        page.goto(base + "/notifications/")
        assert page.locator(".list-group-item", has_text=expected).count() == 1
        assert page.get_by_role("status").filter(has_text=expected).count() == 1  # the banner
        assert_accessible(page)
        page.goto(base + "/mentoring/")
        assert page.get_by_role("status").filter(has_text=expected).count() == 1
        assert_accessible(page)
        assert not page.errors, page.errors
        page.close()


def test_a_member_makes_a_complaint_and_follows_it(asgi_live_server, new_page, scheme, network, mentee, mentor):
    Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
    base = asgi_live_server.url
    page = new_page()
    sign_in(page, base, mentee)
    page.goto(base + "/")
    page.get_by_role("link", name="Make a complaint").click()
    page.wait_for_url("**/complaints/new/")
    assert_accessible(page)
    page.get_by_role("button", name="Send complaint").click()  # nothing filled in
    assert page.locator(".invalid-feedback").count() >= 2
    assert_accessible(page)
    page.get_by_label("No", exact=True).check()
    page.get_by_label("A pairing").check()
    page.get_by_label("The pairing").select_option(index=1)
    page.get_by_label("What happened").fill("My mentor has missed three meetings in a row.")
    page.get_by_role("button", name="Send complaint").click()
    page.wait_for_url("**/complaints/*/")
    assert page.get_by_text("Received").count() >= 1
    assert_accessible(page)
    page.goto(base + "/complaints/")
    assert_accessible(page)
    page.goto(base + "/safeguarding/contact/")
    assert_accessible(page)
    assert not page.errors, page.errors
