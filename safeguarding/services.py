"""Recording training and membership checks: the only writers, each audited and notified (DBS checks:
safeguarding/dbs.py).

Each takes the person acting and checks their role and scope itself, so the
admin, a command and a task get the same rules.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import MembershipStatus, User
from mentoring import permissions
from mentoring.models import SchemeMembership
from messaging.services import notify
from safeguarding import eligibility
from safeguarding.audit import audit
from safeguarding.models import TrainingRecord

# The fields of a member's professional-body membership that staff and coordinators record (R-ELIG-2).
MEMBERSHIP_FIELDS = ("membership_number", "membership_grade", "membership_status", "membership_expires_on")


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
def training_record_save(*, record: TrainingRecord, actor) -> TrainingRecord:
    """Save a training completion (R-ELIG-3); the member's checklist updates at once.

    Staff record anyone's; a coordinator records training of members of their own networks.
    """
    permissions.require(
        permissions.covers_member(actor, record.user), "You can record training only for members of your networks."
    )
    created = record.pk is None
    record.recorded_by = actor
    record.full_clean()
    record.save()
    audit(
        actor=actor,
        action="training.recorded" if created else "training.changed",
        target_user=record.user,
        obj=record,
        kind=record.kind,
        completed_on=str(record.completed_on),
        expires_on=str(record.expires_on) if record.expires_on else None,
    )
    notify(record.user, "training_recorded", record.get_kind_display(), url="/onboarding/")
    memberships_activate_eligible(user=record.user)
    return record


@transaction.atomic
def membership_check_record(*, member_id: int, actor, changes: dict) -> User:
    """Staff or a coordinator of the member's network records the member's professional-body membership
    (R-ELIG-2). `changes` holds any of MEMBERSHIP_FIELDS; a change of status is audited."""
    member = User.objects.select_for_update().get(pk=member_id)
    permissions.require(
        permissions.covers_member(actor, member), "You can record membership only for members of your networks."
    )
    unknown = set(changes) - set(MEMBERSHIP_FIELDS)
    if unknown:
        raise ValueError(f"Not membership fields: {sorted(unknown)}")
    previous = member.membership_status
    for name, value in changes.items():
        setattr(member, name, value)
    member.full_clean(exclude=["password"])
    if changes:
        member.save(update_fields=list(changes))
    if previous != member.membership_status:
        audit(
            actor=actor,
            action="membership.status",
            target_user=member,
            obj=member,
            previous=previous,
            status=member.membership_status,
            expires_on=str(member.membership_expires_on) if member.membership_expires_on else None,
        )
        if member.membership_status == MembershipStatus.ACTIVE:
            notify(member, "membership_checked", url="/onboarding/")
    memberships_activate_eligible(user=member)
    return member
