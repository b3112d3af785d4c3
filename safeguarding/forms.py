from django import forms

from accounts.fields import SafeModelChoiceField
from mentoring.models import Pairing
from safeguarding import concerns, confidential
from safeguarding.complaints import complaint_people
from safeguarding.models import Complaint, Concern, ConcernNote


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


RISK_CHOICES = [("no", "No"), ("yes", "Yes")]


class ConcernForm(forms.Form):
    """The Incident Reporting Form (R-SAFE-1): what happened, who, when, and whether anyone is at immediate risk.

    `person` offers the people the member is or was paired with; from a profile the person is fixed by the page
    (`fixed_person`) and the field is left out.
    """

    what_happened = forms.CharField(
        label="What happened?",
        widget=forms.Textarea(attrs={"rows": 7}),
        max_length=concerns.WHAT_HAPPENED_MAX_LENGTH,
        error_messages={"required": "Tell us what happened."},
        help_text="In your own words: what you saw, heard or were told, and anything else the Safeguarding Lead "
        "should know. Only the Safeguarding Lead reads it.",
    )
    person = PersonChoiceField(
        queryset=None,
        required=False,
        label="Who is it about? (optional)",
        empty_label="Someone else, or I would rather not say",
        help_text="Someone you are or were paired with.",
    )
    person_name = forms.CharField(
        label="Their name, if they are not in the list (optional)",
        required=False,
        max_length=concerns.PERSON_NAME_MAX_LENGTH,
    )
    happened_on = forms.DateField(
        label="When did it happen? (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave it empty if you are not sure.",
    )
    immediate_risk = forms.ChoiceField(
        label="Is anyone at immediate risk of harm?",
        choices=RISK_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether anyone is at immediate risk of harm."},
    )

    def __init__(self, *args, user, fixed_person=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_person is not None:
            del self.fields["person"], self.fields["person_name"]
        else:
            self.fields["person"].queryset = concerns.concern_people(user)
            if not self.fields["person"].queryset.exists():
                del self.fields["person"]
                self.fields["person_name"].label = "Who is it about? (optional)"

    def clean_person_name(self):
        name = self.cleaned_data.get("person_name", "")
        return concerns.person_name_clean(name)

    def clean_happened_on(self):
        day = self.cleaned_data.get("happened_on")
        concerns.happened_on_check(day)
        return day


class ConcernNoteForm(forms.Form):
    """A note, or an action taken, on a concern (R-SAFE-2)."""

    text = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=concerns.NOTE_MAX_LENGTH,
        error_messages={"required": "Write your note."},
    )

    def __init__(self, *args, kind: str = ConcernNote.Kind.NOTE, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == ConcernNote.Kind.ACTION:
            self.fields["text"].label = "The action you took"
            self.fields["text"].error_messages["required"] = "Write the action you took."
            self.fields["text"].help_text = "What you did: who you told or contacted, what you arranged, and when."


class ConcernStatusForm(forms.Form):
    """Move a concern on (R-SAFE-2): only to the states its present one allows; closing needs the outcome."""

    status = forms.ChoiceField(label="Move the concern to", choices=(), widget=forms.RadioSelect)
    outcome = forms.CharField(
        label="Outcome (needed to close the concern)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=concerns.NOTE_MAX_LENGTH,
        help_text="What was decided, and why the concern can close.",
    )

    def __init__(self, *args, concern: Concern, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, Concern.Status(s).label) for s in Concern.NEXT[concern.status]]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Concern.Status.CLOSED and not cleaned.get("outcome", "").strip():
            self.add_error("outcome", "Write the outcome before you close the concern.")
        return cleaned


class SuspendForm(forms.Form):
    confirm = forms.BooleanField(
        label="I am suspending this member at once: their pairings pause, their messages stop and their profile "
        "is unlisted until I lift it.",
        error_messages={"required": "Tick the box to confirm the suspension."},
    )


class LiftForm(forms.Form):
    confirm = forms.BooleanField(
        label="Lift the suspension: their memberships and pairings go back to how they were.",
        error_messages={"required": "Tick the box to confirm you are lifting the suspension."},
    )
