"""Admin pages for pairing: by hand and by cohort (R-MATCH-3). Both call services that check the person acting."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect

from matching import selectors, services
from mentoring import permissions
from mentoring import services as mentoring_services
from mentoring.admin_scoping import admin_page
from mentoring.models import LocalNetwork, Role, Scheme


class CohortForm(forms.Form):
    network = forms.ModelChoiceField(
        queryset=LocalNetwork.objects.none(), required=False, empty_label="Every Local Network", label="Local Network"
    )


def cohort_view(model_admin, request, pk: int):
    """Preview the cohort's pairs with scores and reasons; confirm to start them (R-MATCH-3)."""
    if not model_admin.has_cohort_permission(request):
        raise PermissionDenied
    scheme = get_object_or_404(Scheme, pk=pk)
    form = CohortForm(request.GET or None)
    form.fields["network"].queryset = model_admin.network_choices(request)
    form.fields["network"].required = permissions.coordinator_only(request.user)
    if request.method == "POST":
        try:
            started, skipped = services.cohort_confirm(token=request.POST.get("token", ""), actor=request.user)
        except ValidationError as error:
            model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            count = len(started)
            model_admin.message_user(request, f"Started {count} pairing{'s' if count != 1 else ''}.", messages.SUCCESS)
            for reason in skipped:
                model_admin.message_user(request, f"Skipped {reason}", messages.WARNING)
            return redirect("admin:mentoring_pairing_changelist")
    preview = None
    if form.is_bound and form.is_valid():
        preview = selectors.cohort_preview(scheme=scheme, network=form.cleaned_data["network"])
    return admin_page(
        model_admin,
        request,
        "admin/matching/cohort.html",
        title=f"Cohort matching: {scheme}",
        form=form,
        scheme=scheme,
        preview=preview,
    )


class ManualPairingForm(forms.Form):
    """A coordinator pairs two members by hand; choices are the members of their own networks."""

    scheme = forms.ModelChoiceField(queryset=Scheme.objects.all())
    mentee = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    mentor = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    conflicts_checked = forms.BooleanField(
        label="Both have declared any conflict of interest, and none is unmanageable",
        error_messages={"required": "Check the conflict-of-interest declarations before you pair them."},
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentee"].queryset = members.filter(memberships__role=Role.MENTEE).distinct()
        self.fields["mentor"].queryset = members.filter(memberships__role=Role.MENTOR).distinct()


def manual_pairing_view(model_admin, request):
    """Pair a mentee with a mentor by hand (R-MATCH-3), through `pairing_start_manual`."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ManualPairingForm(request.POST or None, members=model_admin.member_choices(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pairing = mentoring_services.pairing_start_manual(
                mentor=data["mentor"],
                mentee=data["mentee"],
                scheme=data["scheme"],
                actor=request.user,
                conflicts_checked=data["conflicts_checked"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            model_admin.message_user(request, f"Started: {pairing}.", messages.SUCCESS)
            return redirect("admin:mentoring_pairing_change", pairing.pk)
    return admin_page(
        model_admin, request, "admin/matching/manual_pairing.html", title="Pair a mentee with a mentor", form=form
    )
