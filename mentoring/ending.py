"""Ending a pairing, pausing and withdrawing, and feedback: the only writers (R-PAIR-4, R-PAIR-5, R-PAIR-7).

Each service takes the person acting and checks them itself, so a member's
page, the admin and the daily job get the same rules.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from matching.models import MentorshipRequest
from mentoring import permissions
from mentoring.models import EndOfPairing, Feedback, FeedbackRequest, Pairing, Role, SchemeMembership
from mentoring.models.ending import COMMENTS_MAX
from mentoring.selectors import access_pairing
from messaging.services import conversation_close, notify, notify_many
from safeguarding import eligibility
from safeguarding.audit import audit
from safeguarding.models import DBSCheck

# The reasons a member chooses on the End of Pairing form; the others are set by the platform.
MEMBER_REASONS = (
    Pairing.EndReason.GOALS_MET,
    Pairing.EndReason.DIFFERENCES,
    Pairing.EndReason.LACK_OF_COMMUNICATION,
    Pairing.EndReason.CONFLICT,
    Pairing.EndReason.OTHER,
)
REMINDER_AFTER = datetime.timedelta(days=7)
# Pairings that ended longer ago than this (before feedback existed, say) are not asked by the daily job.
END_FEEDBACK_WINDOW = datetime.timedelta(days=30)
LOW_RATING = 2


class PairingEndRefused(ValidationError):
    """The pairing cannot be ended; the message says why."""


def _clean_comments(comments: str) -> str:
    comments = (comments or "").strip()
    if len(comments) > COMMENTS_MAX:
        raise ValidationError(f"Keep your comments to {COMMENTS_MAX} characters (these have {len(comments)}).")
    return comments


def network_coordinators(pairing: Pairing):
    """The active coordinators of the pairing's own Local Network."""
    return pairing.network.coordinators.filter(is_active=True)


@transaction.atomic
def pairing_end(*, pairing_id: int, actor, reason: str, comments: str = "") -> EndOfPairing:
    """End a pairing (R-PAIR-5): either member at any time, or a coordinator of its network or staff.

    Writes the End of Pairing record, tells the partner (and the network's
    coordinators when a coordinator or staff ended it), and asks both members for
    their end-of-pairing feedback. Refuses an already-ended pairing.
    """
    pairing = (
        Pairing.objects.select_for_update(of=("self",)).select_related("mentor", "mentee", "network").get(pk=pairing_id)
    )
    is_member = actor is not None and actor.pk in (pairing.mentor_id, pairing.mentee_id)
    if not is_member:
        permissions.require(
            permissions.covers_network(actor, pairing.network_id),
            "Only the pairing's members, its network's coordinators and scheme staff can end it.",
        )
    if pairing.status == Pairing.Status.ENDED:
        ended_on = timezone.localtime(pairing.ended_at).strftime("%-d %B %Y") if pairing.ended_at else ""
        raise PairingEndRefused(f"This pairing has already ended{' on ' + ended_on if ended_on else ''}.")
    if reason not in Pairing.EndReason.values:
        raise PairingEndRefused("Choose a reason for ending the pairing.")
    if is_member and reason not in MEMBER_REASONS and reason != Pairing.EndReason.WITHDRAWAL:
        raise PairingEndRefused("Choose one of the reasons on the form.")
    comments = _clean_comments(comments)
    now = timezone.now()
    pairing.status = Pairing.Status.ENDED
    pairing.ended_at = now
    pairing.end_reason = reason
    pairing.save(update_fields=["status", "ended_at", "end_reason"])
    record = EndOfPairing.objects.create(
        pairing=pairing, ended_by=actor, reason=reason, comments=comments, created_at=now
    )
    conversation_close(pairing_id=pairing.pk)  # read-only from now on, in this transaction (issue 8)
    reason_label = Pairing.EndReason(reason).label.lower()
    url = pairing.get_absolute_url()
    if is_member:
        partner = pairing.mentee if actor.pk == pairing.mentor_id else pairing.mentor
        told = [partner]
        body = f"{actor.first_name} ended your pairing. Reason: {reason_label}."
    else:
        told = [pairing.mentor, pairing.mentee]
        body = f"Your coordinator ended your pairing. Reason: {reason_label}."
        audit(actor=actor, action="pairing.ended", target_user=pairing.mentee, obj=pairing, reason=reason)
        coordinators = network_coordinators(pairing).exclude(pk=actor.pk)
        notify_many(
            coordinators,
            "pairing_ended_by_coordinator",
            pairing,
            body=f"Ended by {actor.get_full_name() or actor.email}. Reason: {reason_label}.",
            url=reverse("admin:mentoring_pairing_change", args=[pairing.pk]),
        )
    for person in told:
        extra = ""
        if reason == Pairing.EndReason.DIFFERENCES and person.pk == pairing.mentee_id:
            extra = " You can ask your coordinator for another mentor on the pairing's page."
        notify(person, "pairing_ended", pairing, body=body + extra, url=url)
    for member in (pairing.mentor, pairing.mentee):
        _feedback_ask(pairing=pairing, member=member, stage=Feedback.Stage.END, now=now)
    return record


