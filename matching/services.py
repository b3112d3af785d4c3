"""Profiles, requests, conflict declarations and cohort runs: the only writers in matching/.

Services that a coordinator or staff member calls take the person acting
(`actor`) and check their role and scope themselves.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from matching.listing import listed_profiles, names, offer_of
from matching.models import (
    ApprovedProfileText,
    ConflictBlock,
    ConflictDeclaration,
    MenteeProfile,
    MentorListing,
    MentorProfile,
    MentorshipRequest,
    PairingProposal,
    ProfileReport,
)
from matching.selectors import COHORT_SALT, needs_for
from matching.suggest import explain, score
from mentoring import permissions
from mentoring.models import LocalNetwork, Pairing, Role, Scheme, SchemeMembership
from mentoring.selectors import active_mentee_count, mentor_limit_message, mentor_limit_reached
from mentoring.services import PairingRefused, coordinators_of, pairing_check, pairing_start
from messaging.services import notify, notify_many
from safeguarding import eligibility
from safeguarding.audit import audit

# Profile fields whose change needs a coordinator's approval again (R-PROFILE-3).
REVIEWED_FIELDS = ("role_title", "work_history", "sector_id")


class RequestRefused(ValidationError):
    """A request cannot be sent or answered; the message says why."""


def _mentor_coordinators(profile: MentorProfile) -> set:
    """The coordinators of every network the mentor mentors in."""
    coordinators = set()
    for membership in profile.user.memberships.filter(role=Role.MENTOR).select_related("scheme"):
        coordinators.update(coordinators_of(user=profile.user, scheme=membership.scheme, role=Role.MENTOR))
    return coordinators


@transaction.atomic(durable=True)
def mentor_profile_save(*, profile: MentorProfile, expertise, languages) -> MentorProfile:
    """Save the mentor's own profile. New text goes back to the coordinator for approval."""
    if not SchemeMembership.objects.filter(user=profile.user, role=Role.MENTOR).exists():
        raise ValidationError("Join a scheme as a mentor before you write a mentor profile.")
    previous = MentorProfile.objects.filter(pk=profile.pk).values(*REVIEWED_FIELDS).first() if profile.pk else None
    text_changed = previous is None or any(previous[f] != getattr(profile, f) for f in REVIEWED_FIELDS)
    old_expertise = set(profile.expertise.values_list("pk", flat=True)) if profile.pk else set()
    needs_review = text_changed or old_expertise != {e.pk for e in expertise}
    newly_submitted = needs_review and profile.status != MentorProfile.Status.SUBMITTED
    if needs_review:
        profile.status = MentorProfile.Status.SUBMITTED
        profile.submitted_at = timezone.now()
    profile.full_clean(exclude=["expertise", "languages"])
    profile.save()
    profile.expertise.set(expertise)
    profile.languages.set(languages)
    if newly_submitted:
        notify_many(
            _mentor_coordinators(profile),
            "profile_submitted",
            profile,
            url=f"/admin/matching/mentorprofile/{profile.pk}/change/",
        )
    return profile


@transaction.atomic
def mentor_profile_review(*, profile_id: int, approve: bool, note: str, actor) -> MentorProfile:
    """A coordinator of the mentor's network, or staff, approves a profile for listing or asks for changes
    (R-PROFILE-3). Approving publishes it, so the engine must find the mentor eligible in at least one
    scheme they mentor in (R-ELIG-6)."""
    profile = MentorProfile.objects.select_for_update(of=("self",)).select_related("user").get(pk=profile_id)
    permissions.require(
        permissions.covers_member(actor, profile.user, role=Role.MENTOR),
        "You can review only the profiles of mentors in your networks.",
    )
    note = note.strip()
    if approve:
        memberships = SchemeMembership.objects.filter(user=profile.user, role=Role.MENTOR).select_related("scheme")
        checks = [eligibility.check(profile.user, m.scheme, Role.MENTOR, membership=m) for m in memberships]
        if not any(c.ok for c in checks):
            # The coordinator reads the reasons, but never the mentor's DBS data (R-SAFE-3).
            reasons = sorted({reason for check in checks for reason in check.reasons_for(actor)})
            raise ValidationError(
                f"{profile.user.get_full_name()} cannot be listed yet: "
                + (" ".join(reasons) or "no mentor membership.")
            )
    elif not note:
        raise ValidationError("Say what the mentor should change.")
    profile.status = MentorProfile.Status.APPROVED if approve else MentorProfile.Status.CHANGES_REQUESTED
    profile.review_note = note
    profile.reviewed_by = actor
    profile.reviewed_at = timezone.now()
    profile.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    if approve:
        _approved_text_keep(profile, actor)
    audit(
        actor=actor,
        action="profile.approved" if approve else "profile.changes_requested",
        target_user=profile.user,
        obj=profile,
        note=note,
    )
    body = "It is now listed for mentees." if approve else f"Your coordinator asks for changes: {note}"
    notify(profile.user, "profile_reviewed", profile, body=body, url="/mentoring/profile/")
    return profile


