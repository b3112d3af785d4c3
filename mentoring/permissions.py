"""Who may do what: the role checks that services, the admin and views share (R-COORD-1, R-SAFE-3).

Roles are groups made by a data migration. "Scheme staff" is the Staff group
(a superuser counts as staff); coordinators act only within the Local Networks
they coordinate, judged by the network of the record itself, not by any
network the person belongs to.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q

from mentoring.models import LocalNetwork, SchemeMembership


def holds_role(user, *groups: str) -> bool:
    """An active admin user in one of `groups` (a superuser holds every role)."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    return user.is_superuser or any(user.in_group(g) for g in groups)


def is_scheme_staff(user) -> bool:
    return holds_role(user, settings.GROUP_STAFF)


def is_coordinator(user) -> bool:
    return holds_role(user, settings.GROUP_COORDINATORS)


def is_safeguarding_lead(user) -> bool:
    return holds_role(user, settings.GROUP_SAFEGUARDING_LEAD)


def sees_dbs_data(user) -> bool:
    """DBS data is criminal-offence data: scheme staff and the Safeguarding Lead only, never coordinators (R-SAFE-3)."""
    return is_scheme_staff(user) or is_safeguarding_lead(user)


def coordinator_only(user) -> bool:
    """A coordinator who is not also staff: everything they see is limited to their networks."""
    return is_coordinator(user) and not is_scheme_staff(user)


def coordinated_network_ids(user) -> frozenset[int]:
    """The networks `user` coordinates; cached on the instance (asked many times per admin page)."""
    if not hasattr(user, "_coordinated_network_ids"):
        user._coordinated_network_ids = frozenset(
            LocalNetwork.objects.filter(coordinators=user).values_list("pk", flat=True)
        )
    return user._coordinated_network_ids


def covers_network(user, network_id: int | None) -> bool:
    """Scheme staff cover every network; a coordinator covers the networks they coordinate."""
    if is_scheme_staff(user):
        return True
    return is_coordinator(user) and network_id in coordinated_network_ids(user)


def membership_in_scope(coordinator, *, member: str, role: str | None = None, scheme: str | None = None) -> Exists:
    """SQL: the row's member (`member` is the lookup from the row to the user) has a membership in one
    of `coordinator`'s networks, optionally in the row's own scheme and in one role."""
    memberships = SchemeMembership.objects.filter(user=OuterRef(member), network__coordinators=coordinator)
    if role is not None:
        memberships = memberships.filter(role=role)
    if scheme is not None:
        memberships = memberships.filter(scheme=OuterRef(scheme))
    return Exists(memberships)


def network_in_scope(coordinator, *, network: str) -> Q:
    """SQL: the row's own network (`network` is the lookup to it) is one `coordinator` coordinates.

    The ids themselves (read once per request, `coordinated_network_ids`), not a subquery: PostgreSQL then
    knows how few rows a network holds and filters before it joins, where with a subquery it joined every
    meeting of every network to its pairing and people first (0.6 s for a coordinator's list of 150,000).
    """
    return Q(**{f"{network}__in": sorted(coordinated_network_ids(coordinator))})


def covers_member(user, member, *, role: str | None = None, scheme=None) -> bool:
    """Staff cover everyone; a coordinator covers a member with a membership in one of their networks
    (in `scheme` and `role` when given)."""
    if is_scheme_staff(user):
        return True
    if not is_coordinator(user):
        return False
    memberships = SchemeMembership.objects.filter(user=member, network_id__in=coordinated_network_ids(user))
    if role is not None:
        memberships = memberships.filter(role=role)
    if scheme is not None:
        memberships = memberships.filter(scheme=scheme)
    return memberships.exists()


def require(allowed: bool, message: str = "You do not have permission to do this.") -> None:
    """Services call this with the outcome of a check above: refuse with 403, never act."""
    if not allowed:
        raise PermissionDenied(message)
