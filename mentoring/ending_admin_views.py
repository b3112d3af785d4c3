"""Admin pages that end a pairing and withdraw a membership, each with a reason (R-PAIR-5, R-PAIR-7).

Both call the same services as the members' pages; the services check the person acting again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect

from mentoring import ending
from mentoring.admin_scoping import admin_page
from mentoring.ending_forms import AdminPairingEndForm, AdminWithdrawForm
from mentoring.models import Pairing, SchemeMembership


def pairing_end_view(model_admin, request, pk: int):
    """A coordinator of the pairing's network, or staff, ends it with a reason."""
    if not model_admin.has_end_permission(request):
        raise PermissionDenied
    pairing = model_admin.get_object(request, str(pk))
    if pairing is None:
        raise Http404("No pairing with that id.")  # another network's pairing is simply not found
    form = AdminPairingEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ending.pairing_end(
                pairing_id=pairing.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            model_admin.message_user(request, f"Ended: {pairing}. Both members were told.", messages.SUCCESS)
            return redirect("admin:mentoring_pairing_change", pairing.pk)
    return admin_page(
        model_admin,
        request,
        "admin/mentoring/pairing_end.html",
        title=f"End the pairing: {pairing}",
        form=form,
        pairing=pairing,
        ended=pairing.status == Pairing.Status.ENDED,
    )


def membership_withdraw_view(model_admin, request, pk: int):
    """Staff withdraw a member from a scheme in one role, with a reason."""
    if not model_admin.has_withdraw_permission(request):
        raise PermissionDenied
    membership = model_admin.get_object(request, str(pk))
    if membership is None:
        raise Http404("No membership with that id.")
    form = AdminWithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ending.membership_withdraw(
                membership_id=membership.pk, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            model_admin.message_user(request, f"Withdrawn: {membership}.", messages.SUCCESS)
            return redirect("admin:mentoring_schememembership_change", membership.pk)
    return admin_page(
        model_admin,
        request,
        "admin/mentoring/membership_withdraw.html",
        title=f"Withdraw {membership}",
        form=form,
        membership=membership,
        withdrawn=membership.status == SchemeMembership.Status.WITHDRAWN,
    )
