"""Suspend the member a concern is about, and lift it, from the Safeguarding Lead's case page (R-SAFE-2).

Views of the mentoring app because the service is (mentoring/suspension.py); the case page is safeguarding's.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.two_factor import two_factor_setup
from mentoring import suspension
from safeguarding.forms import LiftForm, SuspendForm
from safeguarding.views import LEAD_PAGES, concern_page, lead_concern


@login_required
@require_POST
def concern_member_suspend(request, pk: int):
    """Suspend the person concern `pk` is about, at once. A Lead who may handle the concern; anyone else: 404."""
    concern = lead_concern(request, pk)
    if concern is None:
        return two_factor_setup(request, LEAD_PAGES)
    form = SuspendForm(request.POST, prefix="suspend")
    if form.is_valid():
        if concern.person is None:
            form.add_error(None, "This concern names nobody on the platform, so there is no one to suspend.")
        else:
            try:
                suspension.member_suspend(member=concern.person, actor=request.user, concern=concern)
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                messages.success(
                    request,
                    f"{concern.person.get_full_name()} is suspended: their pairings are paused, their messages "
                    "stop and their profile is unlisted. They and their partners were told in neutral words.",
                )
                return redirect(concern)
    return concern_page(request, concern, status=400, suspend_form=form)


@login_required
@require_POST
def concern_suspension_lift(request, pk: int):
    """Lift the suspension of the person concern `pk` is about. A Lead who may handle the concern; anyone else: 404."""
    concern = lead_concern(request, pk)
    if concern is None:
        return two_factor_setup(request, LEAD_PAGES)
    form = LiftForm(request.POST, prefix="lift")
    if form.is_valid():
        if concern.person is None:
            form.add_error(None, "This concern names nobody on the platform.")
        else:
            try:
                suspension.member_suspension_lift(member=concern.person, actor=request.user)
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                messages.success(request, f"The suspension of {concern.person.get_full_name()} is lifted.")
                return redirect(concern)
    return concern_page(request, concern, status=400, lift_form=form)
