from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from matching import listing, selectors, services
from matching.forms import (
    AcceptForm,
    DeclineForm,
    MenteeProfileForm,
    MentorProfileForm,
    ProposalConfirmForm,
    ProposalDeclineForm,
    ReportForm,
    RequestForm,
    SearchForm,
)
from matching.models import MenteeProfile, MentorProfile
from mentoring.models import Role, Scheme, SchemeMembership
from mentoring.selectors import active_mentee_count, mentor_limit_message
from safeguarding import concerns, eligible_table
from safeguarding.forms import ConcernForm
from safeguarding.models import Concern

DISCLAIMERS = (
    "The institution has not verified any member's mentoring skills or experience (terms 3.4).",
    "Any advice is taken at your own risk; mentors give it in good faith (terms 3.6, 6.1, 6.2).",
)


def bound(request, form_class, **kwargs):
    return form_class(request.POST if request.method == "POST" else None, **kwargs)


def mentee_scheme(request) -> Scheme | None:
    """The scheme the member is searching in: ?scheme=slug among their mentee schemes, else their first."""
    schemes = selectors.mentee_schemes(request.user)
    slug = request.GET.get("scheme")
    if slug:
        return get_object_or_404(schemes, slug=slug)
    return schemes.first()


@login_required
def mentor_profile_edit(request):
    profile = MentorProfile.objects.filter(user=request.user).first() or MentorProfile(
        user=request.user, country=request.user.country
    )
    form = bound(request, MentorProfileForm, instance=profile)
    if not profile.pk:
        form.initial.setdefault("languages", list(request.user.languages.values_list("pk", flat=True)))
    if request.method == "POST" and form.is_valid():
        try:
            services.mentor_profile_save(
                profile=form.save(commit=False),
                expertise=form.cleaned_data["expertise"],
                languages=form.cleaned_data["languages"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your profile is saved. A coordinator approves new text before it is listed.")
            return redirect("mentor_profile_edit")
    return render(
        request, "matching/mentor_profile_form.html", {"form": form, "profile": profile, "title": "Your mentor profile"}
    )


@login_required
def mentee_goals_edit(request):
    profile = MenteeProfile.objects.filter(user=request.user).first() or MenteeProfile(user=request.user)
    form = bound(request, MenteeProfileForm, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.mentee_profile_save(profile=form.save(commit=False), expertise=form.cleaned_data["expertise"])
        messages.success(request, "Your goals are saved.")
        return redirect("mentor_list")
    return render(request, "matching/mentee_goals_form.html", {"form": form, "title": "Your goals"})


@login_required
def mentor_list(request):
    """Search listed mentors, with ranked suggestions first (R-MATCH-1).

    A fixed, small number of queries whatever the number of mentors: the member's schemes with
    their memberships and whether the eligibility table holds them (the engine's reasons only when it does
    not), their goals, the ranking, and the page with its count (tests/matching/test_search.py holds it
    to 10 with the site's own bell and badges).
    """
    memberships = list(
        SchemeMembership.objects.filter(user=request.user, role=Role.MENTEE)
        .select_related("scheme", "eligible_row")
        .order_by("scheme__name")
    )
    context = {"title": "Find a mentor", "schemes": [m.scheme for m in memberships]}
    if not memberships:
        return render(request, "matching/mentor_list.html", context | {"scheme": None})
    slug = request.GET.get("scheme")
    membership = next((m for m in memberships if m.scheme.slug == slug), None) if slug else memberships[0]
    if membership is None:
        raise Http404("You are not a mentee in that scheme.")
    scheme = membership.scheme
    membership.user = request.user
    check = eligible_table.check_membership(membership)
    form = SearchForm(request.GET or None, names=listing.names())
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {k: v for k, v in filters.items() if v}
    page = listing.page_of(
        selectors.mentor_search(scheme, **filters), request.GET.get("page"), scheme=None if filters else scheme
    )
    goals = selectors.mentee_goals(request.user, scheme)
    at_limit = goals.active_mentors >= scheme.max_mentors_per_mentee
    suggest = check.ok and not filters and not at_limit and goals.needs is not None
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        scheme=scheme,
        at_limit_message=mentor_limit_message(scheme) if at_limit else "",
        eligibility=check,
        form=form,
        page=page,
        cards=selectors.mentor_cards(page),
        query=query.urlencode(),
        suggestions=selectors.suggestions_for(request.user, scheme, needs=goals.needs) if suggest else [],
        has_goals=goals.needs is not None,
    )
    return render(request, "matching/mentor_list.html", context)


@login_required
def mentor_detail(request, pk: int):
    profile = selectors.access_mentor_profile(request.user, pk)
    scheme = mentee_scheme(request)
    return render(
        request,
        "matching/mentor_detail.html",
        {
            "profile": profile,
            "scheme": scheme,
            "title": f"{profile.user.first_name}, {profile.role_title}",
            "disclaimers": DISCLAIMERS,
            "report_form": ReportForm(),
            "free_places": profile.capacity - active_mentee_count(profile.user),
        },
    )


@login_required
def profile_report(request, pk: int):
    profile = selectors.access_mentor_profile(request.user, pk)
    form = bound(request, ReportForm)
    if request.method == "POST" and form.is_valid():
        services.profile_report(profile=profile, reporter=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "Thank you. A coordinator will look at this profile.")
        return redirect("mentor_detail", pk=pk)
    return render(
        request,
        "matching/profile_report.html",
        {"form": form, "profile": profile, "title": "Report a profile"},
        status=400 if form.errors else 200,
    )


@login_required
def profile_concern(request, pk: int):
    """Raise a safeguarding concern about a profile's mentor (R-SAFE-1): the concern form with the person fixed.
    Only someone who may read the profile reaches it (anyone else: 404)."""
    profile = selectors.access_mentor_profile(request.user, pk)
    if profile.user_id == request.user.pk:
        raise Http404("No such mentor.")
    form = ConcernForm(request.POST if request.method == "POST" else None, user=request.user, fixed_person=profile.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concern = concerns.concern_raise(
                reporter=request.user,
                what_happened=data["what_happened"],
                immediate_risk=data["immediate_risk"] == "yes",
                happened_on=data["happened_on"],
                person=profile.user,
                source=Concern.Source.PROFILE,
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, concerns.receipt_text(concern))
            return redirect("concern_received")
    context = {
        "title": f"Raise a safeguarding concern about {profile.user.first_name}",
        "form": form,
        "profile": profile,
        "safeguarding_email": settings.SAFEGUARDING_EMAIL,
    }
    return render(request, "safeguarding/concern_new.html", context, status=400 if form.is_bound else 200)


@login_required
def request_create(request, pk: int):
    profile = selectors.access_mentor_profile(request.user, pk)
    scheme = mentee_scheme(request)
    if scheme is None:
        raise Http404("You are not a mentee in any scheme.")
    form = bound(request, RequestForm)
    status = 200
    if request.method == "POST" and form.is_valid():
        declaration = form.declaration()
        try:
            if services.declaration_blocks(declaration):
                services.conflict_block_request(
                    mentee=request.user, profile=profile, scheme=scheme, declaration=declaration
                )
                messages.error(
                    request,
                    "An unmanageable conflict of interest means you cannot ask this mentor. "
                    "Your coordinator has been told and can help you find another.",
                )
                return redirect("mentor_list")
            mentorship_request = services.request_send(
                mentee=request.user,
                profile=profile,
                scheme=scheme,
                message=form.cleaned_data["message"],
                declaration=declaration,
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 400
        else:
            messages.success(request, f"Your request is with {profile.user.first_name}.")
            return redirect("request_detail", pk=mentorship_request.pk)
    elif form.errors:
        status = 400
    return render(
        request,
        "matching/request_form.html",
        {"form": form, "profile": profile, "scheme": scheme, "title": f"Ask {profile.user.first_name} to mentor you"},
        status=status,
    )


@login_required
def request_detail(request, pk: int):
    mentorship_request = selectors.access_request(request.user, pk)
    is_mentor = mentorship_request.mentor_id == request.user.pk
    goals = MenteeProfile.objects.filter(user=mentorship_request.mentee).first() if is_mentor else None
    return render(
        request,
        "matching/request_detail.html",
        {
            "req": mentorship_request,
            "is_mentor": is_mentor,
            "goals": goals,
            "accept_form": AcceptForm(),
            "decline_form": DeclineForm(),
            "title": "Mentoring request",
        },
    )


def _answer(request, pk: int, form_class, act):
    mentorship_request = selectors.access_request(request.user, pk, as_role=Role.MENTOR)
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("request_detail", pk=pk)
    try:
        outcome = act(mentorship_request, form)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("request_detail", pk=pk)
    return outcome


@login_required
@require_POST
def request_accept(request, pk: int):
    def act(mentorship_request, form):
        pairing = services.request_accept(
            request_id=mentorship_request.pk, mentor=request.user, declaration=form.declaration()
        )
        if pairing is None:
            messages.warning(
                request,
                "Because of the conflict you declared, the request is declined and the coordinator has been told.",
            )
            return redirect("mentoring_home")
        messages.success(request, f"You are now mentoring {pairing.mentee.first_name}.")
        return redirect("pairing_detail", pk=pairing.pk)

    return _answer(request, pk, AcceptForm, act)


@login_required
@require_POST
def request_decline(request, pk: int):
    def act(mentorship_request, form):
        services.request_decline(
            request_id=mentorship_request.pk,
            mentor=request.user,
            reason=form.cleaned_data["reason"],
            refer=form.cleaned_data["refer"],
        )
        messages.success(request, "The mentee has been told.")
        return redirect("mentoring_home")

    return _answer(request, pk, DeclineForm, act)


@login_required
@require_POST
def request_withdraw(request, pk: int):
    mentorship_request = selectors.access_request(request.user, pk, as_role=Role.MENTEE)
    try:
        services.request_withdraw(request_id=mentorship_request.pk, mentee=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your request is withdrawn.")
    return redirect("mentoring_home")


# --- Pairings a coordinator proposed: each member declares and confirms, or declines (R-MATCH-3, R-MATCH-5) ---


@login_required
def proposal_detail(request, pk: int):
    proposal = selectors.access_proposal(request.user, pk)
    is_mentor = proposal.mentor_id == request.user.pk
    partner = proposal.mentee if is_mentor else proposal.mentor
    return render(
        request,
        "matching/proposal_detail.html",
        {
            "proposal": proposal,
            "is_mentor": is_mentor,
            "partner": partner,
            "goals": MenteeProfile.objects.filter(user=proposal.mentee).first() if is_mentor else None,
            "mentor_profile": None if is_mentor else MentorProfile.objects.filter(user=proposal.mentor).first(),
            "confirmed": proposal.confirmed_by(request.user),
            "confirm_form": ProposalConfirmForm(),
            "decline_form": ProposalDeclineForm(),
            "title": "A pairing your coordinator proposes",
        },
    )


def _answer_proposal(request, pk: int, form_class, act):
    proposal = selectors.access_proposal(request.user, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("proposal_detail", pk=pk)
    try:
        act(proposal, form)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("proposal_detail", pk=pk)


@login_required
@require_POST
def proposal_confirm(request, pk: int):
    def act(proposal, form):
        proposal = services.proposal_confirm(
            proposal_id=proposal.pk, member=request.user, declaration=form.declaration()
        )
        if proposal.status == proposal.Status.STARTED:
            messages.success(request, "You have both confirmed: the pairing has started.")
        elif proposal.status == proposal.Status.DECLINED:
            messages.warning(
                request,
                "Because of the conflict you declared, the pairing will not go ahead; the coordinator has been told.",
            )
        elif proposal.status == proposal.Status.LAPSED:
            messages.warning(request, "The pairing could not start after all; your coordinator has been told why.")
        else:
            messages.success(request, "Thank you. The pairing starts when the other member confirms too.")

    return _answer_proposal(request, pk, ProposalConfirmForm, act)


@login_required
@require_POST
def proposal_decline(request, pk: int):
    def act(proposal, form):
        services.proposal_decline(proposal_id=proposal.pk, member=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "You declined. The other member and your coordinator have been told.")

    return _answer_proposal(request, pk, ProposalDeclineForm, act)
