from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.fields import SafeModelChoiceField, SafeModelMultipleChoiceField
from matching.models import MAX_CAPACITY, ConflictDeclaration, MenteeProfile, MentorProfile
from messaging.special_category import find_special_category, warning_text


class SpecialCategoryCheck(forms.Form):
    """Warns before saving text that seems to hold special-category data (R-MSG-4); the writer decides."""

    checked_text_fields: tuple[str, ...] = ()
    confirm_special = forms.BooleanField(
        required=False, widget=forms.HiddenInput, label="I have checked the text and want to save it as it is"
    )

    def clean(self):
        cleaned = super().clean()
        text = "\n".join(str(cleaned.get(name) or "") for name in self.checked_text_fields)
        findings = find_special_category(text)
        if findings and not cleaned.get("confirm_special"):
            self.fields["confirm_special"].widget = forms.CheckboxInput()
            raise forms.ValidationError(warning_text(findings), code="special_category")
        return cleaned


class MentorProfileForm(SpecialCategoryCheck, forms.ModelForm):
    checked_text_fields = ("role_title", "work_history")

    class Meta:
        model = MentorProfile
        fields = [
            "role_title",
            "work_history",
            "sector",
            "expertise",
            "languages",
            "country",
            "capacity",
            "availability",
        ]
        widgets = {
            "work_history": forms.Textarea(attrs={"rows": 6}),
            "expertise": forms.CheckboxSelectMultiple,
        }
        field_classes = {
            "sector": SafeModelChoiceField,
            "expertise": SafeModelMultipleChoiceField,
            "languages": SafeModelMultipleChoiceField,
        }
        help_texts = {
            "work_history": "Mentees see this with your first name. No logos, and no claim you could not stand behind.",
            "capacity": f"How many mentees you will mentor at once, 1 to {MAX_CAPACITY}.",
            "languages": "Hold Ctrl (or Cmd) to choose more than one.",
        }
        error_messages = {
            "capacity": {
                "min_value": f"Choose between 1 and {MAX_CAPACITY} mentees.",
                "max_value": f"Choose between 1 and {MAX_CAPACITY} mentees.",
                "invalid": f"Enter a whole number between 1 and {MAX_CAPACITY}.",
            }
        }

    field_order = [*Meta.fields, "confirm_special"]


class MenteeProfileForm(SpecialCategoryCheck, forms.ModelForm):
    checked_text_fields = ("goals",)

    class Meta:
        model = MenteeProfile
        fields = ["goals", "sector", "expertise", "language", "country"]
        widgets = {"goals": forms.Textarea(attrs={"rows": 5}), "expertise": forms.CheckboxSelectMultiple}
        field_classes = {
            "sector": SafeModelChoiceField,
            "expertise": SafeModelMultipleChoiceField,
            "language": SafeModelChoiceField,
        }
        help_texts = {
            "goals": "What you want to accomplish with a mentor. Mentors read this before they answer.",
            "country": "Leave empty if it does not matter.",
        }


class ConflictFields(forms.Form):
    """Both sides declare any conflict of interest before a pairing starts (R-MATCH-5)."""

    conflict_kind = forms.ChoiceField(
        choices=ConflictDeclaration.Kind.choices,
        initial=ConflictDeclaration.Kind.NONE,
        widget=forms.RadioSelect,
        label="Do you have any conflict of interest with this person?",
    )
    conflict_details = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), label="Tell us about it"
    )
    conflict_manageable = forms.TypedChoiceField(
        choices=[("yes", "Yes, we can manage it (say how above)"), ("no", "No, it cannot be managed")],
        coerce=lambda v: v == "yes",
        required=False,
        initial="yes",
        widget=forms.RadioSelect,
        label="Can it be managed?",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("conflict_kind") not in (None, ConflictDeclaration.Kind.NONE):
            if not cleaned.get("conflict_details", "").strip():
                self.add_error("conflict_details", "Describe the conflict so the coordinator can understand it.")
            if cleaned.get("conflict_manageable") in (None, ""):
                self.add_error("conflict_manageable", "Say whether the conflict can be managed.")
        return cleaned

    def declaration(self) -> dict:
        kind = self.cleaned_data["conflict_kind"]
        return {
            "kind": kind,
            "details": self.cleaned_data.get("conflict_details", ""),
            "manageable": True
            if kind == ConflictDeclaration.Kind.NONE
            else bool(self.cleaned_data["conflict_manageable"]),
        }


class RequestForm(ConflictFields):
    message = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Your message to the mentor",
        help_text="Say who you are and why you would like this mentor. Keep contact on the platform.",
        error_messages={"required": "Write a short message to the mentor."},
    )
    field_order = ["message", "conflict_kind", "conflict_details", "conflict_manageable"]