def _approved_text_keep(profile: MentorProfile, actor) -> None:
    """Copy the text just approved, so the next change is shown beside it (R-COORD-2)."""
    ApprovedProfileText.objects.update_or_create(
        profile=profile,
        defaults={
            "role_title": profile.role_title,
            "work_history": profile.work_history,
            "sector": profile.sector.name,
            "expertise": "\n".join(profile.expertise.order_by("name").values_list("name", flat=True)),
            "approved_by": actor,
            "approved_at": profile.reviewed_at,
        },
    )


@transaction.atomic
def mentor_profile_note_save(*, profile_id: int, note: str, actor) -> MentorProfile:
    """A coordinator of the mentor's network, or staff, writes the note that asking for changes will send."""
    profile = MentorProfile.objects.select_for_update(of=("self",)).select_related("user").get(pk=profile_id)
    permissions.require(
        permissions.covers_member(actor, profile.user, role=Role.MENTOR),
        "You can review only the profiles of mentors in your networks.",
    )
    profile.review_note = note.strip()
    profile.save(update_fields=["review_note", "updated_at"])
    return profile


@transaction.atomic(durable=True)
def mentee_profile_save(*, profile: MenteeProfile, expertise) -> MenteeProfile:
    profile.full_clean(exclude=["expertise"])
    profile.save()
    profile.expertise.set(expertise)
    return profile


@transaction.atomic(durable=True)
def profile_report(*, profile: MentorProfile, reporter, reason: str) -> ProfileReport:
    """Anyone signed in may report a profile; the mentor's coordinators are told (R-PROFILE-3)."""
    if not reason.strip():
        raise ValidationError("Say what is wrong with the profile.")
    report = ProfileReport.objects.create(profile=profile, reporter=reporter, reason=reason.strip())
    notify_many(
        _mentor_coordinators(profile),
        "profile_reported",
        profile,
        body=reason[:300],
        url=f"/admin/matching/profilereport/{report.pk}/change/",
    )
    return report


@transaction.atomic
def profile_report_resolve(*, report_id: int, resolution: str, actor) -> ProfileReport:
    """A coordinator of the mentor's network, or staff, closes a report with what was done; audited."""
    report = ProfileReport.objects.select_for_update(of=("self",)).select_related("profile__user").get(pk=report_id)
    permissions.require(
        permissions.covers_member(actor, report.profile.user, role=Role.MENTOR),
        "You can resolve only reports on mentors in your networks.",
    )
    if report.status == ProfileReport.Status.RESOLVED:
        raise ValidationError("This report is already resolved.")
    if not resolution.strip():
        raise ValidationError("Say how the report was resolved.")
    report.status = ProfileReport.Status.RESOLVED
    report.resolution = resolution.strip()
    report.resolved_by = actor
    report.save(update_fields=["status", "resolution", "resolved_by"])
    audit(
        actor=actor,
        action="profile_report.resolved",
        target_user=report.profile.user,
        obj=report,
        resolution=report.resolution,
    )
    return report


