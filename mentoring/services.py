"""Scheme membership, scheme documents and pairings: the only writers.

Each service takes the person acting where a person acts for someone else
(a coordinator, staff) and checks their role and scope itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import member_details_update
from matching.models import MentorProfile
from mentoring import permissions
from mentoring.agreement import goals_seed
from mentoring.models import (
    LocalNetwork,
    Pairing,
    RematchRequest,
    Role,
    Scheme,
    SchemeMembership,
    TermsAcceptance,
    TermsVersion,
)
from mentoring.selectors import active_mentee_count, mentor_limit_reached
from messaging.services import conversation_open, notify, notify_many
from safeguarding import eligibility
from safeguarding.audit import audit
from safeguarding.models import Suspension
from safeguarding.services import memberships_activate_eligible

SUSPENDED_JOIN = "Your participation in the mentoring scheme is paused for now. The scheme will be in touch with you."
LEAD_SUSPENSION = "Only the Safeguarding Lead can change this member's state while they are suspended."


@transaction.atomic
def member_register(*, user, details: dict, scheme, roles, network, accepted_versions):
    """Complete a new sign-up: details, first scheme memberships and document acceptances, all or nothing."""
    member_details_update(user=user, details=details)
    terms_accept(user=user, versions=accepted_versions)
    memberships_join(user=user, scheme=scheme, roles=roles, network=network)
    return user


@transaction.atomic
def memberships_join(*, user, scheme: Scheme, roles: Iterable[str], network: LocalNetwork) -> list[SchemeMembership]:
    """Join `scheme` in each of `roles`, all or none."""
    return [membership_join(user=user, scheme=scheme, role=role, network=network) for role in roles]


@transaction.atomic
def membership_join(*, user, scheme: Scheme, role: str, network: LocalNetwork) -> SchemeMembership:
    """Join `scheme` in `role` (R-SCHEME-1). Joining again after withdrawing reopens the membership."""
    if not scheme.is_open:
        raise ValidationError(f"{scheme} is not taking new members.")
    if Suspension.objects.filter(member=user, lifted_at__isnull=True).exists():
        # Suspended by the Safeguarding Lead (R-SAFE-2): no way back in through another scheme or role.
        raise ValidationError(SUSPENDED_JOIN)
    membership, created = SchemeMembership.objects.select_for_update().get_or_create(
        user=user, scheme=scheme, role=role, defaults={"network": network}
    )
    if not created:
        if membership.status != SchemeMembership.Status.WITHDRAWN:
            raise ValidationError(f"You are already a {membership.get_role_display().lower()} in {scheme}.")
        membership.network = network
        membership.status = SchemeMembership.Status.PENDING
        membership.status_changed_at = timezone.now()
        membership.save(update_fields=["network", "status", "status_changed_at"])
    notify(
        user,
        "welcome",
        scheme,
        body="Your onboarding checklist shows what is left before you can take part.",
        url="/onboarding/",
    )
    memberships_activate_eligible(user=user)
    return membership


@transaction.atomic
def terms_accept(*, user, versions: Iterable[TermsVersion]) -> list[TermsAcceptance]:
    """Record acceptance of each published version, with the time (R-SCHEME-4). Accepting twice is a no-op."""
    now = timezone.now()
    rows = []
    for version in versions:
        if not version.is_published:
            raise ValidationError(f"{version} is not published.")
        row, _ = TermsAcceptance.objects.get_or_create(user=user, version=version, defaults={"accepted_at": now})
        rows.append(row)
    memberships_activate_eligible(user=user)
    return rows


@transaction.atomic
def terms_publish(*, version_id: int, actor) -> int:
    """Publish a new version: from now every member's checklist asks for it until they accept.

    Scheme staff only. Everyone with a scheme membership is told through the
    platform and by email (R-SCHEME-4). Publishing is once only; returns how many
    members were told.
    """
    permissions.require(permissions.is_scheme_staff(actor), "Only scheme staff publish scheme documents.")
    version = TermsVersion.objects.select_for_update().get(pk=version_id)
    if version.is_published:
        raise ValidationError(f"{version} is already published.")
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    audit(actor=actor, action="terms.published", obj=version, kind=version.kind, version=version.version)
    members = get_user_model().objects.filter(memberships__isnull=False, is_active=True).distinct()
    notify_many(members, "terms_published", version, body=version.summary_of_changes, url="/documents/accept/")
    return members.count()


@transaction.atomic
def membership_status_set(*, membership_id: int, status: str, network: LocalNetwork, actor) -> SchemeMembership:
    """A coordinator of the membership's network, or staff, changes its state (suspend, pause, reinstate)
    or moves it to another network they cover; audited."""
    membership = SchemeMembership.objects.select_for_update().select_related("user").get(pk=membership_id)
    permissions.require(
        permissions.covers_network(actor, membership.network_id), "This membership is outside your networks."
    )
    permissions.require(
        permissions.covers_network(actor, network.pk), "You can move a membership only to a network you coordinate."
    )
    if status not in SchemeMembership.Status.values:
        raise ValidationError(f"“{status}” is not a membership state.")
    if (
        status != membership.status
        and Suspension.objects.filter(member=membership.user, lifted_at__isnull=True).exists()
    ):
        # Only the Safeguarding Lead lifts their suspension, and with it every membership it suspended.
        raise ValidationError(LEAD_SUSPENSION)
    if status == SchemeMembership.Status.WITHDRAWN and membership.status != status:
        # Withdrawal ends pairings and tells partners: mentoring.ending.membership_withdraw does it.
        raise ValidationError("Withdraw a member through the withdrawal page, which ends their pairings.")
    previous, previous_network = membership.status, membership.network
    membership.network = network
    if status != previous:
        membership.status = status
        membership.status_changed_at = timezone.now()
    if status != previous or network != previous_network:
        audit(
            actor=actor,
            action="membership.scheme_status",
            target_user=membership.user,
            obj=membership,
            previous=previous,
            status=status,
            previous_network=previous_network.name,
            network=network.name,
        )
    membership.save(update_fields=["network", "status", "status_changed_at"])
    if status == SchemeMembership.Status.PENDING:
        memberships_activate_eligible(user=membership.user)
    return membership


class PairingRefused(ValidationError):
    """The pairing cannot start; the message says why in plain words."""


def coordinators_of(*, user, scheme: Scheme, role: str):
    """The coordinators of the Local Network `user` belongs to in `scheme` as `role`."""
    return (
        get_user_model()
        .objects.filter(
            coordinated_networks__memberships__user=user,
            coordinated_networks__memberships__scheme=scheme,
            coordinated_networks__memberships__role=role,
            is_active=True,
        )
        .distinct()
    )


def pairing_check(*, mentor, mentee, scheme: Scheme, actor=None, profile: MentorProfile | None = None) -> None:
    """Raise PairingRefused, in plain words, when this pairing could not start now; write nothing.

    The rules of `pairing_start`, which calls it under its lock; a coordinator's proposal runs it first so
    a pairing that could not start is never proposed. The reasons are those `actor` may read.
    """
    if scheme.closes_on is not None and scheme.closes_on <= timezone.localdate():  # scheme closure (issue 7)
        raise PairingRefused(f"{scheme} closed on {scheme.closes_on:%-d %B %Y}: no new pairings start in it.")
    if profile is None:
        profile = MentorProfile.objects.filter(user=mentor).first()
    if profile is None:
        raise PairingRefused(f"{mentor.first_name} has no mentor profile.")
    for person, role in ((mentor, Role.MENTOR), (mentee, Role.MENTEE)):
        try:
            eligibility.require(person, scheme, role)
        except eligibility.NotEligible as refused:
            # Whoever asked reads the reasons: a coordinator never reads the mentor's DBS data (R-SAFE-3).
            reasons = " ".join(refused.eligibility.reasons_for(actor))
            raise PairingRefused(
                f"{person.first_name} cannot take part as a {Role(role).label.lower()} just now: {reasons}"
            ) from refused
    active = active_mentee_count(mentor)
    if active >= profile.capacity:
        raise PairingRefused(
            f"{mentor.first_name} already has {active} mentee{'s' if active != 1 else ''}, "
            f"the most they have offered to take."
        )
    if Pairing.objects.active().filter(mentor=mentor, mentee=mentee, scheme=scheme).exists():
        raise PairingRefused(f"{mentee.first_name} and {mentor.first_name} are already paired.")
    if mentor_limit_reached(mentee, scheme):
        limit = scheme.max_mentors_per_mentee
        raise PairingRefused(
            f"{mentee.first_name} already has {limit} mentor{'s' if limit != 1 else ''} in {scheme}, "
            "the most the scheme allows at once."
        )


@transaction.atomic
def pairing_start(*, mentor, mentee, scheme: Scheme, origin: str, actor=None) -> Pairing:
    """Start a pairing: both eligible, the mentor has a free place, no active pairing between them already.

    The building block of every way a pairing starts (a mentor accepting a request, both members
    confirming a coordinator's proposal); those services check who may ask for it.
    Locks the mentor's profile row, so two starts for the last place queue up and
    the second sees the first (capacity holds under races, R-MATCH-2).
    """
    try:
        profile = MentorProfile.objects.select_for_update().get(user=mentor)
    except MentorProfile.DoesNotExist as missing:
        raise PairingRefused(f"{mentor.first_name} has no mentor profile.") from missing
    pairing_check(mentor=mentor, mentee=mentee, scheme=scheme, actor=actor, profile=profile)
    membership = SchemeMembership.objects.get(user=mentee, scheme=scheme, role=Role.MENTEE)
    pairing = Pairing.objects.create(
        scheme=scheme, mentor=mentor, mentee=mentee, network=membership.network, origin=origin, created_by=actor
    )
    goals_seed(pairing)  # the pair's goals start from what the mentee set out (R-PAIR-3)
    conversation_open(pairing=pairing, members=[mentor, mentee])  # where the pair talks (R-MSG-1)
    notify(mentee, "pairing_started", pairing)
    notify(mentor, "pairing_started", pairing)
    return pairing


@transaction.atomic(durable=True)
def rematch_request(*, pairing_id: int, mentee, note: str = "") -> RematchRequest:
    """After a pairing ended for differences, the mentee asks the coordinator for another mentor (R-MATCH-6)."""
    pairing = Pairing.objects.filter(mentee=mentee).select_related("scheme").get(pk=pairing_id)
    if pairing.status != Pairing.Status.ENDED or pairing.end_reason != Pairing.EndReason.DIFFERENCES:
        raise ValidationError("You can ask for another mentor once a pairing has ended for differences.")
    rematch, created = RematchRequest.objects.get_or_create(
        pairing=pairing, defaults={"mentee": mentee, "note": note.strip()[:1000]}
    )
    if created:
        notify_many(
            coordinators_of(user=mentee, scheme=pairing.scheme, role=Role.MENTEE),
            "rematch_requested",
            rematch,
            body=rematch.note,
            url="/admin/mentoring/rematchrequest/",
        )
    return rematch