class AcceptForm(ConflictFields):
    pass


class ProposalConfirmForm(ConflictFields):
    pass


class ProposalDeclineForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason, for your coordinator (optional)",
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason, for the mentee",
        error_messages={"required": "Give the mentee a short reason."},
    )
    refer = forms.BooleanField(
        required=False, label="Refer this mentee back to the coordinator to find someone better suited"
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What is wrong with this profile?",
        error_messages={"required": "Say what is wrong with the profile."},
    )


class QuickSelect(forms.Select):
    """A select whose options' HTML is written once for a set of choices (`options_html`, given by the
    form), not through one template per option on every page: the country list alone has 250, and the
    stock widget spent most of the search page's time on them. The chosen option is marked on that text."""

    options_html: str | None = None

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        options = self.options_html
        if options is None:
            options = options_of(self.choices)
        for chosen in self.format_value(value):
            marker = format_html('<option value="{}">', chosen)
            options = options.replace(marker, marker[:-1] + " selected>", 1)
        return format_html("<select{}>{}</select>", flatatt(final), mark_safe(options))  # noqa: S308 (escaped)


def options_of(choices) -> str:
    return format_html_join("", '<option value="{}">{}</option>', ((key, label) for key, label in choices))


# The search form's choices and their options' HTML, for the names object they were made from.
_prepared: dict = {}


def _prepared_for(names) -> dict:
    current = _prepared.get("current")
    if current is None or current["names"] is not names:

        def by_name(mapping, empty):
            return [("", empty), *sorted(mapping.items(), key=lambda item: (item[1].casefold(), item[0]))]

        choices = {
            "sector": by_name(names.sectors, "Any sector"),
            "expertise": by_name(names.areas, "Any area"),
            "language": by_name(names.languages, "Any language"),
            "country": [("", "Any country"), *names.countries.items()],
        }
        html = {field: options_of(field_choices) for field, field_choices in choices.items()}
        current = {"names": names, "choices": choices, "html": html}
        _prepared["current"] = current  # one assignment: a thread sees the old set or the new, never half
    return current


class SearchForm(forms.Form):
    """The mentor search's filters. Choices come from the cached names (`matching.listing.names`), so
    neither rendering nor checking the form reads a table; each filter is an id (or a country code)."""

    sector = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, widget=QuickSelect)
    expertise = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Expertise", widget=QuickSelect
    )
    language = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, widget=QuickSelect)
    country = forms.ChoiceField(required=False, widget=QuickSelect)
    availability = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), *MentorProfile.Availability.choices],
        label="Availability",
        widget=QuickSelect,
    )

    def __init__(self, *args, names, **kwargs):
        super().__init__(*args, **kwargs)
        prepared = _prepared_for(names)
        for field, choices in prepared["choices"].items():
            # Already a list of pairs: set as is, not through the `choices` setter, which normalises all
            # 250 countries again on every page.
            self.fields[field]._choices = self.fields[field].widget._choices = choices
            self.fields[field].widget.options_html = prepared["html"][field]

    def as_columns(self):
        """The filters, each a Bootstrap column with its label and error, as crispy's bootstrap5 field writes
        them (an error is tied to its select by aria-describedby), but written here: crispy's templates took
        a sixth of the search page's time for these five selects."""
        columns = []
        for field in self:
            attrs = {"class": "form-select"}
            error = ""
            if field.errors:
                error_id = f"{field.auto_id}_error"
                attrs.update({"class": "form-select is-invalid", "aria-invalid": "true", "aria-describedby": error_id})
                error = format_html(
                    '<div id="{}" class="invalid-feedback">{}</div>',
                    error_id,
                    format_html_join("", "<p><strong>{}</strong></p>", ((e,) for e in field.errors)),
                )
            columns.append(
                format_html(
                    '<div class="col-sm-6 col-lg"><div id="div_{}" class="mb-3">'
                    '<label for="{}" class="form-label">{}</label>{}{}</div></div>',
                    field.auto_id,
                    field.id_for_label,
                    field.label,
                    field.as_widget(attrs=attrs),
                    error,
                )
            )
        return mark_safe("".join(columns))  # noqa: S308 (each column is format_html's, so escaped)