def _declare(request: MentorshipRequest | None, who, declaration: dict, *, proposal=None) -> ConflictDeclaration:
    return ConflictDeclaration.objects.create(
        request=request,
        proposal=proposal,
        declared_by=who,
        kind=declaration.get("kind", ConflictDeclaration.Kind.NONE),
        details=declaration.get("details", ""),
        manageable=declaration.get("manageable", True),
    )


def _record_conflict_block(
    *, mentee, mentor, scheme, declared_by, declaration: dict, request=None, proposal=None
) -> ConflictBlock:
    """Keep the block as a row (R-MATCH-5) and tell the mentee's coordinators."""
    block = ConflictBlock.objects.create(
        scheme=scheme,
        mentee=mentee,
        mentor=mentor,
        declared_by=declared_by,
        request=request,
        proposal=proposal,
        kind=declaration["kind"],
        details=declaration.get("details", ""),
    )
    body = (
        f"{declared_by.get_full_name()} declared an unmanageable conflict of interest ({block.get_kind_display()}) "
        f"between mentee {mentee.get_full_name()} and mentor {mentor.get_full_name()}: {block.details}"
    )
    notify_many(
        coordinators_of(user=mentee, scheme=scheme, role=Role.MENTEE),
        "conflict_blocked",
        body=body,
        url=f"/admin/matching/conflictblock/{block.pk}/change/",
    )
    return block


def declaration_blocks(declaration: dict) -> bool:
    """An unmanageable conflict of interest: the pairing cannot go ahead (R-MATCH-5)."""
    return declaration.get("kind", "none") != ConflictDeclaration.Kind.NONE and not declaration.get("manageable", True)


@transaction.atomic(durable=True)
def conflict_block_request(*, mentee, profile: MentorProfile, scheme: Scheme, declaration: dict) -> ConflictBlock:
    """The mentee declared an unmanageable conflict: no request is sent, the block is kept and the
    coordinator is told (R-MATCH-5)."""
    if not declaration_blocks(declaration):
        raise ValidationError("Only an unmanageable conflict of interest blocks a request.")
    return _record_conflict_block(
        mentee=mentee, mentor=profile.user, scheme=scheme, declared_by=mentee, declaration=declaration
    )


@transaction.atomic(durable=True)
def request_send(
    *, mentee, profile: MentorProfile, scheme: Scheme, message: str, declaration: dict
) -> MentorshipRequest:
    """The mentee asks a listed mentor (R-MATCH-2). Refuses, writing nothing, when any rule says no."""
    # Lock the mentee's membership row: two sends at once cannot both pass the pending-request limit.
    membership = (
        SchemeMembership.objects.select_for_update().filter(user=mentee, scheme=scheme, role=Role.MENTEE).first()
    )
    try:
        eligibility.require(mentee, scheme, Role.MENTEE, membership=membership)
    except eligibility.NotEligible as refused:
        reasons = " ".join(c.reason for c in refused.eligibility.unmet)
        raise RequestRefused("You cannot send requests yet: " + reasons) from refused
    if scheme.closes_on is not None and scheme.closes_on <= timezone.localdate():  # scheme closure (issue 7)
        raise RequestRefused(f"{scheme} closed on {scheme.closes_on:%-d %B %Y} and takes no more requests.")
    if profile.user_id == mentee.pk:
        raise RequestRefused("You cannot ask yourself to be your mentor.")
    if not MenteeProfile.objects.filter(user=mentee).exists():
        raise RequestRefused("Set out your goals first, so the mentor knows what you want to accomplish.")
    if not listed_profiles(scheme).filter(pk=profile.pk).exists():
        raise RequestRefused("This mentor is not listed in this scheme.")
    if profile.availability != MentorProfile.Availability.ACCEPTING:
        raise RequestRefused(f"{profile.user.first_name} has paused and is not taking requests just now.")
    if active_mentee_count(profile.user) >= profile.capacity:
        raise RequestRefused(f"{profile.user.first_name} has no free place just now.")
    if Pairing.objects.active().filter(mentor=profile.user, mentee=mentee, scheme=scheme).exists():
        raise RequestRefused(f"You are already paired with {profile.user.first_name}.")
    if mentor_limit_reached(mentee, scheme):
        raise RequestRefused(mentor_limit_message(scheme))
    pending = MentorshipRequest.objects.pending().filter(mentee=mentee, scheme=scheme)
    if pending.filter(mentor=profile.user).exists():
        raise RequestRefused(f"You have already asked {profile.user.first_name}; wait for their answer.")
    if pending.count() >= scheme.max_pending_requests_per_mentee:
        raise RequestRefused(
            f"You can have {scheme.max_pending_requests_per_mentee} request(s) waiting at a time in {scheme}. "
            "Withdraw one or wait for an answer."
        )
    if not message.strip():
        raise RequestRefused("Write a short message to the mentor.")
    if declaration_blocks(declaration):
        raise RequestRefused("An unmanageable conflict of interest means this pairing cannot go ahead.")
    now = timezone.now()
    request = MentorshipRequest.objects.create(
        scheme=scheme,
        mentee=mentee,
        mentor=profile.user,
        message=message.strip(),
        created_at=now,
        expires_at=now + datetime.timedelta(days=scheme.request_expiry_days),
    )
    _declare(request, mentee, declaration)
    notify(profile.user, "request_received", request, body=message[:300])
    return request


