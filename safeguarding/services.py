"""Recording training, DBS checks and membership checks: the only writers, each audited and notified."""

from django.db import transaction

from accounts.models import MembershipStatus, User
from mentoring.services import memberships_activate_eligible
from messaging.services import notify
from safeguarding.models import AuditEvent, DBSCheck, TrainingRecord


def audit(*, actor, action: str, target_user=None, obj=None, **detail) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_user=target_user,
        object_repr=str(obj)[:200] if obj is not None else "",
        detail=detail,
    )


@transaction.atomic
def training_record_save(*, record: TrainingRecord, recorded_by) -> TrainingRecord:
    """Save a training completion (R-ELIG-3); the member's checklist updates at once."""
    created = record.pk is None
    record.recorded_by = recorded_by
    record.full_clean()
    record.save()
    audit(
        actor=recorded_by,
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
def dbs_check_save(*, check: DBSCheck, recorded_by, previous_status: str | None) -> DBSCheck:
    """Save a DBS check and audit any change of status (R-SAFE-3). The member sees only that it changed."""
    check.recorded_by = recorded_by
    check.full_clean()
    check.save()
    if previous_status != check.status:
        audit(
            actor=recorded_by,
            action="dbs.status",
            target_user=check.user,
            obj=f"DBS check {check.pk}",
            previous=previous_status,
            status=check.status,
            level=check.level,
        )
        notify(check.user, "dbs_updated", url="/onboarding/")
    memberships_activate_eligible(user=check.user)
    return check


@transaction.atomic
def membership_check_record(*, member: User, checked_by, previous_status: str | None) -> User:
    """Staff or a coordinator recorded the member's professional-body membership (R-ELIG-2)."""
    member.full_clean(exclude=["password"])
    member.save()
    if previous_status != member.membership_status:
        audit(
            actor=checked_by,
            action="membership.status",
            target_user=member,
            obj=member,
            previous=previous_status,
            status=member.membership_status,
            expires_on=str(member.membership_expires_on) if member.membership_expires_on else None,
        )
        if member.membership_status == MembershipStatus.ACTIVE:
            notify(member, "membership_checked", url="/onboarding/")
    memberships_activate_eligible(user=member)
    return member
