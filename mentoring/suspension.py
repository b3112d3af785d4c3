"""The Safeguarding Lead suspends a member at once over a concern, and lifts it (R-SAFE-2).

Here, in mentoring, because a suspension reaches into the scheme: it suspends memberships, pauses pairings and
cancels their meetings (mentoring.meetings), which safeguarding's own modules may not import (import-linter).
The record itself, Suspension, is safeguarding's, and only the Lead group sees it.

What a suspension does, in one transaction:
- every membership of the member that is not withdrawn becomes suspended; its earlier state is kept to restore;
- the eligibility engine then finds them not taking part: the profile leaves every listing, requests and new
  pairings are refused (safeguarding/eligibility.py, Joined), and mentoring/messages.py refuses their messages,
  on the page and on the socket;
- each running pairing is paused (Pairing.paused_at): no messages or meetings for either member, upcoming
  meetings cancelled, no reminders; the partner is told in neutral words;
- the member is told in neutral words; the concern gets the action; everything is audited as concern business,
  which the admin lists to the Lead group only.
Nothing is ended or deleted: lifting restores each membership and unpauses each pairing, unless another open
suspension (of the partner) still holds it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mentoring import permissions
from mentoring.meetings import meetings_cancel_for_pause
from mentoring.models import Pairing, SchemeMembership
from messaging.services import notify
from safeguarding import concerns
from safeguarding.audit import audit
from safeguarding.models import Concern, ConcernNote, SuspendedMembership, Suspension
from safeguarding.services import memberships_activate_eligible

# What the member and their partners read: never why.
TO_MEMBER = (
    "Your participation in the mentoring scheme is paused for now, and your pairings with it. "
    "The scheme will be in touch with you."
)
TO_PARTNER = "Your mentoring is paused for now; the scheme will be in touch."
LIFTED_TO_MEMBER = "You can take part in the mentoring scheme again, and your pairings can carry on."
LIFTED_TO_PARTNER = "Your mentoring can carry on: you can write to each other and arrange meetings again."
# Which memberships a suspension leaves as they are.
NOT_SUSPENDED_AGAIN = (SchemeMembership.Status.WITHDRAWN, SchemeMembership.Status.SUSPENDED)


def open_suspension(member) -> Suspension | None:
    return Suspension.objects.filter(member=member, lifted_at__isnull=True).first()


def _partner(pairing: Pairing, member) -> User:
    return pairing.mentee if pairing.mentor_id == member.pk else pairing.mentor


def _require_lead(actor, member) -> None:
    permissions.require(
        concerns.may_see_concerns(actor), "Only the Safeguarding Lead suspends a member or lifts a suspension."
    )
    permissions.require(actor.pk != member.pk, "Nobody suspends themselves or lifts their own suspension.")


@transaction.atomic(durable=True)
def member_suspend(*, member, actor, concern: Concern) -> Suspension:
    """Suspend `member`, the person `concern` is about, at once (see the module's docstring). The Lead only,
    and not one involved in the concern. ValidationError for a closed concern, someone else than its person, or
    a member suspended already."""
    _require_lead(actor, member)
    permissions.require(concerns.may_handle(actor, concern), "You are part of this concern.")
    User.objects.select_for_update().get(pk=member.pk)  # two suspensions of one member queue up here
    concern = Concern.objects.select_for_update(of=("self",)).get(pk=concern.pk)
    if concern.person_id != member.pk:
        raise ValidationError("Suspend the person the concern is about.")
    if concern.is_closed:
        raise ValidationError("This concern is closed: open a new one to act on it.")
    if open_suspension(member) is not None:
        raise ValidationError(f"{member.get_full_name()} is suspended already.")
    now = timezone.now()
    suspension = Suspension.objects.create(member=member, concern=concern, suspended_by=actor, suspended_at=now)
    memberships = list(
        SchemeMembership.objects.select_for_update().filter(user=member).exclude(status__in=NOT_SUSPENDED_AGAIN)
    )
    previous = {}
    for membership in memberships:
        SuspendedMembership.objects.create(
            suspension=suspension, membership=membership, previous_status=membership.status
        )
        previous[str(membership.pk)] = membership.status
        membership.status = SchemeMembership.Status.SUSPENDED
        membership.status_changed_at = now
        # Saved one by one, not update(): the listing index and the change history hear of each.
        membership.save(update_fields=["status", "status_changed_at"])
    pairings = list(
        Pairing.objects.active()
        .visible_to(member)
        .select_for_update(of=("self",))
        .select_related("mentor", "mentee", "scheme")
    )
    paused, cancelled = [], 0
    for pairing in pairings:
        if pairing.paused_at is None:  # else the partner's own suspension holds it paused already
            pairing.paused_at = now
            pairing.save(update_fields=["paused_at"])
            cancelled += meetings_cancel_for_pause(pairing, now)
            notify(_partner(pairing, member), "pairing_paused", pairing, body=TO_PARTNER)
            paused.append(pairing.pk)
    suspension.paused_pairings.set(pairings)
    notify(member, "participation_suspended", body=TO_MEMBER, url=reverse("mentoring_home"))
    ConcernNote.objects.create(
        concern=concern,
        author=actor,
        kind=ConcernNote.Kind.ACTION,
        created_at=now,
        text=f"Suspended {member.get_full_name()}: {len(memberships)} membership(s) suspended, "
        f"{len(paused)} pairing(s) paused, {cancelled} upcoming meeting(s) cancelled.",
    )
    audit(
        actor=actor,
        action=f"{concerns.AUDIT_PREFIX}member_suspended",
        target_user=member,
        obj=suspension,
        concern=concern.pk,
        memberships=previous,
        pairings_paused=paused,
        meetings_cancelled=cancelled,
    )
    return suspension


@transaction.atomic(durable=True)
def member_suspension_lift(*, member, actor) -> Suspension:
    """Lift `member`'s open suspension: each membership it suspended goes back to its earlier state (if nobody
    changed it since), each pairing it paused carries on (unless the partner's own suspension still holds it),
    and the member and partners are told. The Lead only. ValidationError when the member is not suspended."""
    _require_lead(actor, member)
    User.objects.select_for_update().get(pk=member.pk)
    suspension = Suspension.objects.select_for_update(of=("self",)).filter(member=member, lifted_at__isnull=True)
    suspension = suspension.select_related("concern__pairing").first()
    if suspension is None:
        raise ValidationError(f"{member.get_full_name()} is not suspended.")
    permissions.require(concerns.may_handle(actor, suspension.concern), "You are part of this concern.")
    now = timezone.now()
    restored = {}
    for held in suspension.memberships.select_related("membership"):
        membership = SchemeMembership.objects.select_for_update().get(pk=held.membership_id)
        if membership.status != SchemeMembership.Status.SUSPENDED:
            continue  # withdrawn meanwhile: left as it is
        membership.status = held.previous_status
        membership.status_changed_at = now
        membership.save(update_fields=["status", "status_changed_at"])
        restored[str(membership.pk)] = held.previous_status
    memberships_activate_eligible(user=member)  # onboarding finished meanwhile: active now
    suspension.lifted_by, suspension.lifted_at = actor, now
    suspension.save(update_fields=["lifted_by", "lifted_at"])
    still_held = Suspension.objects.filter(lifted_at__isnull=True).exclude(pk=suspension.pk)
    resumed = []
    pairings = suspension.paused_pairings.select_for_update(of=("self",)).select_related("mentor", "mentee")
    for pairing in pairings:
        if still_held.filter(paused_pairings=pairing).exists() or pairing.paused_at is None:
            continue
        pairing.paused_at = None
        pairing.save(update_fields=["paused_at"])
        if pairing.status == Pairing.Status.ACTIVE:
            notify(_partner(pairing, member), "pairing_resumed", pairing, body=LIFTED_TO_PARTNER)
            resumed.append(pairing.pk)
    notify(member, "participation_resumed", body=LIFTED_TO_MEMBER, url=reverse("mentoring_home"))
    ConcernNote.objects.create(
        concern=suspension.concern,
        author=actor,
        kind=ConcernNote.Kind.ACTION,
        created_at=now,
        text=f"Lifted the suspension of {member.get_full_name()}: {len(restored)} membership(s) restored, "
        f"{len(resumed)} pairing(s) carry on.",
    )
    audit(
        actor=actor,
        action=f"{concerns.AUDIT_PREFIX}suspension_lifted",
        target_user=member,
        obj=suspension,
        concern=suspension.concern_id,
        memberships=restored,
        pairings_resumed=resumed,
    )
    return suspension