def _locked_pending(request_id: int, **scope) -> MentorshipRequest:
    request = (
        # Lock the request row only: a plain FOR UPDATE over the join would lock the scheme row too
        # and queue every accept in the scheme behind each other.
        MentorshipRequest.objects.select_for_update(of=("self",))
        .select_related("scheme", "mentee", "mentor")
        .filter(pk=request_id, **scope)
        .first()
    )
    if request is None:
        raise MentorshipRequest.DoesNotExist
    if request.status != MentorshipRequest.Status.PENDING:
        raise RequestRefused(f"This request is already {request.get_status_display().lower()}.")
    return request


@transaction.atomic(durable=True)
def request_accept(*, request_id: int, mentor, declaration: dict) -> Pairing | None:
    """The mentor accepts: declares conflicts, then the pairing starts (capacity checked under a lock).

    An unmanageable conflict declines the request instead and tells the coordinator (R-MATCH-5).
    Returns the pairing, or None when a conflict blocked it.
    """
    request = _locked_pending(request_id, mentor=mentor)
    _declare(request, mentor, declaration)
    now = timezone.now()
    if declaration_blocks(declaration):
        request.status = MentorshipRequest.Status.DECLINED
        request.decline_reason = "A conflict of interest means this pairing cannot go ahead."
        request.responded_at = now
        request.save(update_fields=["status", "decline_reason", "responded_at"])
        _record_conflict_block(
            mentee=request.mentee,
            mentor=mentor,
            scheme=request.scheme,
            declared_by=mentor,
            declaration=declaration,
            request=request,
        )
        notify(request.mentee, "request_declined", request, body=request.decline_reason)
        return None
    try:
        pairing = pairing_start(
            mentor=mentor, mentee=request.mentee, scheme=request.scheme, origin=Pairing.Origin.REQUEST, actor=mentor
        )
    except PairingRefused as refused:
        raise RequestRefused(refused.message) from refused
    request.status = MentorshipRequest.Status.ACCEPTED
    request.responded_at = now
    request.pairing = pairing
    request.save(update_fields=["status", "responded_at", "pairing"])
    notify(request.mentee, "request_accepted", request, url=pairing.get_absolute_url())
    return pairing


@transaction.atomic(durable=True)
def request_decline(*, request_id: int, mentor, reason: str, refer: bool = False) -> MentorshipRequest:
    """The mentor declines with a reason, or refers the mentee back to their coordinator (R-MATCH-6)."""
    request = _locked_pending(request_id, mentor=mentor)
    if not reason.strip():
        raise RequestRefused("Give the mentee a short reason.")
    request.status = MentorshipRequest.Status.DECLINED
    request.decline_reason = reason.strip()
    request.referred_to_coordinator = refer
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "decline_reason", "referred_to_coordinator", "responded_at"])
    notify(request.mentee, "request_declined", request, body=request.decline_reason)
    if refer:
        notify_many(
            coordinators_of(user=request.mentee, scheme=request.scheme, role=Role.MENTEE),
            "request_referred",
            request,
            body=request.decline_reason,
            url=f"/admin/matching/mentorshiprequest/{request.pk}/change/",
        )
    return request


