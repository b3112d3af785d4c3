"""The daily eligibility sweep (issue 9, item 5; R-ELIG-2 to R-ELIG-4).

DBS checks past their expiry move to "expired". Then every taking-part (active) membership that the
eligibility engine no longer finds eligible because the member's professional membership lapsed, or
their training or DBS check expired, is told once: the member, and the coordinators of the
membership's network (in neutral words where the reason is DBS data, R-SAFE-3). An EligibilityLapse
row per membership and condition records the notice, so the next day's sweep tells nobody again; it
closes when the condition is met again, so a later lapse is told afresh.

The sweep changes no membership's state and deletes nothing. The engine already judges the member
ineligible wherever it is asked: their profile drops out of the listing (matching.listing follows
the engine), new requests to or from them are refused, and a request they accept cannot start a
pairing. Pairings already running continue, messages included: suspending a member is the
Safeguarding Lead's act, not the calendar's.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from mentoring.models import Role, Scheme, SchemeMembership
from messaging.services import notify, notify_many
from safeguarding import dbs, eligibility
from safeguarding.models import EligibilityLapse, TrainingKind

# The conditions that lapse with time (the professional membership, training, DBS). Documents are left
# out: publishing a new version tells every member itself (R-SCHEME-4).
LAPSING = ("membership", *TrainingKind.values, "dbs")
ACTIVE = SchemeMembership.Status.ACTIVE


def eligibility_sweep() -> int:
    """The daily job. Returns how many memberships' lapses were told. Safe to run twice, or two at once."""
    dbs.dbs_checks_expire()
    told = 0
    for scheme in Scheme.objects.all():
        for role in Role.values:
            active = SchemeMembership.objects.filter(scheme=scheme, role=role, status=ACTIVE)
            # One query per scheme and role finds those the engine no longer finds eligible.
            ineligible = active.exclude(user__in=eligibility.eligible_users(scheme, role))
            for pk in list(ineligible.values_list("pk", flat=True)):
                told += _tell_lapses(pk)
    for pk in list(EligibilityLapse.objects.filter(ended_on__isnull=True).values_list("pk", flat=True)):
        _close_if_met(pk)
    return told


def member_recheck(*, member) -> None:
    """Ask the engine again, now, about each of `member`'s taking-part memberships (after their professional
    membership changed, issue 11 item 3): a condition newly unmet is told once, as the sweep tells it; a lapse
    whose condition is met again is closed."""
    for membership_id in list(member.memberships.filter(status=ACTIVE).values_list("pk", flat=True)):
        _tell_lapses(membership_id)
    open_lapses = EligibilityLapse.objects.filter(membership__user=member, ended_on__isnull=True)
    for lapse_id in list(open_lapses.values_list("pk", flat=True)):
        _close_if_met(lapse_id)


@transaction.atomic
def _tell_lapses(membership_id: int) -> int:
    # The membership's row lock makes a second sweep at the same moment wait, then find the lapses recorded.
    membership = (
        SchemeMembership.objects.select_for_update(of=("self",))
        .select_related("user", "scheme", "network")
        .get(pk=membership_id)
    )
    if membership.status != ACTIVE:
        return 0
    member = membership.user
    result = eligibility.check(member, membership.scheme, membership.role, membership=membership)
    told = set(
        EligibilityLapse.objects.filter(membership=membership, ended_on__isnull=True).values_list("code", flat=True)
    )
    new = [c for c in result.unmet if c.code in LAPSING and c.code not in told]
    if not new:
        return 0
    today = eligibility.judged_on(member)
    EligibilityLapse.objects.bulk_create(
        [EligibilityLapse(membership=membership, code=c.code, lapsed_on=today) for c in new]
    )
    notify(
        member,
        "eligibility_lapsed",
        membership,
        body=" ".join(f"{c.reason} {c.fix}" for c in new)
        + " Your pairings go on; you are not listed for new requests until this is put right.",
        url=reverse("onboarding"),
    )
    coordinators = list(membership.network.coordinators.filter(is_active=True))
    if coordinators:
        role = Role(membership.role).label.lower()
        # Coordinators never read DBS data: a DBS lapse is named in neutral words.
        lapsed = "; ".join(
            eligibility.WITHHELD_REASON.rstrip(".") if c.code in eligibility.STAFF_ONLY_CODES else c.label for c in new
        )
        notify_many(
            coordinators,
            "eligibility_lapsed_coordinator",
            membership,
            body=f"{member.get_full_name()}, {role} in {membership.scheme}, can no longer take part. "
            f"No longer met: {lapsed}. Their running pairings go on.",
            url=reverse("admin:mentoring_schememembership_change", args=[membership.pk]),
        )
    return 1


@transaction.atomic
def _close_if_met(lapse_id: int) -> None:
    lapse = (
        EligibilityLapse.objects.select_for_update(of=("self",))
        .select_related("membership__user", "membership__scheme")
        .get(pk=lapse_id)
    )
    membership = lapse.membership
    if lapse.ended_on is not None or membership.status != ACTIVE:
        return  # closed already, or not taking part: told once is enough until they are
    result = eligibility.check(membership.user, membership.scheme, membership.role, membership=membership)
    if lapse.code not in {c.code for c in result.unmet}:
        lapse.ended_on = eligibility.judged_on(membership.user)
        lapse.save(update_fields=["ended_on"])
