"""What the change history tracks (issue 9, item 6), kept by django-auditlog.

django-auditlog was chosen because it is maintained, stores each change as JSON on SQLite and PostgreSQL
alike, names the signed-in person through its middleware, and keeps a diff (field: from → to) rather than
whole copies. Every save of a tracked model, from the admin, a member's page or a scheduled job, writes one
entry. Staff and the Safeguarding Lead read it in the admin, read-only (mentoring/admin_scoping.py).

Never tracked: messages, conversations and notifications (confidential, R-MSG-5), passwords and two-factor
secrets. Only a record's own columns are tracked (auditlog would otherwise read reverse relations on create,
and leave "no related object" cached on the instance); free text that is confidential is left out.
"""

from auditlog.registry import auditlog
from django.apps import apps


def _spec(label, *, only=None, leave_out=(), mask=(), m2m=()):
    return {"model": label, "only": only, "leave_out": set(leave_out), "mask": list(mask), "m2m": set(m2m)}


TRACKED = (
    _spec(
        "accounts.User",
        only=(
            "email",
            "is_active",
            "is_staff",
            "is_superuser",
            "membership_number",
            "membership_grade",
            "membership_status",
            "membership_expires_on",
        ),
        m2m=("groups",),  # who made whom a coordinator, staff or the Safeguarding Lead
    ),
    _spec("mentoring.SchemeMembership"),  # joins, activation, suspension, withdrawal
    _spec("mentoring.TermsVersion", leave_out=("body",)),
    _spec("mentoring.TermsAcceptance"),
    _spec("mentoring.Pairing"),
    _spec("matching.MentorProfile"),
    _spec("matching.MentorshipRequest"),
    _spec("matching.ProfileReport"),
    _spec("safeguarding.DBSCheck", mask=("certificate_number",)),
    _spec("safeguarding.TrainingRecord"),
    _spec("safeguarding.Complaint", leave_out=("text",)),
    # Listed to the Safeguarding Lead group only (ChangeHistoryAdmin); the account itself is never copied here,
    # nor what the Lead wrote: the history says who triaged, noted, closed, suspended and lifted, and when.
    _spec("safeguarding.Concern", leave_out=("what_happened", "person_name", "outcome")),
    _spec("safeguarding.ConcernNote", leave_out=("text",)),
    _spec("safeguarding.Suspension", m2m=("paused_pairings",)),
)
# Not here, on purpose: a conversation access grant never changes once made, and the access log is itself an
# append-only record of every read (R-MSG-5), shown read-only in the admin.

# Whose history only the Safeguarding Lead group reads.
LEAD_ONLY = ("safeguarding.Concern", "safeguarding.ConcernNote", "safeguarding.Suspension")


def tracked_fields(model, spec) -> list[str]:
    names = [f.name for f in model._meta.concrete_fields if not f.primary_key]
    if spec["only"] is not None:
        names = [n for n in names if n in spec["only"]]
    return [n for n in names if n not in spec["leave_out"]]


def register_all() -> None:
    """Called once from SafeguardingConfig.ready(); registering again is harmless."""
    for spec in TRACKED:
        model = apps.get_model(spec["model"])
        if auditlog.contains(model):
            continue
        auditlog.register(
            model,
            include_fields=tracked_fields(model, spec),
            mask_fields=spec["mask"],
            m2m_fields=spec["m2m"],
        )