@transaction.atomic
def end_of_pairing_mark_read(*, record_ids, actor) -> int:
    """A coordinator of each pairing's network, or staff, marks End of Pairing forms read (R-COORD-2): they leave
    the queue of forms to read. Forms of another network are refused; forms read already keep their first reader.
    Returns how many were marked now."""
    ids = [int(pk) for pk in record_ids]
    records = list(EndOfPairing.objects.select_for_update(of=("self",)).select_related("pairing").filter(pk__in=ids))
    for record in records:
        permissions.require(
            permissions.covers_network(actor, record.pairing.network_id),
            "You can mark read only the End of Pairing forms of your own networks.",
        )
    unread = [record.pk for record in records if record.read_at is None]
    return EndOfPairing.objects.filter(pk__in=unread).update(read_at=timezone.now(), read_by=actor)


# --- Pause, resume, withdraw (R-PAIR-7) -------------------------------------------------------


def _own_membership(membership_id: int, actor) -> SchemeMembership:
    membership = (
        SchemeMembership.objects.select_for_update(of=("self",))
        .select_related("user", "scheme", "network")
        .get(pk=membership_id)
    )
    if actor is None or membership.user_id != actor.pk:
        raise PermissionDenied("Only the member can change their own participation here.")
    return membership


def _set_status(membership: SchemeMembership, status: str) -> None:
    membership.status = status
    membership.status_changed_at = timezone.now()
    membership.save(update_fields=["status", "status_changed_at"])


@transaction.atomic(durable=True)
def membership_pause(*, membership_id: int, actor) -> SchemeMembership:
    """The member pauses: no new requests, not listed; their pairings go on."""
    membership = _own_membership(membership_id, actor)
    if membership.status != SchemeMembership.Status.ACTIVE:
        raise ValidationError(
            f"You can pause only while you are taking part (this is {membership.get_status_display().lower()})."
        )
    _set_status(membership, SchemeMembership.Status.PAUSED)
    audit(actor=actor, action="membership.paused", target_user=membership.user, obj=membership)
    return membership


@transaction.atomic(durable=True)
def membership_resume(*, membership_id: int, actor) -> SchemeMembership:
    """The member resumes after a pause: active again, or back to onboarding when something has lapsed since."""
    membership = _own_membership(membership_id, actor)
    if membership.status != SchemeMembership.Status.PAUSED:
        raise ValidationError("Only a paused membership can be resumed.")
    membership.status = SchemeMembership.Status.ACTIVE  # judged as if active: is anything else unmet now?
    ok = eligibility.check(membership.user, membership.scheme, membership.role, membership=membership).ok
    _set_status(membership, SchemeMembership.Status.ACTIVE if ok else SchemeMembership.Status.PENDING)
    audit(
        actor=actor, action="membership.resumed", target_user=membership.user, obj=membership, status=membership.status
    )
    return membership


@transaction.atomic(durable=True)
def membership_withdraw(*, membership_id: int, actor, reason: str = "") -> SchemeMembership:
    """Withdraw from a scheme in one role (R-PAIR-7): the member themself, or staff with a reason.

    Active pairings in that scheme and role end with reason "withdrawal" (partners
    told), pending requests are withdrawn (the other side told). Nothing is deleted.
    """
    return _membership_withdraw(membership_id=membership_id, actor=actor, reason=reason)


