"""Registration and the member's own details."""

import datetime

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_countries import countries

from accounts.fields import SafeModelMultipleChoiceField
from accounts.models import Language, User, age_on, time_zone_names, validate_membership_number
from mentoring.models import LocalNetwork, Role, Scheme, TermsVersion

OLDEST_PLAUSIBLE_AGE = 120


def clean_date_of_birth(value: datetime.date) -> datetime.date:
    """The registration and details forms share one rule (R-ELIG-1 at the door)."""
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError("Your date of birth cannot be in the future.", code="future")
    if age_on(value, today) < 18:
        raise forms.ValidationError(
            "You must be 18 or over to join the mentoring scheme (terms and conditions 2.7.2).", code="under_18"
        )
    if age_on(value, today) > OLDEST_PLAUSIBLE_AGE:
        raise forms.ValidationError("Please check the year of your date of birth.", code="implausible")
    return value


class MemberDetailsFields(forms.Form):
    """The personal fields every member gives; used at sign-up and on the details page."""

    first_name = forms.CharField(
        max_length=150, label="First name", widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=150, label="Surname", widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter your date of birth as a date, for example 1990-04-21."},
    )
    membership_number = forms.CharField(
        max_length=20,
        label="Membership number",
        help_text="6 to 10 digits, as on your membership card.",
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

    def clean_date_of_birth(self):
        return clean_date_of_birth(self.cleaned_data["date_of_birth"])

    def clean_membership_number(self):
        value = self.cleaned_data["membership_number"].strip()
        validate_membership_number(value)
        others = User.objects.filter(membership_number=value)
        if getattr(self, "instance_pk", None):
            others = others.exclude(pk=self.instance_pk)
        if others.exists():
            raise forms.ValidationError(
                "This membership number is already registered. If it is yours, sign in or reset your password.",
                code="taken",
            )
        return value


class SchemeChoiceFields(forms.Form):
    scheme = forms.ModelChoiceField(
        queryset=Scheme.objects.filter(is_open=True),
        label="Scheme",
        empty_label="Choose a scheme",
    )
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        label="I want to join as",
        error_messages={"required": "Choose mentee, mentor or both."},
    )
    network = forms.ModelChoiceField(
        queryset=LocalNetwork.objects.all(),
        label="Local Network",
        empty_label="Choose your Local Network",
    )


def add_acceptance_fields(form: forms.Form, versions) -> None:
    """One required tick box per current document to accept (R-ELIG-5)."""
    for version in versions:
        form.fields[f"accept_{version.kind}"] = forms.BooleanField(
            required=True,
            label=format_html(
                'I have read and accept the <a href="{}" target="_blank" rel="noopener">{}</a> (version {})',
                reverse("document_detail", args=[version.kind]),
                version.get_kind_display().lower(),
                version.version,
            ),
            error_messages={"required": f"You need to accept the {version.get_kind_display().lower()} to take part."},
        )


class SignupForm(MemberDetailsFields, SchemeChoiceFields, AllauthSignupForm):
    """Sign-up: allauth's email and password, the member's details, a first scheme, and acceptances."""

    field_order = [
        "email",
        "password1",
        "password2",
        "first_name",
        "last_name",
        "date_of_birth",
        "membership_number",
        "country",
        "time_zone",
        "languages",
        "scheme",
        "roles",
        "network",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions_to_accept = list(TermsVersion.objects.current_to_accept())
        add_acceptance_fields(self, self.versions_to_accept)
        self.fields["email"].help_text = "We send a link to this address to confirm it."

    def signup(self, request, user):
        from accounts.services import member_register

        data = self.cleaned_data
        member_register(
            user=user,
            details={k: data[k] for k in MemberDetailsFields.base_fields},
            scheme=data["scheme"],
            roles=data["roles"],
            network=data["network"],
            accepted_versions=self.versions_to_accept,
        )


class MemberDetailsForm(MemberDetailsFields):
    def __init__(self, *args, instance: User, **kwargs):
        self.instance_pk = instance.pk
        initial = {name: getattr(instance, name) for name in MemberDetailsFields.base_fields if name != "languages"}
        initial["languages"] = list(instance.languages.values_list("pk", flat=True))
        super().__init__(*args, initial=initial, **kwargs)
