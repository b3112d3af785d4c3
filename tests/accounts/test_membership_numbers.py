"""A membership number that differs only by leading zeros is the same number."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Language, MembershipStatus, User, normalise_membership_number, validate_membership_number
from tests import factories

drop_leading_zeros = importlib.import_module(
    "accounts.migrations.0004_membership_numbers_without_leading_zeros"
).drop_leading_zeros


def details(user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_of_birth": user.date_of_birth.isoformat(),
        "membership_number": user.membership_number,
        "country": "GB",
        "time_zone": user.time_zone,
        "languages": list(user.languages.values_list("pk", flat=True)),
    }
    return data | changes


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("12345678", "12345678"), ("0012345678", "12345678"), (" 00123456 ", "123456"), ("1234567890", "1234567890")],
)
def test_leading_zeros_and_spaces_are_dropped(typed, stored):
    validate_membership_number(normalise_membership_number(typed))
    assert normalise_membership_number(typed) == stored


@pytest.mark.parametrize("typed", ["0000000000", "00012345", "12345678901", "12 345 678", "A1234567"])
def test_a_number_that_is_not_6_to_10_digits_without_its_zeros_is_refused(typed):
    with pytest.raises(ValidationError, match="6 to 10 digits"):
        validate_membership_number(normalise_membership_number(typed))


def test_signing_up_with_a_registered_number_padded_with_zeros_is_refused(client, documents, scheme, network):
    factories.UserFactory(membership_number="12345678")
    data = {
        "email": "second.account@example.org",
        "password1": "correct-horse-battery-9",
        "password2": "correct-horse-battery-9",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1995-12-10",
        "membership_number": "0012345678",
        "country": "GB",
        "time_zone": "Europe/London",
        "languages": [Language.objects.get(code="en").pk],
        "scheme": scheme.pk,
        "roles": ["mentee"],
        "network": network.pk,
    } | {f"accept_{kind}": "on" for kind in ("terms", "code-of-conduct", "privacy-notice")}
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200
    assert "already registered" in " ".join(response.context["form"].errors["membership_number"])
    assert not User.objects.filter(email="second.account@example.org").exists()


def test_a_number_typed_with_zeros_is_stored_without_them(client, mentee):
    mentee.membership_number = "87654321"
    mentee.save()
    client.force_login(mentee)
    response = client.post(reverse("account_details"), details(mentee, membership_number="0087654321"))
    assert response.status_code == 302
    mentee.refresh_from_db()
    assert mentee.membership_number == "87654321"
    # The same number: it is not sent back for checking.
    assert mentee.membership_status == MembershipStatus.ACTIVE


def test_the_details_form_refuses_another_members_number_padded_with_zeros(client, mentee):
    factories.UserFactory(membership_number="12345678")
    client.force_login(mentee)
    response = client.post(reverse("account_details"), details(mentee, membership_number="0012345678"))
    assert response.status_code == 200
    assert "already registered" in " ".join(response.context["form"].errors["membership_number"])


def test_the_model_drops_the_zeros_and_says_already_registered(db):
    # What the admin's form relies on: full_clean normalises, then the constraint names the field.
    factories.UserFactory(membership_number="12345678")
    user = factories.UserFactory.build(membership_number="0012345678")
    with pytest.raises(ValidationError) as raised:
        user.full_clean(exclude=["password"])
    assert user.membership_number == "12345678"
    assert "already registered" in " ".join(raised.value.message_dict["membership_number"])


def test_the_migration_drops_the_zeros_of_existing_numbers(db):
    padded = factories.UserFactory()
    User.objects.filter(pk=padded.pk).update(membership_number="0023456789")
    untouched = factories.UserFactory(membership_number="34567890")
    drop_leading_zeros(apps, None)
    padded.refresh_from_db()
    untouched.refresh_from_db()
    assert (padded.membership_number, untouched.membership_number) == ("23456789", "34567890")


def test_the_migration_stops_and_names_accounts_that_would_share_a_number(db):
    factories.UserFactory(membership_number="23456789", email="first@example.org")
    padded = factories.UserFactory(email="second@example.org")
    User.objects.filter(pk=padded.pk).update(membership_number="0023456789")
    with pytest.raises(RuntimeError) as raised:
        drop_leading_zeros(apps, None)
    assert "23456789: first@example.org, second@example.org" in str(raised.value)
    padded.refresh_from_db()
    assert padded.membership_number == "0023456789"
