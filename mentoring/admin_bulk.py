"""Bulk actions that need a few words first (issue 11, item 4; R-COORD-4): the action shows a form for the
selected rows; its "apply" post runs the service for them. The services check the person acting again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError

from mentoring.admin_scoping import admin_page
from mentoring.ending_forms import AdminWithdrawForm
from messaging.services import MESSAGE_MAX_LENGTH


class MembersMessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Each member reads it in their notifications on the platform, and by email.",
        error_messages={"required": "Write the message before you send it."},
    )


class BulkWithdrawForm(AdminWithdrawForm):
    """The one-membership withdraw form, worded for several."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = "Each member is told this reason."
        self.fields["reason"].error_messages["required"] = "Give the reason for withdrawing these members."


def form_action(model_admin, request, queryset, *, form_class, title: str, intro: str, submit: str, apply):
    """The form page for the selected rows, or, on its "apply" post, `apply(cleaned_data, queryset)`, which returns
    the message to show (None: back to the list)."""
    applying = "apply" in request.POST
    form = form_class(request.POST if applying else None)
    if applying and form.is_valid():
        try:
            done = apply(form.cleaned_data, queryset)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            model_admin.message_user(request, done, messages.SUCCESS)
            return None
    selected = list(queryset.values_list("pk", flat=True))
    return admin_page(
        model_admin,
        request,
        "admin/bulk_action_form.html",
        title=title,
        form=form,
        intro=intro,
        submit=submit,
        action=request.POST.get("action", ""),
        selected=selected,
        objects=queryset[:20],
        more=max(0, len(selected) - 20),
        checkbox_name=ACTION_CHECKBOX_NAME,
    )