@transaction.atomic(durable=True)
def request_withdraw(*, request_id: int, mentee) -> MentorshipRequest:
    request = _locked_pending(request_id, mentee=mentee)
    request.status = MentorshipRequest.Status.WITHDRAWN
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "responded_at"])
    notify(request.mentor, "request_withdrawn", request)
    return request


def requests_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire pending requests past their date. Safe to run twice: each row changes once, in its own transaction."""
    now = now or timezone.now()
    expired = 0
    for pk in MentorshipRequest.objects.pending().filter(expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            changed = MentorshipRequest.objects.filter(pk=pk, status=MentorshipRequest.Status.PENDING).update(
                status=MentorshipRequest.Status.EXPIRED, responded_at=now
            )
            if changed:
                request = MentorshipRequest.objects.select_related("mentee", "mentor").get(pk=pk)
                notify(
                    request.mentee,
                    "request_expired",
                    request,
                    body=f"{request.mentor.first_name} did not answer in time. You can ask another mentor.",
                )
                expired += 1
    return expired


# --- Pairings a coordinator proposes (R-MATCH-3, R-MATCH-5, R-MATCH-8) -----------------------------------------


class ProposalRefused(ValidationError):
    """A proposal cannot be made or answered; the message says why."""


def _coordinators_told(proposal: PairingProposal) -> set:
    """Who hears how a proposal ends: the person who proposed it and the coordinators of the mentee's network."""
    people = set(coordinators_of(user=proposal.mentee, scheme=proposal.scheme, role=Role.MENTEE))
    if proposal.proposed_by is not None and proposal.proposed_by.is_active:
        people.add(proposal.proposed_by)
    return people


def _proposal_admin_url(proposal: PairingProposal) -> str:
    return f"/admin/matching/pairingproposal/{proposal.pk}/change/"


def proposal_fit(*, scheme: Scheme, mentee, mentor) -> tuple[float, list[str]]:
    """The fit of this pair as suggestions score it, with its reasons in words (0 and none if the mentor is not
    listed or the mentee has set out no goals)."""
    needs = needs_for(mentee)
    row = MentorListing.objects.filter(scheme=scheme, mentor=mentor).first()
    if needs is None or row is None:
        return 0.0, []
    suggestion = score(needs, offer_of(row))
    return suggestion.score, explain(suggestion, names(), to_mentee=False)


@transaction.atomic
def proposal_create(
    *,
    scheme: Scheme,
    mentee,
    mentor,
    actor,
    origin: str = PairingProposal.Origin.MANUAL,
    fit: tuple[float, list[str]] | None = None,
) -> PairingProposal:
    """A coordinator of both members' networks, or staff, proposes a pairing (R-MATCH-3). Nothing starts yet: both
    members are asked to declare any conflict of interest and confirm (R-MATCH-5). Refused, writing nothing, when
    the pairing could not start now. `fit` is the (score, reasons) already computed, else it is computed here."""
    permissions.require(
        permissions.covers_member(actor, mentee, scheme=scheme, role=Role.MENTEE)
        and permissions.covers_member(actor, mentor, scheme=scheme, role=Role.MENTOR),
        "You can pair only mentees and mentors of your own networks.",
    )
    if mentor.pk == mentee.pk:
        raise ProposalRefused("A member cannot be their own mentor.")
    # The mentee's membership row is locked: two proposals at once cannot both pass the mentee's limit.
    membership = (
        SchemeMembership.objects.select_for_update().filter(user=mentee, scheme=scheme, role=Role.MENTEE).first()
    )
    if membership is None:
        raise ProposalRefused(f"{mentee.first_name} is not a mentee in {scheme}.")
    try:
        pairing_check(mentor=mentor, mentee=mentee, scheme=scheme, actor=actor)
    except PairingRefused as refused:
        raise ProposalRefused(refused.message) from refused
    waiting = PairingProposal.objects.open().filter(mentee=mentee, scheme=scheme)
    if waiting.filter(mentor=mentor).exists():
        raise ProposalRefused(
            f"This pairing of {mentee.first_name} with {mentor.first_name} is already proposed; "
            "it waits for their answers."
        )
    active = Pairing.objects.active().filter(mentee=mentee, scheme=scheme).count()
    if active + waiting.count() >= scheme.max_mentors_per_mentee:
        raise ProposalRefused(
            f"{mentee.first_name} already has a proposed pairing waiting for an answer in {scheme}. "
            "Wait for it, or withdraw it first."
        )
    fit_score, reasons = fit if fit is not None else proposal_fit(scheme=scheme, mentee=mentee, mentor=mentor)
    proposal = PairingProposal.objects.create(
        scheme=scheme,
        network=membership.network,
        mentor=mentor,
        mentee=mentee,
        origin=origin,
        proposed_by=actor,
        score=fit_score,
        reasons=list(reasons),
    )
    notify_many(
        [mentee, mentor],
        "pairing_proposed",
        proposal,
        body="Declare any conflict of interest and confirm, or decline. Nothing starts until you both confirm.",
    )
    audit(
        actor=actor,
        action="proposal.created",
        target_user=mentee,
        obj=proposal,
        mentor=mentor.pk,
        origin=origin,
        score=fit_score,
    )
    return proposal


