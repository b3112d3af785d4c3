"""Every member-facing page, empty and with form errors, passes the axe check (DESIGN: accessibility)."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_member_pages_are_accessible(asgi_live_server, new_page, mentee, documents):
    base = asgi_live_server.url
    factories.TermsVersionFactory(kind="terms", version="2027.1")  # so the accept page has a form
    page = new_page()
    sign_in(page, base, mentee)
    for path in (
        "/onboarding/",
        "/schemes/join/",
        "/documents/accept/",
        "/accounts/details/",
        "/notifications/",
        "/documents/terms/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
    ):
        page.goto(base + path)
        assert_accessible(page)

    # Errors are shown next to their fields and the page still passes.
    page.goto(base + "/schemes/join/")
    page.get_by_role("button", name="Join").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()  # waits for the answer
    assert page.locator(".invalid-feedback").count() >= 3
    assert_accessible(page)
    page.goto(base + "/accounts/details/")
    page.get_by_label("Membership number").fill("12-AB")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("6 to 10 digits").first).to_be_visible()
    assert_accessible(page)
    assert not page.errors, page.errors


def test_signup_errors_are_accessible(asgi_live_server, new_page, documents, scheme, network):
    page = new_page()
    page.goto(asgi_live_server.url + "/accounts/signup/")
    page.get_by_label("Date of birth").fill("2099-01-01")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("cannot be in the future")).to_have_count(1)
    assert_accessible(page)
