"""An id the database cannot hold, or no number at all, in a choice field is "Select a valid choice", never a 500
(issue 6, 4). Django's ModelMultipleChoiceField sends such ids to the database as they are: SQLite raises
OverflowError; accounts/fields.py checks them first. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.fields import SafeModelChoiceField, SafeModelMultipleChoiceField
from accounts.models import Language
from mentoring.models import LocalNetwork

BAD_IDS = (str(2**63), str(2**63 - 1), str(2**31), str(-(2**63) - 1), "99999999999999999999999", "abc", "1.5", "0x10")


@pytest.mark.parametrize("bad", BAD_IDS)
def test_the_safe_fields_turn_an_impossible_id_into_a_form_error(world, bad):
    english = Language.objects.get(code="en")
    many = SafeModelMultipleChoiceField(queryset=Language.objects.all())
    one = SafeModelChoiceField(queryset=Language.objects.all())
    for clean in (lambda: many.clean([bad]), lambda: many.clean([str(english.pk), bad]), lambda: one.clean(bad)):
        with pytest.raises(ValidationError) as refused:
            clean()
        assert refused.value.code == "invalid_choice"
    assert list(many.clean([str(english.pk)])) == [english]
    assert one.clean(str(english.pk)) == english


def form_error_page(response, field: str) -> bool:
    form = response.context and response.context.get("form")
    return response.status_code == 200 and form is not None and field in form.errors


@pytest.mark.parametrize("bad", [str(2**63), "99999999999999999999999", "abc"])
def test_member_forms_answer_an_impossible_id_with_a_form_error(quiet_client, world, bad):
    client = quiet_client
    client.force_login(world.mentee_a)
    details = {
        "first_name": "Alpha",
        "last_name": "Alphason",
        "date_of_birth": "1990-06-15",
        "membership_number": world.mentee_a.membership_number,
        "country": "GB",
        "time_zone": "Europe/London",
        "languages": [bad],
    }
    assert form_error_page(client.post(reverse("account_details"), details), "languages")
    goals = {"goals": "Chartership.", "expertise": [bad], "sector": bad, "language": bad}
    response = client.post(reverse("mentee_goals_edit"), goals)
    assert form_error_page(response, "expertise") and "sector" in response.context["form"].errors
    client.force_login(world.mentor_a)
    profile = {
        "role_title": "Engineer",
        "work_history": "Years.",
        "sector": bad,
        "expertise": [bad],
        "languages": [bad],
        "country": "GB",
        "capacity": "2",
        "availability": "accepting",
    }
    response = client.post(reverse("mentor_profile_edit"), profile)
    assert form_error_page(response, "expertise") and "languages" in response.context["form"].errors
    join = client.post(reverse("scheme_join"), {"scheme": bad, "roles": ["mentee"], "network": bad})
    assert form_error_page(join, "network")


@pytest.mark.parametrize("bad", [str(2**63), "99999999999999999999999", "abc"])
def test_signing_up_with_an_impossible_language_is_a_form_error(quiet_client, world, bad):
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
        "languages": [bad],
        "scheme": world.scheme.pk,
        "roles": ["mentee"],
        "network": world.network_a.pk,
    }
    assert form_error_page(quiet_client.post(reverse("account_signup"), data), "languages")


@pytest.mark.parametrize("bad", [str(2**63), "99999999999999999999999", "abc"])
def test_mentor_search_ignores_impossible_ids(quiet_client, world, bad):
    quiet_client.force_login(world.mentee_a)
    query = {"sector": bad, "expertise": bad, "language": bad, "country": bad, "page": bad}
    assert quiet_client.get(reverse("mentor_list"), query).status_code == 200


@pytest.mark.parametrize("bad", [str(2**63), "99999999999999999999999", "abc"])
def test_admin_choice_lists_answer_an_impossible_id_with_a_form_error(quiet_client, world, bad):
    # The coordinators of a Local Network (filter_horizontal) and a member's languages and groups
    quiet_client.force_login(world.superuser)
    network = world.network_a
    url = reverse("admin:mentoring_localnetwork_change", args=[network.pk])
    response = quiet_client.post(url, {"name": network.name, "slug": network.slug, "coordinators": [bad]})
    assert response.status_code == 200, f"coordinators={bad}: {response.status_code}"
    assert LocalNetwork.objects.get(pk=network.pk).coordinators.filter(pk=world.coordinator_a.pk).exists()
    member = world.mentee_a
    data = {
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "time_zone": "Europe/London",
        "membership_status": member.membership_status,
        "is_active": "on",
        "languages": [bad],
        "groups": [bad],
    }
    response = quiet_client.post(reverse("admin:accounts_user_change", args=[member.pk]), data)
    assert response.status_code == 200, f"languages={bad}: {response.status_code}"
