"""Which memberships are eligible now, kept in a table the dashboards count (R-REPORT-1, R-ELIG-*).

`eligibility.eligible_memberships` is the one definition; the table `EligibleMembership` is derived from
it and from nothing else, as the mentor listing is (matching/listing.py):

- `refresh(user_ids=...)` judges those members' memberships again. The signals connected by `connect()`
  call it on every save of something eligibility depends on (the member's own row, a membership, an
  acceptance, a course record, a DBS check), inside the same transaction, so a rolled-back change leaves
  the table as it was.
- `refresh_all()` judges every membership (or a scheme's), writing only the rows that differ. Eligibility
  also changes as days pass (a course, a DBS check or a membership expires at midnight where the member
  lives), so the scheduler runs it every 15 minutes (`refresh-eligible-memberships`); a change of the
  documents (every scheme) or of a scheme's rules (that scheme) calls it too.

Counting eligible members over 20,000 memberships from the rules took the database 130 ms per dashboard;
from this table it is a join. tests/safeguarding/test_eligible_table.py proves the table agrees with the
engine after each kind of write.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from mentoring.derived import Batch, members_saved
from mentoring.models import Scheme, SchemeMembership, TermsAcceptance, TermsVersion
from safeguarding.eligibility import Eligibility, check, eligible_memberships
from safeguarding.models import DBSCheck, EligibleMembership, TrainingRecord


def _sync(memberships, *, user_ids: list[int] | None = None, schemes: list[Scheme] | None = None) -> int:
    """Write the rows of `memberships` (of `user_ids` and `schemes` when given) that differ from the engine's
    answer; returns how many changed."""
    if schemes is None:
        schemes = list(Scheme.objects.order_by("pk"))
    desired = set(memberships.filter(eligible_memberships(schemes, user_ids=user_ids)).values_list("pk", flat=True))
    rows = EligibleMembership.objects.all()
    if user_ids is not None:
        rows = rows.filter(membership__user_id__in=user_ids)
    rows = rows.filter(membership__scheme__in=schemes)
    existing = set(rows.values_list("membership_id", flat=True))
    added = sorted(desired - existing)
    gone = sorted(existing - desired)
    if added:
        # Another transaction refreshing the same member may have written the row first: that is the same row.
        EligibleMembership.objects.bulk_create(
            [EligibleMembership(membership_id=pk) for pk in added], batch_size=1000, ignore_conflicts=True
        )
    if gone:
        EligibleMembership.objects.filter(membership_id__in=gone).delete()
    return len(added) + len(gone)


def check_membership(membership: SchemeMembership) -> Eligibility:
    """`eligibility.check` of a membership's member in its scheme and role, for a page that only needs to know
    whether anything is unmet: read from the table when it says eligible (no query, with the membership fetched
    with `select_related("eligible_row")`), else the engine's own check with every reason and fix.

    The table follows every write at once; only a lapse by a date passing (a course or a DBS check expiring
    at midnight) reaches it with the scheduled job, within 15 minutes. The services acting on eligibility
    (a request, a pairing) ask the engine itself, so such a member is still refused, with the reason.
    """
    try:
        membership.eligible_row  # noqa: B018 (fetched with the membership, or a query here)
    except EligibleMembership.DoesNotExist:
        return check(membership.user, membership.scheme, membership.role, membership=membership)
    return Eligibility(user_id=membership.user_id, scheme_id=membership.scheme_id, role=membership.role)


def batched():
    """Refresh once, at the end, for all the saves made inside (seeding, imports, test factories): see
    mentoring/derived.py."""
    return _batch.block()


def refresh(*, user_ids: Iterable[int]) -> int:
    """Judge these members' memberships again and write what changed (called on each relevant save)."""
    user_ids = sorted({int(pk) for pk in user_ids if pk is not None})
    if not user_ids:
        return 0
    if _batch.noted_members(user_ids):
        return 0
    memberships = SchemeMembership.objects.filter(user_id__in=user_ids)
    if not memberships.exists():
        return 0  # most saves of a new member come before they join a scheme (a row goes with its membership)
    return _sync(memberships, user_ids=user_ids)


def refresh_all(schemes: Iterable[Scheme] | None = None) -> int:
    """Judge every membership (of `schemes`, default every scheme) again, writing only the rows that differ
    (the scheduled job; a change of the documents; a change of a scheme's rules)."""
    if _batch.noted_schemes(schemes):
        return 0
    if schemes is None:
        return _sync(SchemeMembership.objects.all())
    schemes = list(schemes)
    return _sync(SchemeMembership.objects.filter(scheme__in=schemes), schemes=schemes)


_batch = Batch("eligible_table_pending", refresh_members=lambda ids: refresh(user_ids=ids), refresh_schemes=refresh_all)


# --- Signals: every write eligibility depends on ----------------------------------------------------------

# For each model the rules read, the members whose eligibility a save of `instance` may change.
MEMBERS_OF = {
    SchemeMembership: lambda instance: [instance.user_id],
    TermsAcceptance: lambda instance: [instance.user_id],
    DBSCheck: lambda instance: [instance.user_id],
    TrainingRecord: lambda instance: [instance.user_id],
}


def _member_changed(sender, instance, update_fields=None, **kwargs):
    if user_ids := members_saved(sender, instance, MEMBERS_OF, update_fields):
        refresh(user_ids=user_ids)


def _documents_changed(sender, **kwargs):
    refresh_all()  # every member must accept the current versions


def _scheme_saved(sender, instance, **kwargs):
    refresh_all([instance])  # its DBS rule may have changed; a deleted scheme's memberships go with it


def connect() -> None:
    """Connected after `eligibility.documents_changed`, so a refresh reads the documents as they now are."""
    for model in MEMBERS_OF:
        post_save.connect(_member_changed, sender=model, dispatch_uid=f"eligible-{model._meta.label}-save")
        post_delete.connect(_member_changed, sender=model, dispatch_uid=f"eligible-{model._meta.label}-delete")
    # A deleted member's memberships, and with them their rows, go with them: only saves matter.
    post_save.connect(_member_changed, sender=get_user_model(), dispatch_uid="eligible-user-save")
    post_save.connect(_documents_changed, sender=TermsVersion, dispatch_uid="eligible-documents-save")
    post_delete.connect(_documents_changed, sender=TermsVersion, dispatch_uid="eligible-documents-delete")
    post_save.connect(_scheme_saved, sender=Scheme, dispatch_uid="eligible-scheme-save")
