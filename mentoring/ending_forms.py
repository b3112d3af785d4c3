"""Forms for ending a pairing, withdrawing, and the feedback survey."""

from django import forms

from mentoring.ending import MEMBER_REASONS
from mentoring.models import Pairing
from mentoring.models.ending import COMMENTS_MAX

RATINGS = [(n, str(n)) for n in range(1, 6)]


class PairingEndForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in MEMBER_REASONS],
        widget=forms.RadioSelect,
        label="Why is the pairing ending?",
        error_messages={"required": "Choose a reason for ending the pairing."},
    )
    comments = forms.CharField(
        required=False,
        max_length=COMMENTS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Comments",
        help_text="Your partner does not see these; your coordinator does.",
    )
    confirm = forms.BooleanField(
        label="I understand the pairing ends now, for both of us.",
        error_messages={"required": "Tick the box to confirm you want to end the pairing."},
    )


class AdminPairingEndForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in Pairing.EndReason if r != Pairing.EndReason.SCHEME_CLOSED],
        label="Reason",
    )
    comments = forms.CharField(
        required=False, max_length=COMMENTS_MAX, widget=forms.Textarea(attrs={"rows": 4}), label="Comments"
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=COMMENTS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything you would like us to know (optional)",
    )
    confirm = forms.BooleanField(
        label="I understand what withdrawing does.",
        error_messages={"required": "Tick the box to confirm you want to withdraw."},
    )


class AdminWithdrawForm(forms.Form):
    reason = forms.CharField(
        max_length=COMMENTS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason",
        error_messages={"required": "Give the reason for withdrawing this member."},
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        label="How well is the mentoring working for you? (1 poor, 5 very well)",
        error_messages={"required": "Choose a rating from 1 to 5.", "invalid_choice": "Choose a rating from 1 to 5."},
    )
    comments = forms.CharField(
        required=False, max_length=COMMENTS_MAX, widget=forms.Textarea(attrs={"rows": 4}), label="Comments"
    )
