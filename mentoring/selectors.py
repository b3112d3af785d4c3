"""Shared reads for scheme membership and documents."""

from mentoring.models import SchemeMembership, TermsVersion
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
