from django import forms

from accounts.fields import SafeModelChoiceField
from mentoring.models import Pairing
from safeguarding import concerns, confidential
from safeguarding.complaints import complaint_people
from safeguarding.models import Complaint


class PersonChoiceField(SafeModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.first_name


class PairingChoiceField(SafeModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.mentor.first_name} and {obj.mentee.first_name} in {obj.scheme} (from {obj.started_at:%-d %B %Y})"


class ComplaintForm(forms.Form):
    at_risk = forms.ChoiceField(
        label="Is someone at risk of harm?",
        choices=[("no", "No"), ("yes", "Yes: this is a safeguarding concern")],
        initial="no",
        widget=forms.RadioSelect,
        help_text="If someone may be at risk of harm, do not use this form: we take you to the Safeguarding Lead.",
    )
    about = forms.ChoiceField(
        label="What is the complaint about?", choices=Complaint.About.choices, widget=forms.RadioSelect
    )
    person = PersonChoiceField(
        queryset=None,
        required=False,
        label="The person",
        help_text="Someone you were paired with or exchanged requests with. Anyone else: choose "
        "the mentoring service and name them below.",
    )
    pairing = PairingChoiceField(queryset=None, required=False, label="The pairing")
    text = forms.CharField(
        label="What happened",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text="When and where it happened, who was involved, and what you would like us to do.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = complaint_people(user)
        self.fields["pairing"].queryset = Pairing.objects.visible_to(user).select_related("mentor", "mentee", "scheme")


class MessageReportForm(forms.Form):
    """Report a partner's message as a complaint or a safeguarding concern (R-MSG-6)."""

    kind = forms.ChoiceField(
        label="How do you want to report it?",
        choices=[
            ("concern", "A safeguarding concern: someone may be at risk of harm (goes to the Safeguarding Lead)"),
            ("complaint", "A complaint: something went wrong that was not about harm (goes to your coordinator)"),
        ],
        widget=forms.RadioSelect,
    )
    what_happened = forms.CharField(
        label="What happened",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=concerns.WHAT_HAPPENED_MAX_LENGTH,
        help_text="In your own words: what worries you about this message, and anything else we should know.",
    )
    happened_on = forms.DateField(
        label="When did it happen? (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave it empty if it is the message itself.",
    )
    immediate_risk = forms.ChoiceField(
        label="Is anyone at immediate risk of harm?",
        choices=[("no", "No"), ("yes", "Yes")],
        required=False,
        widget=forms.RadioSelect,
        help_text="For a safeguarding concern. If someone is in immediate danger, call 999 now.",
    )

    def clean_happened_on(self):
        day = self.cleaned_data.get("happened_on")
        concerns.happened_on_check(day)
        return day

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "concern" and cleaned.get("immediate_risk") not in ("yes", "no"):
            self.add_error("immediate_risk", "Say whether anyone is at immediate risk of harm.")
        return cleaned


class ConversationAccessForm(forms.Form):
    """What a grant to read a conversation is for, and why (R-MSG-5)."""

    purpose = forms.ChoiceField(
        label="Which complaint or concern are you looking into?", choices=(), widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Why do you need to read this conversation?",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=confidential.REASON_MIN_LENGTH,
        max_length=confidential.REASON_MAX_LENGTH,
        help_text="Both members can see who read their conversation, when, and this reason.",
    )
    hours = forms.TypedChoiceField(
        label="For how long?",
        coerce=int,
        choices=[(h, f"{h} hour{'s' if h > 1 else ''}") for h in confidential.GRANT_HOURS],
        initial=max(confidential.GRANT_HOURS),
        help_text="At most 24 hours; after that you ask again.",
    )

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = [(p.key, p.label) for p in purposes]
