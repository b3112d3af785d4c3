"""Registration and the member's own details."""

import datetime

from django import forms
from django_countries import countries

from accounts.fields import SafeModelMultipleChoiceField
from accounts.models import (
    ADULT_AGE,
    MEMBERSHIP_NUMBER_TAKEN,
    Language,
    User,
    age_on,
    local_today,
    normalise_membership_number,
    time_zone_names,
    validate_membership_number,
)
from accounts.validators import validate_single_line

OLDEST_PLAUSIBLE_AGE = 120


def clean_date_of_birth(value: datetime.date, *, today: datetime.date) -> datetime.date:
    """The registration and details forms share one rule (R-ELIG-1 at the door).

    `today` is the member's own date (`local_today` of their time zone), the date
    the eligibility engine judges the age on, so the two never disagree.
    """
    if value > today:
        raise forms.ValidationError("Your date of birth cannot be in the future.", code="future")
    if age_on(value, today) < ADULT_AGE:
        raise forms.ValidationError(
            "You must be 18 or over to join the mentoring scheme (terms and conditions 2.7.2).", code="under_18"
        )
    if age_on(value, today) > OLDEST_PLAUSIBLE_AGE:
        raise forms.ValidationError("Please check the year of your date of birth.", code="implausible")
    return value


class MemberDetailsFields(forms.Form):
    """The personal fields every member gives; used at sign-up and on the details page."""

    first_name = forms.CharField(
        max_length=150,
        label="First name",
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        validators=[validate_single_line],
    )
    last_name = forms.CharField(
        max_length=150,
        label="Surname",
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        validators=[validate_single_line],
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter your date of birth as a date, for example 1990-04-21."},
    )
    membership_number = forms.CharField(
        max_length=20,
        label="Membership number",
        help_text="6 to 10 digits, as on your membership card; leading zeros make no difference.",
        error_messages={"required": "Enter your membership number: we check it before you can take part."},
    )
    country = forms.ChoiceField(label="Country you live in", choices=[("", "Choose a country"), *list(countries)])
    time_zone = forms.ChoiceField(
        label="Your time zone",
        help_text="Meeting times and dates are shown to you in this zone.",
        error_messages={
            "invalid_choice": (
                "“%(value)s” is not a time zone we know. Choose one from the list, for example Europe/London."
            )
        },
    )
    languages = SafeModelMultipleChoiceField(
        queryset=Language.objects.all(),
        label="Languages you can mentor or be mentored in",
        help_text="Hold Ctrl (or Cmd) to choose more than one.",
        error_messages={"required": "Choose at least one language."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z.replace("_", " ")) for z in time_zone_names()]
        self.fields["time_zone"].initial = "Europe/London"

    def clean_membership_number(self):
        # Stored without leading zeros, so "0012345678" finds the member registered as "12345678".
        value = normalise_membership_number(self.cleaned_data["membership_number"])
        validate_membership_number(value)
        others = User.objects.filter(membership_number=value)
        if getattr(self, "instance_pk", None):
            others = others.exclude(pk=self.instance_pk)
        if others.exists():
            raise forms.ValidationError(MEMBERSHIP_NUMBER_TAKEN, code="taken")
        return value

    def clean(self):
        # The age is judged on the date it is in the time zone chosen on this form: the
        # member's own date, as the onboarding checklist judges it later.
        cleaned_data = super().clean()
        date_of_birth = cleaned_data.get("date_of_birth")
        if date_of_birth is not None:
            try:
                clean_date_of_birth(date_of_birth, today=local_today(cleaned_data.get("time_zone", "")))
            except forms.ValidationError as error:
                self.add_error("date_of_birth", error)
        return cleaned_data


class MemberDetailsForm(MemberDetailsFields):
    def __init__(self, *args, instance: User, **kwargs):
        self.instance_pk = instance.pk
        initial = {name: getattr(instance, name) for name in MemberDetailsFields.base_fields if name != "languages"}
        initial["languages"] = list(instance.languages.values_list("pk", flat=True))
        super().__init__(*args, initial=initial, **kwargs)
