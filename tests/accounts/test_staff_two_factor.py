"""The admin needs TOTP two-factor for staff, coordinators and the Safeguarding Lead (DESIGN: Security)."""

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.urls import reverse

from tests import factories


def test_staff_without_two_factor_are_sent_to_set_it_up(client, db, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    staff = factories.UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before showing the set-up page.
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 302 and setup["Location"].startswith("/accounts/reauthenticate/")


def test_staff_with_two_factor_reach_the_admin(client, coordinator):
    client.force_login(coordinator)
    assert client.get("/admin/").status_code == 200


def test_signing_in_asks_for_the_code_after_the_password(client, coordinator):
    response = client.post(reverse("account_login"), {"login": coordinator.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and "/2fa/authenticate/" in response["Location"]
    assert client.get("/admin/").status_code == 302  # not signed in yet
    code = format_hotp_value(hotp_value(coordinator.totp_secret, next(yield_hotp_counters_from_time())))
    wrong = client.post(response["Location"], {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 200
    assert client.post(response["Location"], {"code": code}).status_code == 302
    assert client.get("/admin/").status_code == 200
