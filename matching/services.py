"""Profiles, requests, conflict declarations and cohort runs: the only writers in matching/.

Services that a coordinator or staff member calls take the person acting
(`actor`) and check their role and scope themselves.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from matching.listing import listed_profiles
from matching.models import (
    ApprovedProfileText,
    ConflictBlock,
    ConflictDeclaration,
    MenteeProfile,
    MentorProfile,
    MentorshipRequest,
    ProfileReport,
)
from matching.selectors import COHORT_SALT
from mentoring import permissions
from mentoring.models import LocalNetwork, Pairing, Role, Scheme, SchemeMembership
from mentoring.selectors import active_mentee_count, mentor_limit_message, mentor_limit_reached
from mentoring.services import PairingRefused, coordinators_of, pairing_start
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


def _declare(request: MentorshipRequest, who, declaration: dict) -> ConflictDeclaration:
    return ConflictDeclaration.objects.create(
        request=request,
        declared_by=who,
        kind=declaration.get("kind", ConflictDeclaration.Kind.NONE),
        details=declaration.get("details", ""),
        manageable=declaration.get("manageable", True),
    )


def _record_conflict_block(*, mentee, mentor, scheme, declared_by, declaration: dict, request=None) -> ConflictBlock:
    """Keep the block as a row (R-MATCH-5) and tell the mentee's coordinators."""
    block = ConflictBlock.objects.create(
        scheme=scheme,
        mentee=mentee,
        mentor=mentor,
        declared_by=declared_by,
        request=request,
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


def cohort_confirm(*, token: str, actor, max_age: int = 3600) -> tuple[list[Pairing], list[str]]:
    """Start the previewed pairings. A coordinator confirms a run of their own network; a run over every
    network is for staff. Each pairing goes through `pairing_start`, so a pair that no longer fits (a place
    taken meanwhile, eligibility lapsed) is skipped with its reason; the rest still start."""
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
    if not data.get("pairs"):
        raise ValidationError("This preview proposed no pairs, so there is nothing to start.")
    scheme = Scheme.objects.filter(pk=data["scheme"]).first()
    if scheme is None:
        raise ValidationError("This scheme no longer exists.")
    people = get_user_model().objects.in_bulk([i for pair in data["pairs"] for i in pair])
    started, skipped = [], []
    for mentee_id, mentor_id in data["pairs"]:
        mentee, mentor = people.get(mentee_id), people.get(mentor_id)
        if mentee is None or mentor is None:
            skipped.append(f"A member of pair {mentee_id}/{mentor_id} no longer exists.")
            continue
        try:
            with transaction.atomic():
                started.append(
                    pairing_start(
                        mentor=mentor, mentee=mentee, scheme=scheme, origin=Pairing.Origin.COHORT, actor=actor
                    )
                )
        except PairingRefused as refused:
            skipped.append(f"{mentee.get_full_name()} with {mentor.get_full_name()}: {refused.message}")
    network = LocalNetwork.objects.filter(pk=network_id).first() if network_id else None
    audit(
        actor=actor,
        action="cohort.confirmed",
        obj=scheme,
        network=str(network or "every network"),
        started=len(started),
        skipped=len(skipped),
    )
    return started, skipped