def _locked_open_proposal(proposal_id: int, member) -> PairingProposal:
    proposal = (
        PairingProposal.objects.select_for_update(of=("self",))
        .select_related("scheme", "mentor", "mentee", "proposed_by")
        .for_member(member)
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise PairingProposal.DoesNotExist
    if proposal.status != PairingProposal.Status.PROPOSED:
        raise ProposalRefused(f"This proposed pairing is already {proposal.get_status_display().lower()}.")
    return proposal


def _close(proposal: PairingProposal, status: str, *, outcome: str = "", by=None) -> None:
    proposal.status = status
    proposal.outcome = outcome
    proposal.declined_by = by
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "outcome", "declined_by", "decided_at"])


def _lapse(proposal: PairingProposal, *, outcome: str, members_told: str) -> None:
    """The proposal cannot start: both members hear `members_told`, the coordinators the outcome."""
    _close(proposal, PairingProposal.Status.LAPSED, outcome=outcome)
    notify_many([proposal.mentor, proposal.mentee], "proposal_lapsed", proposal, body=members_told)
    notify_many(
        _coordinators_told(proposal),
        "proposal_lapsed_coordinator",
        proposal,
        body=outcome,
        url=_proposal_admin_url(proposal),
    )


def _partner(proposal: PairingProposal, member):
    return proposal.mentee if member.pk == proposal.mentor_id else proposal.mentor


