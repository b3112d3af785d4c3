"""The append-only audit log of sensitive changes and reads (DESIGN: everything sensitive is audited)."""

from safeguarding.models import AuditEvent


def audit(*, actor, action: str, target_user=None, obj=None, **detail) -> AuditEvent:
    """Record that `actor` did `action` (to `target_user`, on `obj`), with JSON-able details."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_user=target_user,
        object_repr=str(obj)[:200] if obj is not None else "",
        detail=detail,
    )
