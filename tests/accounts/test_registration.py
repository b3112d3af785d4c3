"""Registration through allauth: details, first scheme, acceptances, email verification, bad input."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Language, MembershipStatus, User
from mentoring import services as mentoring_services
from mentoring.models import Role, SchemeMembership, TermsAcceptance
from tests import factories


@pytest.fixture
def signup_data(documents, scheme, network):
    data = {
        "email": "new.member@example.org",
        "password1": "correct-horse-battery-9",
        "password2": "correct-horse-battery-9",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1995-12-10",
        "membership_number": "12345678",
        "country": "GB",
        "time_zone": "Europe/London",
        "languages": [Language.objects.get(code="en").pk, Language.objects.get(code="fr").pk],
        "scheme": scheme.pk,
        "roles": [Role.MENTEE, Role.MENTOR],
        "network": network.pk,
    }
    for kind in ("terms", "code-of-conduct", "privacy-notice"):
        data[f"accept_{kind}"] = "on"
    return data


def signup(client, data):
    return client.post(reverse("account_signup"), data)


def test_registration_creates_the_member_with_memberships_and_acceptances(client, signup_data, documents, scheme):
    # R-SCHEME-1, R-SCHEME-2, R-SCHEME-4: join in a Local Network; acceptance stored with version and time
    before = timezone.now()
    response = signup(client, signup_data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    user = User.objects.get(email="new.member@example.org")
    assert (user.first_name, user.last_name, user.membership_number) == ("Ada", "Lovelace", "12345678")
    assert user.date_of_birth == datetime.date(1995, 12, 10)
    assert user.membership_status == MembershipStatus.UNVERIFIED
    assert set(user.languages.values_list("code", flat=True)) == {"en", "fr"}
    roles = set(SchemeMembership.objects.filter(user=user, scheme=scheme).values_list("role", flat=True))
    assert roles == {Role.MENTEE, Role.MENTOR}
    assert all(m.status == SchemeMembership.Status.PENDING for m in user.memberships.all())
    accepted = TermsAcceptance.objects.filter(user=user)
    assert {a.version_id for a in accepted} == {
        documents["terms"].pk,
        documents["code-of-conduct"].pk,
        documents["privacy-notice"].pk,
    }
    assert all(a.accepted_at >= before for a in accepted)


def test_the_email_must_be_verified_before_signing_in(client, signup_data):
    signup(client, signup_data)
    assert client.get(reverse("onboarding")).status_code == 302  # not signed in yet
    (message,) = [m for m in mail.outbox if "new.member@example.org" in m.to]
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", message.body).group(1)
    response = client.post(link)
    assert response.status_code == 302
    assert client.get(reverse("onboarding")).status_code == 200
    assert User.objects.get(email="new.member@example.org").emailaddress_set.get().verified


def test_signing_in_before_verifying_is_refused(client, signup_data):
    signup(client, signup_data)
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new.member@example.org", "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]
    assert client.get(reverse("onboarding")).status_code == 302


def assert_rejected(client, data, field, words):
    count = User.objects.count()
    response = signup(client, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert User.objects.count() == count
    assert not SchemeMembership.objects.filter(user__email=data["email"]).exists()
    assert not TermsAcceptance.objects.filter(user__email=data["email"]).exists()
    assert words in response.content.decode()


def test_under_18_is_refused_with_a_clear_error(client, signup_data):
    # R-ELIG-1 at the door
    today = timezone.localdate()
    signup_data["date_of_birth"] = today.replace(year=today.year - 17).isoformat()
    assert_rejected(client, signup_data, "date_of_birth", "18 or over")


def test_a_date_of_birth_in_the_future_is_refused(client, signup_data):
    signup_data["date_of_birth"] = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    assert_rejected(client, signup_data, "date_of_birth", "cannot be in the future")


def test_a_garbled_date_of_birth_is_refused(client, signup_data):
    signup_data["date_of_birth"] = "31/02/nineteen"
    assert_rejected(client, signup_data, "date_of_birth", "Enter your date of birth as a date")


def test_a_duplicate_email_is_refused(client, signup_data):
    factories.UserFactory(email="new.member@example.org")
    assert_rejected(client, signup_data, "email", "already registered")


def test_a_duplicate_email_in_other_case_is_refused(client, signup_data):
    factories.UserFactory(email="new.member@example.org")
    signup_data["email"] = "New.Member@Example.org"
    assert_rejected(client, signup_data, "email", "already registered")


@pytest.mark.parametrize("number", ["", "   "])
def test_an_empty_membership_number_is_refused(client, signup_data, number):
    signup_data["membership_number"] = number
    assert_rejected(client, signup_data, "membership_number", "Enter your membership number")


@pytest.mark.parametrize("number", ["ABC123", "12 345 678", "123", "12345678901", "1234-5678"])
def test_a_malformed_membership_number_is_refused(client, signup_data, number):
    signup_data["membership_number"] = number
    assert_rejected(client, signup_data, "membership_number", "6 to 10 digits")


def test_a_membership_number_already_registered_is_refused(client, signup_data):
    factories.UserFactory(membership_number="12345678")
    assert_rejected(client, signup_data, "membership_number", "already registered")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "localtime", "", "Europe/London<script>"])
def test_an_unknown_time_zone_is_refused(client, signup_data, zone):
    signup_data["time_zone"] = zone
    field_error = "not a time zone we know" if zone else "required"
    assert_rejected(client, signup_data, "time_zone", field_error)


def test_the_documents_must_be_accepted(client, signup_data):
    # R-ELIG-5, R-SAFE-5
    del signup_data["accept_code-of-conduct"]
    assert_rejected(client, signup_data, "accept_code-of-conduct", "accept the code of conduct")


def test_a_role_must_be_chosen(client, signup_data):
    signup_data["roles"] = []
    assert_rejected(client, signup_data, "roles", "mentee, mentor or both")


def test_a_closed_scheme_cannot_be_joined_at_registration(client, signup_data, scheme):
    scheme.is_open = False
    scheme.save()
    assert_rejected(client, signup_data, "scheme", "Select a valid choice")


def test_registration_page_links_each_document(client, documents):
    # R-SAFE-5
    body = client.get(reverse("account_signup")).content.decode()
    for kind in ("terms", "code-of-conduct", "privacy-notice"):
        assert f'href="/documents/{kind}/"' in body


def test_a_sign_up_that_fails_half_way_leaves_nothing_behind(client, signup_data, monkeypatch):
    # allauth saves the User before our part of sign-up runs: both are one transaction.
    def scheme_closed_meanwhile(**kwargs):
        raise RuntimeError("the scheme closed between the form and the save")

    monkeypatch.setattr(mentoring_services, "memberships_join", scheme_closed_meanwhile)
    client.raise_request_exception = False
    response = signup(client, signup_data)
    assert response.status_code == 500
    assert not User.objects.filter(email="new.member@example.org").exists()
    assert not TermsAcceptance.objects.exists()
