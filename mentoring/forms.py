"""Forms for joining a scheme and accepting its documents, and sign-up (which does both)."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from accounts.forms import MemberDetailsFields
from mentoring import services
from mentoring.models import LocalNetwork, Role, Scheme, TermsVersion


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

    def save(self, request):
        # allauth saves the User before calling signup(): one transaction, so a sign-up that fails half-way
        # leaves no member without memberships behind (there is no per-request transaction).
        with transaction.atomic():
            return super().save(request)

    def signup(self, request, user):
        data = self.cleaned_data
        services.member_register(
            user=user,
            details={k: data[k] for k in MemberDetailsFields.base_fields},
            scheme=data["scheme"],
            roles=data["roles"],
            network=data["network"],
            accepted_versions=self.versions_to_accept,
        )


class SchemeJoinForm(SchemeChoiceFields):
    pass


class DocumentsAcceptForm(forms.Form):
    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = versions
        add_acceptance_fields(self, versions)
