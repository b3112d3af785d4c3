"""Sign-up, the details page and the onboarding checklist judge the age on the same date (R-ELIG-1).

They used to disagree on a birthday near midnight: sign-up took UTC's date, the
checklist the member's. Now both take the date in the member's own time zone.
"""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.forms import MemberDetailsForm
from accounts.models import Language, User
from mentoring.models import Role
from safeguarding import eligibility


@pytest.fixture
def eve():
    """23:30 UTC on the eve of a day a month ahead: already that day in Kolkata, not yet in Los Angeles."""
    birthday = timezone.now().date() + datetime.timedelta(days=30)
    if (birthday.month, birthday.day) in ((2, 29), (3, 1)):
        birthday += datetime.timedelta(days=3)
    moment = datetime.datetime.combine(birthday, datetime.time(0, 0), tzinfo=datetime.UTC) - datetime.timedelta(
        minutes=30
    )
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield birthday.replace(year=birthday.year - 18)  # the date of birth whose 18th birthday it is


def signup(client, scheme, network, *, date_of_birth, time_zone):
    data = {
        "email": "turning.eighteen@example.org",
        "password1": "correct-horse-battery-9",
        "password2": "correct-horse-battery-9",
        "first_name": "Priya",
        "last_name": "Raman",
        "date_of_birth": date_of_birth.isoformat(),
        "membership_number": "23456781",
        "country": "IN",
        "time_zone": time_zone,
        "languages": [Language.objects.get(code="en").pk],
        "scheme": scheme.pk,
        "roles": [Role.MENTEE],
        "network": network.pk,
    } | {f"accept_{kind}": "on" for kind in ("terms", "code-of-conduct", "privacy-notice")}
    return client.post(reverse("account_signup"), data)


def age_condition(user, scheme):
    (condition,) = [c for c in eligibility.check(user, scheme, Role.MENTEE).conditions if c.code == "age"]
    return condition


def test_a_member_who_is_18_where_they_live_can_sign_up_and_the_checklist_agrees(
    client, documents, scheme, network, eve
):
    # R-ELIG-1: 05:00 on the 18th birthday in Kolkata, still the day before in UTC
    response = signup(client, scheme, network, date_of_birth=eve, time_zone="Asia/Kolkata")
    assert response.status_code == 302, response.context and response.context["form"].errors
    user = User.objects.get(email="turning.eighteen@example.org")
    assert age_condition(user, scheme).met


def test_a_member_not_yet_18_where_they_live_is_refused_and_the_checklist_agrees(
    client, documents, scheme, network, eve, mentee
):
    # R-ELIG-1: 15:30 or 16:30 the day before in Los Angeles
    response = signup(client, scheme, network, date_of_birth=eve, time_zone="America/Los_Angeles")
    assert response.status_code == 200
    assert "18 or over" in " ".join(response.context["form"].errors["date_of_birth"])
    mentee.date_of_birth, mentee.time_zone = eve, "America/Los_Angeles"
    assert not age_condition(mentee, scheme).met


@pytest.mark.parametrize(("time_zone", "accepted"), [("Asia/Kolkata", True), ("America/Los_Angeles", False)])
def test_the_details_form_judges_the_age_in_the_time_zone_chosen_on_it(mentee, scheme, eve, time_zone, accepted):
    # R-ELIG-1: the zone chosen on the same form, not the zone saved before
    data = {
        "first_name": mentee.first_name,
        "last_name": mentee.last_name,
        "date_of_birth": eve.isoformat(),
        "membership_number": mentee.membership_number,
        "country": "GB",
        "time_zone": time_zone,
        "languages": [Language.objects.get(code="en").pk],
    }
    form = MemberDetailsForm(data, instance=mentee)
    assert form.is_valid() is accepted, form.errors
    mentee.date_of_birth, mentee.time_zone = eve, time_zone
    assert age_condition(mentee, scheme).met is accepted
