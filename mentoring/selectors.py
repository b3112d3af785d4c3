"""Shared reads for scheme membership, documents and pairings."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from mentoring.models import Pairing, SchemeMembership, TermsVersion
from safeguarding import eligibility


def onboarding_checklists(user) -> list[tuple[SchemeMembership, eligibility.Eligibility]]:
    """Each of the member's memberships with its eligibility checklist, withdrawn ones last."""
    memberships = (
        SchemeMembership.objects.filter(user=user).select_related("scheme", "network").order_by("scheme__name", "role")
    )
    return [(m, eligibility.check(user, m.scheme, m.role, membership=m)) for m in memberships]


def versions_awaiting_acceptance(user) -> list[TermsVersion]:
    current = list(TermsVersion.objects.current_to_accept())
    accepted = set(user.acceptances.filter(version__in=current).values_list("version_id", flat=True))
    return [v for v in current if v.pk not in accepted]


def access_pairing(user, pk: int) -> Pairing:
    """A pairing `user` is part of, or 404 (another person's pairing is simply not found)."""
    return get_object_or_404(Pairing.objects.visible_to(user).select_related("mentor", "mentee", "scheme"), pk=pk)


# The one definition of a mentor's taken places: their active pairings (R-MATCH-2). The count for
# one mentor and the column for many are both built from Pairing.objects.active().


def active_mentor_count(mentee, scheme) -> int:
    """How many mentors the mentee has in `scheme` just now (R-MATCH-8)."""
    return Pairing.objects.active().filter(mentee=mentee, scheme=scheme).count()


def mentor_limit_reached(mentee, scheme) -> bool:
    """The mentee already has as many mentors in `scheme` as it allows at once (R-MATCH-8)."""
    return active_mentor_count(mentee, scheme) >= scheme.max_mentors_per_mentee


def mentor_limit_message(scheme) -> str:
    limit = scheme.max_mentors_per_mentee
    return (
        f"You already have {limit} mentor{'s' if limit != 1 else ''} in {scheme}, the most the scheme allows at once. "
        "You can ask for another when a pairing ends."
    )


def active_mentee_count(mentor) -> int:
    return Pairing.objects.active().filter(mentor=mentor).count()


def active_mentees_column(mentor_ref: str) -> Coalesce:
    """SQL column: how many active pairings the mentor at `mentor_ref` (a lookup to a user id) has."""
    counts = (
        Pairing.objects.active()
        .filter(mentor=OuterRef(mentor_ref))
        .order_by()
        .values("mentor")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