# What the member, their partners and the coordinators read when staff remove a mentor whose DBS check was
# refused: the refusal itself is criminal-offence data, for staff and the Safeguarding Lead only (R-SAFE-3).
REMOVAL_REASON = "Withdrawn from the scheme by scheme staff."


@transaction.atomic
def refused_mentor_withdraw(*, check_id: int, actor) -> list[SchemeMembership]:
    """Staff remove a mentor whose DBS check was refused (R-ELIG-4, 000 2.6.4): every mentor membership not yet
    withdrawn is withdrawn as above (pairings end, partners told), in neutral words; all or none. Audited."""
    permissions.require(permissions.is_scheme_staff(actor), "Only scheme staff withdraw a mentor.")
    check = DBSCheck.objects.select_for_update(of=("self",)).select_related("user").get(pk=check_id)
    if check.status != DBSCheck.Status.REFUSED:
        raise ValidationError("Only a mentor whose DBS check was refused is withdrawn from here.")
    memberships = (
        SchemeMembership.objects.filter(user=check.user, role=Role.MENTOR)
        .exclude(status=SchemeMembership.Status.WITHDRAWN)
        .values_list("pk", flat=True)
    )
    ids = list(memberships)
    if not ids:
        raise ValidationError(f"{check.user.get_full_name()} is withdrawn as a mentor already.")
    withdrawn = [_membership_withdraw(membership_id=pk, actor=actor, reason=REMOVAL_REASON) for pk in ids]
    audit(
        actor=actor,
        action="dbs.mentor_withdrawn",
        target_user=check.user,
        obj=f"DBS check {check.pk}",
        memberships=ids,
    )
    return withdrawn


def _membership_withdraw(*, membership_id: int, actor, reason: str = "") -> SchemeMembership:
    membership = (
        SchemeMembership.objects.select_for_update(of=("self",))
        .select_related("user", "scheme", "network")
        .get(pk=membership_id)
    )
    member = membership.user
    by_member = actor is not None and actor.pk == member.pk
    if not by_member:
        permissions.require(permissions.is_scheme_staff(actor), "Only scheme staff can withdraw another member.")
    reason = _clean_comments(reason)
    if not by_member and not reason:
        raise ValidationError("Give the reason for withdrawing this member.")
    if membership.status == SchemeMembership.Status.WITHDRAWN:
        raise ValidationError("This membership is already withdrawn.")
    previous = membership.status
    _set_status(membership, SchemeMembership.Status.WITHDRAWN)
    side = {"mentor": member} if membership.role == Role.MENTOR else {"mentee": member}
    pairings = Pairing.objects.active().filter(scheme=membership.scheme, **side).values_list("pk", flat=True)
    for pairing_id in list(pairings):
        pairing_end(pairing_id=pairing_id, actor=actor, reason=Pairing.EndReason.WITHDRAWAL, comments=reason)
    requests = (
        MentorshipRequest.objects.pending()
        .select_for_update(of=("self",))
        .select_related("mentor", "mentee", "scheme")
        .filter(scheme=membership.scheme, **side)
    )
    now = timezone.now()
    for request in requests:
        request.status = MentorshipRequest.Status.WITHDRAWN
        request.responded_at = now
        request.save(update_fields=["status", "responded_at"])
        if membership.role == Role.MENTOR:
            notify(request.mentee, "request_withdrawn_mentor_left", request, url=reverse("mentor_list"))
        else:
            notify(request.mentor, "request_withdrawn", request)
    if not by_member:
        notify(member, "membership_withdrawn", membership, body=reason, url=reverse("onboarding"))
    audit(
        actor=actor,
        action="membership.withdrawn",
        target_user=member,
        obj=membership,
        previous=previous,
        reason=reason,
        pairings_ended=len(pairings),
    )
    return membership


# --- Feedback (R-PAIR-4) ----------------------------------------------------------------------