@transaction.atomic(durable=True)
def proposal_confirm(*, proposal_id: int, member, declaration: dict) -> PairingProposal:
    """One side of a proposed pairing declares any conflict of interest and confirms (R-MATCH-5).

    When both have confirmed the pairing starts through `pairing_start` (capacity under the mentor's lock,
    eligibility checked again); if it no longer fits, the proposal lapses and the coordinators read why.
    An unmanageable conflict declines it instead, keeps the block and tells the coordinators.
    """
    proposal = _locked_open_proposal(proposal_id, member)
    if proposal.confirmed_by(member):
        raise ProposalRefused("You have already confirmed; the pairing starts when the other member confirms too.")
    _declare(None, member, declaration, proposal=proposal)
    if declaration_blocks(declaration):
        _close(
            proposal,
            PairingProposal.Status.DECLINED,
            outcome="An unmanageable conflict of interest was declared, so this pairing cannot go ahead.",
            by=member,
        )
        _record_conflict_block(
            mentee=proposal.mentee,
            mentor=proposal.mentor,
            scheme=proposal.scheme,
            declared_by=member,
            declaration=declaration,
            proposal=proposal,
        )
        notify(_partner(proposal, member), "proposal_declined", proposal, body=proposal.outcome)
        audit(actor=member, action="proposal.conflict_blocked", target_user=proposal.mentee, obj=proposal)
        return proposal
    confirmed = "mentor_confirmed_at" if member.pk == proposal.mentor_id else "mentee_confirmed_at"
    setattr(proposal, confirmed, timezone.now())
    proposal.save(update_fields=[confirmed])
    audit(actor=member, action="proposal.confirmed", target_user=proposal.mentee, obj=proposal)
    if proposal.mentor_confirmed_at is None or proposal.mentee_confirmed_at is None:
        return proposal
    try:
        with transaction.atomic():
            pairing = pairing_start(
                mentor=proposal.mentor,
                mentee=proposal.mentee,
                scheme=proposal.scheme,
                origin=proposal.origin,
                actor=proposal.proposed_by,
            )
    except PairingRefused as refused:
        _lapse(
            proposal,
            outcome=refused.message,
            members_told="It no longer fits the scheme's rules (a place may have been taken). "
            "Your coordinator has been told.",
        )
        audit(actor=member, action="proposal.lapsed", target_user=proposal.mentee, obj=proposal, reason=refused.message)
        return proposal
    proposal.status = PairingProposal.Status.STARTED
    proposal.pairing = pairing
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "pairing", "decided_at"])
    notify_many(
        _coordinators_told(proposal),
        "proposal_started_coordinator",
        proposal,
        url=f"/admin/mentoring/pairing/{pairing.pk}/change/",
    )
    return proposal


@transaction.atomic(durable=True)
def proposal_decline(*, proposal_id: int, member, reason: str = "") -> PairingProposal:
    """One side says no: the proposal ends, nobody is paired, the partner and the coordinators are told."""
    proposal = _locked_open_proposal(proposal_id, member)
    reason = reason.strip()
    _close(
        proposal,
        PairingProposal.Status.DECLINED,
        outcome=f"{member.first_name} declined" + (f": {reason}" if reason else "."),
        by=member,
    )
    notify(_partner(proposal, member), "proposal_declined", proposal, body="The pairing will not go ahead.")
    notify_many(
        _coordinators_told(proposal),
        "proposal_declined_coordinator",
        proposal,
        body=proposal.outcome,
        url=_proposal_admin_url(proposal),
    )
    audit(actor=member, action="proposal.declined", target_user=proposal.mentee, obj=proposal, reason=reason)
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal_id: int, actor, reason: str = "") -> PairingProposal:
    """A coordinator of the mentee's network, or staff, withdraws a proposal nobody has finished answering."""
    proposal = (
        PairingProposal.objects.select_for_update(of=("self",))
        .select_related("scheme", "mentor", "mentee")
        .get(pk=proposal_id)
    )
    permissions.require(
        permissions.covers_member(actor, proposal.mentee, scheme=proposal.scheme, role=Role.MENTEE),
        "You can withdraw only proposals for mentees of your networks.",
    )
    if proposal.status != PairingProposal.Status.PROPOSED:
        raise ProposalRefused(f"This proposed pairing is already {proposal.get_status_display().lower()}.")
    _close(proposal, PairingProposal.Status.WITHDRAWN, outcome=reason.strip() or "Withdrawn by a coordinator.")
    notify_many(
        [proposal.mentor, proposal.mentee],
        "proposal_withdrawn",
        proposal,
        body="Your coordinator withdrew this proposed pairing.",
    )
    audit(actor=actor, action="proposal.withdrawn", target_user=proposal.mentee, obj=proposal, reason=reason)
    return proposal


