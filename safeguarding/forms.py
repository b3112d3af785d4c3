from django import forms

from accounts.fields import SafeModelChoiceField
from mentoring.models import Pairing
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