def _feedback_ask(*, pairing: Pairing, member, stage: str, now: datetime.datetime) -> bool:
    """Ask `member` once for feedback at `stage`: the row is written first, so a second ask finds it."""
    try:
        with transaction.atomic():
            FeedbackRequest.objects.create(pairing=pairing, member=member, stage=stage, asked_at=now)
    except IntegrityError:
        return False  # asked already (or by a run at the same moment)
    notify(
        member,
        "feedback_asked",
        pairing,
        body=f"Two minutes: how is your mentoring in {pairing.scheme} going? Your coordinator reads your answer.",
        url=reverse("pairing_feedback", args=[pairing.pk, stage]),
    )
    return True


@transaction.atomic(durable=True)
def feedback_give(*, pairing_id: int, member, stage: str, rating, comments: str = "") -> Feedback:
    """A member of the pairing answers the survey once per stage; 2 or less tells the coordinators at once."""
    pairing = access_pairing(member, pairing_id)
    if stage not in Feedback.Stage.values:
        raise ValidationError("There is no such feedback survey.")
    asked = FeedbackRequest.objects.select_for_update().filter(pairing=pairing, member=member, stage=stage).first()
    if asked is None:
        raise ValidationError("This feedback has not been asked of you yet.")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = None
    if rating is None or not 1 <= rating <= 5:
        raise ValidationError("Choose a rating from 1 to 5.")
    comments = _clean_comments(comments)
    if Feedback.objects.filter(pairing=pairing, member=member, stage=stage).exists():
        raise ValidationError("You have already given this feedback. Thank you.")
    feedback = Feedback.objects.create(pairing=pairing, member=member, stage=stage, rating=rating, comments=comments)
    if rating <= LOW_RATING:
        notify_many(
            network_coordinators(pairing),
            "feedback_low",
            feedback,
            body=f"{member.first_name} rated their pairing {rating} out of 5 ({feedback.get_stage_display().lower()}).",
            url=reverse("admin:mentoring_feedback_change", args=[feedback.pk]),
        )
    return feedback


def feedback_requests_send(*, now: datetime.datetime | None = None) -> int:
    """The daily job: ask both members at the scheme's midpoint and after an ending not yet asked, and remind
    once after seven days unanswered. Every ask and reminder is a row claimed first: safe to run twice."""
    now = now or timezone.now()
    sent = 0
    due = Pairing.objects.active().select_related("scheme", "mentor", "mentee")
    for pairing in due.iterator():
        if pairing.started_at > now - datetime.timedelta(weeks=pairing.scheme.feedback_midpoint_weeks):
            continue
        for member in (pairing.mentor, pairing.mentee):
            with transaction.atomic():
                sent += _feedback_ask(pairing=pairing, member=member, stage=Feedback.Stage.MIDPOINT, now=now)
    # An ending that did not go through pairing_end (none should) is still asked about.
    ended = (
        Pairing.objects.filter(status=Pairing.Status.ENDED, ended_at__gte=now - END_FEEDBACK_WINDOW)
        .exclude(feedback_requests__stage=Feedback.Stage.END)
        .select_related("scheme", "mentor", "mentee")
    )
    for pairing in ended:
        for member in (pairing.mentor, pairing.mentee):
            with transaction.atomic():
                sent += _feedback_ask(pairing=pairing, member=member, stage=Feedback.Stage.END, now=now)
    unanswered = (
        FeedbackRequest.objects.filter(reminded_at__isnull=True, asked_at__lte=now - REMINDER_AFTER)
        .exclude(stage=Feedback.Stage.MIDPOINT, pairing__status=Pairing.Status.ENDED)
        .select_related("pairing", "member")
    )
    for asked in unanswered:
        if Feedback.objects.filter(pairing=asked.pairing_id, member=asked.member_id, stage=asked.stage).exists():
            continue
        with transaction.atomic():
            # Claim the reminder before sending it: a second run (or one at the same moment) claims nothing.
            if not FeedbackRequest.objects.filter(pk=asked.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            notify(
                asked.member,
                "feedback_reminder",
                asked.pairing,
                body="We asked a week ago for two minutes of feedback; this is the one reminder.",
                url=reverse("pairing_feedback", args=[asked.pairing_id, asked.stage]),
            )
            sent += 1
    return sent
