"""Admin pages for pairing: by hand and by cohort (R-MATCH-3). Both propose pairings through services that check
the person acting; a pairing starts only when both members have declared any conflict of interest and
confirmed (R-MATCH-5, R-MATCH-8)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html

from accounts.fields import SafeModelChoiceField
from matching import selectors, services
from matching.suggest import FIT_SCALE
from mentoring import permissions
from mentoring.admin_scoping import LARGEST_ID, admin_page
from mentoring.models import LocalNetwork, Role, Scheme, SchemeMembership


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """ "1 pairing", "3 pairings": a count with its noun in the right number."""
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


class CohortForm(forms.Form):
    network = SafeModelChoiceField(
        queryset=LocalNetwork.objects.none(), required=False, empty_label="Every Local Network", label="Local Network"
    )


def cohort_view(model_admin, request, pk: int):
    """Preview the cohort's pairs with their fit and reasons; the coordinator drops any pair, then confirms to
    propose the rest to the members (R-MATCH-3, R-MATCH-5)."""
    if not model_admin.has_cohort_permission(request):
        raise PermissionDenied
    scheme = get_object_or_404(Scheme, pk=pk)
    networks = model_admin.network_choices(request)
    own = networks.filter(pk__in=permissions.coordinated_network_ids(request.user)).order_by("name", "pk").first()
    form = CohortForm(request.GET or None, initial={"network": own})
    form.fields["network"].queryset = networks
    form.fields["network"].required = permissions.coordinator_only(request.user)
    if request.method == "POST":
        try:
            proposed, skipped = services.cohort_confirm(
                token=request.POST.get("token", ""), actor=request.user, drop=request.POST.getlist("drop")
            )
        except ValidationError as error:
            model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            model_admin.message_user(
                request,
                f"Proposed {counted(len(proposed), 'pairing')}. Each starts once both members have declared any "
                "conflict of interest and confirmed.",
                messages.SUCCESS,
            )
            for reason in skipped:
                model_admin.message_user(request, f"Skipped {reason}", messages.WARNING)
            return redirect("admin:matching_pairingproposal_changelist")
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
        fit_scale=FIT_SCALE,
        pairs_count=counted(len(preview.pairs), "pairing") if preview else "",
        waiting_count=counted(len(preview.unmatched), "mentee") if preview else "",
    )


class WaitingMenteeField(SafeModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.user.get_full_name()} ({obj.scheme}, {obj.network})"


class ManualPairingForm(forms.Form):
    """A coordinator proposes a mentor for a waiting, eligible mentee of their networks; the mentor must be a
    listed mentor of the mentee's network with a free place."""

    mentee = WaitingMenteeField(
        queryset=SchemeMembership.objects.none(),
        label="Waiting mentee",
        empty_label="Choose a mentee",
        error_messages={
            "required": "Choose the mentee to pair.",
            "invalid_choice": "That mentee is not waiting and eligible in your networks.",
        },
    )
    mentor = SafeModelChoiceField(
        queryset=get_user_model().objects.filter(memberships__role=Role.MENTOR).distinct(),
        label="Mentor",
        error_messages={
            "required": "Choose a mentor from the list.",
            "invalid_choice": "Choose a mentor from the list.",
        },
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentee"].queryset = choices

    def clean(self):
        cleaned = super().clean()
        membership, mentor = cleaned.get("mentee"), cleaned.get("mentor")
        if (
            membership is not None
            and mentor is not None
            and not selectors.mentor_may_be_proposed(membership, mentor.pk)
        ):
            self.add_error(
                "mentor",
                f"{mentor.get_full_name()} is not a listed mentor of {membership.network} in {membership.scheme} "
                "with a free place.",
            )
        return cleaned


def _chosen_membership(request, choices) -> tuple[SchemeMembership | None, str]:
    """The waiting mentee named by ?mentee=: one of `choices`; a waiting mentee of the viewer's networks who may
    not be paired now comes with the reason instead; anyone else (another network's, no such id) is a 404."""
    raw = request.GET.get("mentee", "")
    if not raw:
        return None, ""
    if not raw.isdigit() or int(raw) > LARGEST_ID:
        raise Http404("No such mentee.")
    membership = choices.filter(pk=int(raw)).first()
    if membership is not None:
        return membership, ""
    waiting = selectors.unmatched_mentees()
    if permissions.coordinator_only(request.user):
        waiting = waiting.filter(network_id__in=permissions.coordinated_network_ids(request.user))
    other = get_object_or_404(waiting, pk=int(raw))
    return None, selectors.why_not_to_pair(other, request.user)


def manual_pairing_view(model_admin, request):
    """Propose a mentor for a waiting mentee (R-MATCH-3): choose the mentee, then one of the mentors of their
    network with a free place, ranked by fit with the reasons. Both members then confirm (R-MATCH-5)."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    choices = selectors.waiting_mentees_to_pair(request.user).select_related("user", "scheme", "network")
    form = ManualPairingForm(request.POST or None, choices=choices)
    membership, not_now = None, ""
    if request.method == "POST":
        if form.is_valid():
            membership, mentor = form.cleaned_data["mentee"], form.cleaned_data["mentor"]
            try:
                proposal = services.proposal_create(
                    scheme=membership.scheme, mentee=membership.user, mentor=mentor, actor=request.user
                )
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                model_admin.message_user(
                    request,
                    f"Proposed: {membership.user.get_full_name()} with {mentor.get_full_name()}. Both are asked to "
                    "declare any conflict of interest and confirm; the pairing starts when both have.",
                    messages.SUCCESS,
                )
                return redirect("admin:matching_pairingproposal_change", proposal.pk)
        else:
            membership = form.cleaned_data.get("mentee")
    else:
        membership, not_now = _chosen_membership(request, choices)
        if membership is not None:
            form = ManualPairingForm(initial={"mentee": membership.pk}, choices=choices)
    ranked = selectors.mentors_to_propose(membership) if membership is not None else []
    return admin_page(
        model_admin,
        request,
        "admin/matching/manual_pairing.html",
        title="Find a mentor for a waiting mentee",
        form=form,
        membership=membership,
        not_now=not_now,
        ranked=ranked,
        fit_scale=FIT_SCALE,
        chosen_mentor=str(form["mentor"].value() or ""),
    )


@admin.display(description="find a mentor")
def find_a_mentor_link(membership) -> str:
    """A link from the waiting list to the mentors ranked for this mentee (R-COORD-2, R-MATCH-3)."""
    url = reverse("admin:mentoring_pairing_add") + f"?mentee={membership.pk}"
    return format_html(
        '<a href="{}">Find a mentor<span class="visually-hidden"> for {}</span></a>', url, membership.user
    )
