from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from matching import selectors as matching_selectors
from matching.models import MenteeProfile, MentorProfile, MentorshipRequest
from mentoring import ending_selectors, meetings, selectors, services
from mentoring.agreement import agreement_state, goals_for_pairing
from mentoring.forms import DocumentsAcceptForm, SchemeJoinForm
from mentoring.models import DocumentKind, Pairing, Role, Scheme, SchemeMembership, TermsVersion
from mentoring.pairing_home import pairing_next_step
from messaging import selectors as messaging_selectors
from messaging.models import Conversation


def home(request):
    schemes = Scheme.objects.filter(is_open=True)
    return render(request, "mentoring/home.html", {"schemes": schemes, "title": "Find a mentor, or become one"})


@login_required
def onboarding(request):
    """The checklist per scheme and role: what is met, what is not, and how to fix it (R-ELIG-6)."""
    checklists = selectors.onboarding_checklists(request.user)
    return render(
        request, "mentoring/onboarding.html", {"checklists": checklists, "title": "Your onboarding checklist"}
    )


@login_required
def scheme_join(request):
    form = SchemeJoinForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.memberships_join(
                user=request.user, scheme=data["scheme"], roles=data["roles"], network=data["network"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"You have joined {form.cleaned_data['scheme']}.")
            return redirect("onboarding")
    return render(request, "mentoring/scheme_join.html", {"form": form, "title": "Join a scheme"})


@login_required
def documents_accept(request):
    versions = selectors.versions_awaiting_acceptance(request.user)
    form = DocumentsAcceptForm(request.POST if request.method == "POST" else None, versions=versions)
    if request.method == "POST" and versions and form.is_valid():
        services.terms_accept(user=request.user, versions=versions)
        messages.success(request, "Thank you: your acceptance is recorded.")
        return redirect("onboarding")
    return render(
        request,
        "mentoring/documents_accept.html",
        {"form": form, "versions": versions, "title": "Accept the scheme documents"},
    )


def document_detail(request, kind: str):
    """The current published version of a scheme document, readable by anyone (R-SAFE-5)."""
    if kind not in DocumentKind.values:
        raise Http404("No such document.")
    version = TermsVersion.objects.current().filter(kind=kind).first()
    if version is None:
        raise Http404("This document has not been published yet.")
    return render(request, "mentoring/document_detail.html", {"version": version, "title": version.title})


@login_required
def mentoring_home(request):
    """Where the member stands: waiting or paired as a mentee, requests and pairings as a mentor (R-MATCH-4)."""
    user = request.user
    context = {
        "title": "My mentoring",
        "waiting": matching_selectors.waiting_states(user),
        "mentor_memberships": SchemeMembership.objects.filter(user=user, role=Role.MENTOR).select_related("scheme"),
        "profile": MentorProfile.objects.filter(user=user).first(),
        "goals": MenteeProfile.objects.filter(user=user).first(),
        "received": MentorshipRequest.objects.for_mentor(user).pending().select_related("mentee", "scheme"),
        "proposals": matching_selectors.open_proposals_for(user),
        "sent": MentorshipRequest.objects.for_mentee(user).select_related("mentor", "scheme")[:10],
        "pairings": [
            (pairing, pairing_next_step(pairing, user))
            for pairing in Pairing.objects.visible_to(user).select_related("mentor", "mentee", "scheme")
        ],
        # Each conversation's last message and unread count, kept live by notifications.js (issue 8).
        "conversations": messaging_selectors.inbox_for(user),
    }
    return render(request, "mentoring/mentoring_home.html", context)


@login_required
def pairing_detail(request, pk: int):
    """The pair's home: the partner's public profile, and what the pairing needs next (R-PAIR-1 to R-PAIR-5)."""
    pairing = selectors.access_pairing(request.user, pk)
    partner_is_mentor = pairing.mentor_id != request.user.pk
    partner = pairing.mentor if partner_is_mentor else pairing.mentee
    return render(
        request,
        "mentoring/pairing_detail.html",
        {
            "pairing": pairing,
            "partner": partner,
            "partner_is_mentor": partner_is_mentor,
            # What the partner shows every mentee (a mentor) or what they want to accomplish (a mentee).
            "partner_profile": (
                MentorProfile.objects.filter(user=partner).select_related("sector").first()
                if partner_is_mentor
                else MenteeProfile.objects.filter(user=partner).first()
            ),
            "title": f"Pairing with {partner.first_name}",
            # Contact details only where the scheme shares them on match (R-PROFILE-2).
            "show_contact": pairing.scheme.shares_contact_details,
            "agreement": agreement_state(pairing, request.user),
            "goals": goals_for_pairing(pairing),
            "ending": ending_selectors.ending_for_pairing(pairing, request.user),
            "feedback_asked": ending_selectors.feedback_asked(pairing, request.user),
            "meetings": meetings.meetings_for_pairing(pairing, request.user),
            "conversation": Conversation.objects.filter(pairing=pairing).first(),  # issue 8
        },
    )


@login_required
@require_POST
def pairing_rematch(request, pk: int):
    pairing = selectors.access_pairing(request.user, pk)
    try:
        if pairing.mentee_id != request.user.pk:
            raise Http404("No such pairing.")
        services.rematch_request(pairing_id=pairing.pk, mentee=request.user, note=request.POST.get("note", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your coordinator has been asked to find you another mentor.")
    return redirect("mentoring_home")