def proposals_expire(*, now: datetime.datetime | None = None) -> int:
    """Lapse proposals not confirmed by both members within the scheme's answer period (its
    `request_expiry_days`, as for a request), so a mentee is not held back by an unanswered proposal; the
    members and the coordinators are told. Safe to run twice: each row changes once, in its own transaction."""
    now = now or timezone.now()
    lapsed = 0
    for proposal_id, days in PairingProposal.objects.open().values_list("pk", "scheme__request_expiry_days"):
        with transaction.atomic():
            proposal = (
                PairingProposal.objects.select_for_update(of=("self",))
                .select_related("scheme", "mentor", "mentee", "proposed_by")
                .filter(pk=proposal_id, status=PairingProposal.Status.PROPOSED)
                .first()
            )
            if proposal is None or proposal.created_at > now - datetime.timedelta(days=days):
                continue
            waiting_for = [
                person.first_name
                for person, confirmed in (
                    (proposal.mentee, proposal.mentee_confirmed_at),
                    (proposal.mentor, proposal.mentor_confirmed_at),
                )
                if confirmed is None
            ]
            _lapse(
                proposal,
                outcome=f"Not confirmed within {days} days (waiting for {' and '.join(waiting_for)}).",
                members_told="It was not confirmed by both of you in time. Your coordinator has been told.",
            )
            lapsed += 1
    return lapsed


def _pairs_of(data: dict) -> list[tuple[int, int]]:
    return [(int(pair[0]), int(pair[1])) for pair in data.get("pairs", [])]


def cohort_confirm(
    *, token: str, actor, drop: Iterable[str] = (), max_age: int = 3600
) -> tuple[list[PairingProposal], list[str]]:
    """Propose the previewed pairs, less those the coordinator dropped (`drop`: "mentee_id-mentor_id" keys of
    pairs in the preview). A coordinator confirms a run of their own network; a run over every network is for
    staff. Nothing starts here: each member is asked to confirm (R-MATCH-5). A pair that no longer fits (a place
    taken meanwhile, eligibility lapsed) is skipped with its reason; the rest are still proposed."""
    try:
        data = signing.loads(token, salt=COHORT_SALT, max_age=max_age)
    except signing.BadSignature as bad:
        raise ValidationError("This preview has expired or was altered; run the preview again.") from bad
    network_id = data.get("network")
    if network_id is None:
        permissions.require(
            permissions.is_scheme_staff(actor), "Only scheme staff run cohort matching across networks."
        )
    else:
        permissions.require(permissions.covers_network(actor, network_id), "This network is not one you coordinate.")
    pairs = _pairs_of(data)
    if not pairs:
        raise ValidationError("This preview proposed no pairs, so there is nothing to propose.")
    keys = {f"{mentee_id}-{mentor_id}" for mentee_id, mentor_id in pairs}
    dropped = set(drop)
    if dropped - keys:
        raise ValidationError("A pair you dropped is not one of this preview's; run the preview again.")
    kept = [(i, pair) for i, pair in enumerate(pairs) if f"{pair[0]}-{pair[1]}" not in dropped]
    if not kept:
        raise ValidationError("You dropped every pair, so there is nothing to propose.")
    scheme = Scheme.objects.filter(pk=data["scheme"]).first()
    if scheme is None:
        raise ValidationError("This scheme no longer exists.")
    fits = data.get("fits") or []
    if len(fits) != len(pairs):
        fits = [[0.0, []] for _ in pairs]
    people = get_user_model().objects.in_bulk([i for _, pair in kept for i in pair])
    proposed, skipped = [], []
    for index, (mentee_id, mentor_id) in kept:
        mentee, mentor = people.get(mentee_id), people.get(mentor_id)
        if mentee is None or mentor is None:
            skipped.append(f"A member of pair {mentee_id}/{mentor_id} no longer exists.")
            continue
        try:
            with transaction.atomic():
                proposed.append(
                    proposal_create(
                        scheme=scheme,
                        mentee=mentee,
                        mentor=mentor,
                        actor=actor,
                        origin=PairingProposal.Origin.COHORT,
                        fit=(float(fits[index][0]), list(fits[index][1])),
                    )
                )
        except ProposalRefused as refused:
            skipped.append(f"{mentee.get_full_name()} with {mentor.get_full_name()}: {refused.message}")
    network = LocalNetwork.objects.filter(pk=network_id).first() if network_id else None
    audit(
        actor=actor,
        action="cohort.confirmed",
        obj=scheme,
        network=str(network or "every network"),
        proposed=len(proposed),
        dropped=len(dropped),
        skipped=len(skipped),
    )
    return proposed, skipped
