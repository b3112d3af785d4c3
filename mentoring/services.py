"""Scheme membership and scheme documents: the only writers."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mentoring.models import LocalNetwork, Scheme, SchemeMembership, TermsAcceptance, TermsVersion
from messaging.services import notify, notify_many
from safeguarding import eligibility


@transaction.atomic
def memberships_join(*, user, scheme: Scheme, roles: Iterable[str], network: LocalNetwork) -> list[SchemeMembership]:
    """Join `scheme` in each of `roles`, all or none."""
    return [membership_join(user=user, scheme=scheme, role=role, network=network) for role in roles]


@transaction.atomic
def membership_join(*, user, scheme: Scheme, role: str, network: LocalNetwork) -> SchemeMembership:
    """Join `scheme` in `role` (R-SCHEME-1). Joining again after withdrawing reopens the membership."""
    if not scheme.is_open:
        raise ValidationError(f"{scheme} is not taking new members.")
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
def terms_publish(*, version: TermsVersion) -> int:
    """Publish a new version: from now every member's checklist asks for it until they accept.

    Everyone with a scheme membership is told through the platform and by email
    (R-SCHEME-4). Publishing is once only; returns how many members were told.
    """
    locked = TermsVersion.objects.select_for_update().get(pk=version.pk)
    if locked.is_published:
        raise ValidationError(f"{locked} is already published.")
    locked.published_at = timezone.now()
    locked.save(update_fields=["published_at"])
    version.published_at = locked.published_at
    members = get_user_model().objects.filter(memberships__isnull=False, is_active=True).distinct()
    notify_many(members, "terms_published", locked, body=locked.summary_of_changes, url="/documents/accept/")
    return members.count()


@transaction.atomic
def memberships_activate_eligible(*, user) -> list[SchemeMembership]:
    """Move the member's onboarding memberships to active once the engine finds nothing unmet.

    Called whenever the evidence changes (acceptance, training, DBS, membership check).
    """
    activated = []
    pending = SchemeMembership.objects.filter(user=user, status=SchemeMembership.Status.PENDING).select_related(
        "scheme"
    )
    for membership in pending:
        if eligibility.check(user, membership.scheme, membership.role, membership=membership).ok:
            membership.status = SchemeMembership.Status.ACTIVE
            membership.status_changed_at = timezone.now()
            membership.save(update_fields=["status", "status_changed_at"])
            notify(user, "eligible", membership, url="/onboarding/")
            activated.append(membership)
    return activated


@transaction.atomic
def membership_status_set(*, membership: SchemeMembership, status: str, changed_by) -> SchemeMembership:
    """A coordinator or staff member changes a membership's state (suspend, pause, reinstate), audited."""
    from safeguarding.services import audit

    locked = SchemeMembership.objects.select_for_update().get(pk=membership.pk)
    previous = locked.status
    locked.network = membership.network
    if status != previous:
        locked.status = status
        locked.status_changed_at = timezone.now()
        audit(
            actor=changed_by,
            action="membership.scheme_status",
            target_user=locked.user,
            obj=locked,
            previous=previous,
            status=status,
        )
    locked.save(update_fields=["network", "status", "status_changed_at"])
    if status == SchemeMembership.Status.PENDING:
        memberships_activate_eligible(user=locked.user)
    return locked


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


@transaction.atomic
def pairing_start(*, mentor, mentee, scheme: Scheme, origin: str, created_by=None):
    """Start a pairing: both eligible, the mentor has a free place, no active pairing between them already.

    Locks the mentor's profile row, so two starts for the last place queue up and
    the second sees the first (capacity holds under races, R-MATCH-2).
    """
    from matching.models import MentorProfile
    from mentoring.models import Pairing, Role

    try:
        profile = MentorProfile.objects.select_for_update().get(user=mentor)
    except MentorProfile.DoesNotExist as missing:
        raise PairingRefused(f"{mentor.first_name} has no mentor profile.") from missing
    for person, role in ((mentor, Role.MENTOR), (mentee, Role.MENTEE)):
        result = eligibility.check(person, scheme, role)
        if not result.ok:
            reasons = " ".join(c.reason for c in result.unmet)
            raise PairingRefused(f"{person.first_name} cannot take part as a {role} just now: {reasons}")
    active = Pairing.objects.active().filter(mentor=mentor).count()
    if active >= profile.capacity:
        raise PairingRefused(
            f"{mentor.first_name} already has {active} mentee{'s' if active != 1 else ''}, "
            f"the most they have offered to take."
        )
    if Pairing.objects.active().filter(mentor=mentor, mentee=mentee, scheme=scheme).exists():
        raise PairingRefused(f"{mentee.first_name} and {mentor.first_name} are already paired.")
    membership = SchemeMembership.objects.get(user=mentee, scheme=scheme, role=Role.MENTEE)
    pairing = Pairing.objects.create(
        scheme=scheme, mentor=mentor, mentee=mentee, network=membership.network, origin=origin, created_by=created_by
    )
    notify(mentee, "pairing_started", pairing)
    notify(mentor, "pairing_started", pairing)
    return pairing
