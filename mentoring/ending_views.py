"""Pages for ending a pairing, the feedback survey, and pausing or withdrawing (R-PAIR-4, R-PAIR-5, R-PAIR-7)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mentoring import ending, ending_selectors, selectors
from mentoring.ending_forms import FeedbackForm, PairingEndForm, WithdrawForm
from mentoring.models import Feedback, Pairing, SchemeMembership


def _partner(pairing, user):
    return pairing.mentee if pairing.mentor_id == user.pk else pairing.mentor


@login_required
def pairing_end(request, pk: int):
    """The End of Pairing form: a reason, comments, and a confirmation."""
    pairing = selectors.access_pairing(request.user, pk)
    form = PairingEndForm(request.POST if request.method == "POST" else None)
    ended = pairing.status == Pairing.Status.ENDED
    if request.method == "POST" and form.is_valid():
        try:
            ending.pairing_end(
                pairing_id=pairing.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"The pairing has ended. {_partner(pairing, request.user).first_name} has been told."
            )
            return redirect("pairing_detail", pairing.pk)
    context = {
        "pairing": pairing,
        "partner": _partner(pairing, request.user),
        "form": form,
        "ended": ended,
        "title": "End the pairing",
    }
    return render(request, "mentoring/ending_form.html", context, status=400 if form.errors else 200)


@login_required
def pairing_feedback(request, pk: int, stage: str):
    """The short survey: a rating from 1 to 5 and comments, once per stage."""
    pairing = selectors.access_pairing(request.user, pk)
    if stage not in Feedback.Stage.values:
        raise Http404("No such survey.")
    asked = {a["stage"]: a for a in ending_selectors.feedback_asked(pairing, request.user)}.get(stage)
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ending.feedback_give(
                pairing_id=pairing.pk,
                member=request.user,
                stage=stage,
                rating=form.cleaned_data["rating"],
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Thank you for your feedback.")
            return redirect("pairing_detail", pairing.pk)
    context = {
        "pairing": pairing,
        "partner": _partner(pairing, request.user),
        "stage_label": Feedback.Stage(stage).label,
        "asked": asked,
        "form": form,
        "title": "Feedback on your mentoring",
    }
    return render(request, "mentoring/feedback_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def membership_pause(request, pk: int):
    membership = ending_selectors.own_membership(request.user, pk)
    try:
        ending.membership_pause(membership_id=membership.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"You have paused as a {membership.get_role_display().lower()} in {membership.scheme}. "
            "Your pairings go on; you will not be listed or sent new requests until you resume.",
        )
    return redirect("mentoring_home")


@login_required
@require_POST
def membership_resume(request, pk: int):
    membership = ending_selectors.own_membership(request.user, pk)
    try:
        membership = ending.membership_resume(membership_id=membership.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if membership.status == SchemeMembership.Status.ACTIVE:
            messages.success(request, f"Welcome back: you are taking part in {membership.scheme} again.")
        else:
            messages.warning(request, "You have resumed, but something needs doing first: see your checklist.")
            return redirect("onboarding")
    return redirect("mentoring_home")


@login_required
def membership_withdraw(request, pk: int):
    """The confirm page explains what withdrawing does; POST withdraws."""
    membership = ending_selectors.own_membership(request.user, pk)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ending.membership_withdraw(
                membership_id=membership.pk, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"You have withdrawn from {membership.scheme}.")
            return redirect("mentoring_home")
    side = {"mentor": request.user} if membership.role == "mentor" else {"mentee": request.user}
    pairings = Pairing.objects.active().filter(scheme=membership.scheme, **side).select_related("mentor", "mentee")
    context = {
        "membership": membership,
        "pairings": pairings,
        "form": form,
        "withdrawn": membership.status == SchemeMembership.Status.WITHDRAWN,
        "title": f"Withdraw from {membership.scheme}",
    }
    return render(request, "mentoring/membership_withdraw.html", context, status=400 if form.errors else 200)
