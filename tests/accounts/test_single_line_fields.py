"""Names and other one-line fields refuse line breaks and control characters at input: such a name
once reached an email header and broke sending."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.forms import MemberDetailsForm
from accounts.models import Language
from accounts.validators import single_line, validate_single_line
from matching.forms import MentorProfileForm
from tests import factories

ONE_LINE = "Write this on one line, without line breaks, tabs or other invisible control characters."

REFUSED = [
    "Ama\nra",
    "Ama\r\nBcc: everyone@example.org",
    "Ama\tra",
    "Ama\x00ra",
    "Ama\x7fra",
    "Ama\x85ra",  # next line (C1)
    "Ama\u2028ra",  # line separator
    "Ama\u2029ra",  # paragraph separator
    "Ama\u202era",  # right-to-left override: a name that reads differently from what it is
]
ACCEPTED = [
    "O'Brien",
    "Zoë Ní Bhriain-Łukasiewicz",
    "محمد\u200cرضا",  # zero-width non-joiner: Persian names need it
    "José María",
]


def details(user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_of_birth": user.date_of_birth.isoformat(),
        "membership_number": user.membership_number,
        "country": "GB",
        "time_zone": "Europe/London",
        "languages": [Language.objects.get(code="en").pk],
    }
    return {**data, **changes}


@pytest.mark.parametrize("name", REFUSED)
def test_the_details_form_refuses_a_name_with_a_control_character(mentee, name):
    form = MemberDetailsForm(details(mentee, first_name=name, last_name=name), instance=mentee)
    assert not form.is_valid()
    assert ONE_LINE in form.errors["first_name"]
    assert ONE_LINE in form.errors["last_name"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_the_details_form_accepts_names_in_any_script(mentee, name):
    form = MemberDetailsForm(details(mentee, first_name=name, last_name=name), instance=mentee)
    assert form.is_valid(), form.errors


def test_the_details_page_shows_the_error_and_keeps_the_old_name(client, mentee):
    client.force_login(mentee)
    response = client.post(reverse("account_details"), details(mentee, first_name="Amara\nBcc: x@example.org"))
    assert response.status_code == 200
    assert ONE_LINE in response.content.decode()
    mentee.refresh_from_db()
    assert mentee.first_name == "Amara"


@pytest.mark.parametrize("field", ["first_name", "last_name", "membership_grade"])
def test_the_model_refuses_a_line_break_in_a_one_line_field(db, field):
    user = factories.UserFactory.build(**{field: "Fellow\nBcc: everyone@example.org"})
    with pytest.raises(ValidationError) as refused:
        user.full_clean(exclude=["password"])
    assert refused.value.message_dict[field] == [ONE_LINE]


def test_a_mentor_profile_refuses_a_role_title_with_a_line_break(mentor):
    profile = factories.MentorProfileFactory(user=mentor)
    profile.role_title = "Principal engineer\r\nat O'Brien & Sons"
    with pytest.raises(ValidationError) as refused:
        profile.full_clean()
    assert refused.value.message_dict["role_title"] == [ONE_LINE]
    form = MentorProfileForm(
        {
            "role_title": "Principal\nengineer",
            "work_history": "Twenty years.",
            "sector": profile.sector_id,
            "languages": [Language.objects.get(code="en").pk],
            "country": "GB",
            "capacity": 1,
            "availability": "accepting",
        },
        instance=profile,
    )
    assert form.errors["role_title"] == [ONE_LINE]


def test_the_validator_allows_an_empty_value():
    validate_single_line("")


def test_single_line_makes_any_text_one_line():
    assert single_line("  O'Brien\r\n\tasks\u2028you\x00 ") == "O'Brien asks you"
