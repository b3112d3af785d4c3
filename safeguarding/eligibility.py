"""The eligibility engine: may this person act in this role in this scheme today?

Every gated action (publish a profile, request, accept, message) asks
`check` and shows its reasons; nothing else re-implements these rules
(R-ELIG-1 to R-ELIG-6). `check` never stops at the first problem: it returns
every unmet condition, each with a plain-language reason and the step that
fixes it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import MembershipStatus, age_on
from mentoring.models import Role, Scheme, SchemeMembership, TermsVersion
from safeguarding.models import DBSCheck, TrainingKind

ADULT_AGE = 18


@dataclass(frozen=True)
class Condition:
    """One condition of taking part, met or not."""

    code: str
    label: str  # what the checklist calls it: "Aged 18 or over"
    met: bool
    reason: str = ""  # why it is unmet, in plain words
    fix: str = ""  # the step that fixes it
    fix_url: str = ""


@dataclass(frozen=True)
class Eligibility:
    user_id: int
    scheme_id: int
    role: str
    conditions: list[Condition] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def unmet(self) -> list[Condition]:
        return [c for c in self.conditions if not c.met]


class NotEligible(Exception):
    """Raised by `require`; carries the Eligibility so callers can show every reason."""

    def __init__(self, eligibility: Eligibility):
        self.eligibility = eligibility
        super().__init__("; ".join(c.reason for c in eligibility.unmet))


def _age(user, today) -> Condition:
    label = "Aged 18 or over"
    if user.date_of_birth is None:
        return Condition(
            "age",
            label,
            False,
            "We do not have your date of birth.",
            "Add your date of birth to your details.",
            reverse("account_details"),
        )
    if age_on(user.date_of_birth, today) < ADULT_AGE:
        return Condition(
            "age", label, False, "The scheme is open to members aged 18 or over.", "You can join once you turn 18."
        )
    return Condition("age", label, True)


def _membership(user, today) -> Condition:
    label = "Active membership"
    fix_contact = "Your Local Network coordinator or the membership team records it once checked."
    if not user.membership_number:
        return Condition(
            "membership",
            label,
            False,
            "We do not have your membership number.",
            "Add your membership number to your details.",
            reverse("account_details"),
        )
    if user.membership_status == MembershipStatus.UNVERIFIED:
        return Condition(
            "membership",
            label,
            False,
            f"Your membership number {user.membership_number} has not been checked yet.",
            fix_contact,
        )
    if user.membership_status == MembershipStatus.LAPSED or (
        user.membership_expires_on is not None and user.membership_expires_on < today
    ):
        return Condition(
            "membership",
            label,
            False,
            "Your membership has lapsed; participation is suspended until it is renewed.",
            "Renew your membership; " + fix_contact[0].lower() + fix_contact[1:],
        )
    return Condition("membership", label, True)


def _training(user, today, kind: TrainingKind, records) -> Condition:
    label = f"{kind.label} completed"
    mine = [r for r in records if r.kind == kind]
    current = [r for r in mine if r.expires_on is None or r.expires_on >= today]
    if current:
        return Condition(kind.value, label, True)
    fix = f"Complete the {kind.label}; your Local Network coordinator then records it here."
    if mine:
        latest = max(mine, key=lambda r: r.expires_on or datetime.date.max)
        return Condition(
            kind.value,
            label,
            False,
            f"Your {kind.label} expired on {date_format(latest.expires_on, 'j F Y')}.",
            "Take the refresher. " + fix,
        )
    return Condition(kind.value, label, False, f"Mentors complete the {kind.label} before they start.", fix)


def dbs_expires_on(check: DBSCheck, scheme: Scheme) -> datetime.date | None:
    if check.cleared_on is None:
        return None
    try:
        return check.cleared_on.replace(year=check.cleared_on.year + scheme.dbs_recheck_years)
    except ValueError:  # cleared on 29 February
        return check.cleared_on.replace(year=check.cleared_on.year + scheme.dbs_recheck_years, day=28)


def _dbs(user, today, scheme: Scheme, checks) -> Condition:
    label = "DBS check cleared"
    fix = "Staff request the check; you complete the form they send you."
    cleared = [
        c for c in checks if c.status == DBSCheck.Status.CLEARED and (dbs_expires_on(c, scheme) or today) >= today
    ]
    if cleared:
        return Condition("dbs", label, True)
    statuses = {c.status for c in checks}
    if DBSCheck.Status.REFUSED in statuses:
        return Condition(
            "dbs",
            label,
            False,
            "Your DBS check was refused, so you cannot mentor in this scheme.",
            "Contact the scheme staff if you believe this is wrong.",
        )
    if statuses & {DBSCheck.Status.REQUESTED, DBSCheck.Status.SUBMITTED}:
        return Condition(
            "dbs",
            label,
            False,
            "Your DBS check is in progress.",
            "Nothing to do yet: we will update this list when it clears.",
        )
    if checks:
        return Condition(
            "dbs",
            label,
            False,
            f"{scheme} needs a DBS check renewed every {scheme.dbs_recheck_years} years; yours has expired.",
            fix,
        )
    return Condition("dbs", label, False, f"{scheme} needs a cleared DBS check for mentors.", fix)


def _documents(user, current_versions, accepted_ids) -> Condition:
    label = "Terms, code of conduct and privacy notice accepted"
    missing = [v for v in current_versions if v.pk not in accepted_ids]
    if not missing:
        return Condition("documents", label, True)
    names = ", ".join(f"{v.get_kind_display().lower()} ({v.version})" for v in missing)
    return Condition(
        "documents",
        label,
        False,
        f"You have not yet accepted the current {names}.",
        "Read and accept them.",
        reverse("documents_accept"),
    )


def _membership_status(membership: SchemeMembership | None, scheme: Scheme, role: str) -> Condition:
    label = f"Joined {scheme} as a {Role(role).label.lower()}"
    if membership is None:
        return Condition(
            "joined",
            label,
            False,
            f"You have not joined {scheme} as a {Role(role).label.lower()}.",
            "Join the scheme.",
            reverse("scheme_join"),
        )
    status = membership.status
    if status == SchemeMembership.Status.SUSPENDED:
        return Condition(
            "joined",
            label,
            False,
            "Your participation is suspended.",
            "The scheme staff will contact you; you can also write to your coordinator.",
        )
    if status == SchemeMembership.Status.WITHDRAWN:
        return Condition(
            "joined", label, False, "You withdrew from this scheme.", "Join the scheme again.", reverse("scheme_join")
        )
    if status == SchemeMembership.Status.PAUSED:
        return Condition("joined", label, False, "You have paused your participation.", "Resume when you are ready.")
    return Condition("joined", label, True)


def check(
    user,
    scheme: Scheme,
    role: str,
    *,
    today: datetime.date | None = None,
    membership: SchemeMembership | bool | None = False,
) -> Eligibility:
    """Every condition for `user` acting as `role` in `scheme` on `today` (default: today in the active time zone).

    Pass `membership` when the caller already holds it (None means "has none").
    Runs four queries at most; reads only.
    """
    today = today or timezone.localdate()
    if membership is False:
        membership = SchemeMembership.objects.filter(user=user, scheme=scheme, role=role).first()
    current_versions = list(TermsVersion.objects.current_to_accept())
    accepted_ids = set(user.acceptances.filter(version__in=current_versions).values_list("version_id", flat=True))

    conditions = [
        _membership_status(membership, scheme, role),
        _age(user, today),
        _membership(user, today),
        _documents(user, current_versions, accepted_ids),
    ]
    if role == Role.MENTOR:
        records = list(user.training_records.all())
        conditions.append(_training(user, today, TrainingKind.SAFEGUARDING_ELEARNING, records))
        conditions.append(_training(user, today, TrainingKind.MENTOR_TRAINING, records))
        if scheme.dbs_required:
            conditions.append(_dbs(user, today, scheme, list(user.dbs_checks.all())))
    return Eligibility(user_id=user.pk, scheme_id=scheme.pk, role=role, conditions=conditions)


def require(user, scheme: Scheme, role: str, **kwargs) -> Eligibility:
    """`check`, raising NotEligible (with every reason) when any condition is unmet."""
    result = check(user, scheme, role, **kwargs)
    if not result.ok:
        raise NotEligible(result)
    return result


def eligible_users(scheme: Scheme, role: str, *, today: datetime.date | None = None):
    """The users `check` would find eligible, as one queryset (for listing thousands of mentors).

    The same conditions as `check`, written as SQL; tests/safeguarding/test_eligible_users.py
    shows the two agree on every combination of evidence.
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Q

    from mentoring.models import TermsAcceptance
    from safeguarding.models import TrainingRecord

    today = today or timezone.localdate()
    try:
        adult_born_by = today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # today is 29 February: an 18th birthday on 29 February counts from 1 March
        adult_born_by = today.replace(year=today.year - ADULT_AGE, day=28)
    users = (
        get_user_model()
        .objects.filter(
            memberships__scheme=scheme,
            memberships__role=role,
            memberships__status__in=[SchemeMembership.Status.PENDING, SchemeMembership.Status.ACTIVE],
            date_of_birth__lte=adult_born_by,
            membership_status=MembershipStatus.ACTIVE,
        )
        .exclude(membership_number="")
        .filter(Q(membership_expires_on__isnull=True) | Q(membership_expires_on__gte=today))
    )
    for version in TermsVersion.objects.current_to_accept():
        users = users.filter(Exists(TermsAcceptance.objects.filter(user=OuterRef("pk"), version=version)))
    if role == Role.MENTOR:
        for kind in TrainingKind:
            users = users.filter(
                Exists(
                    TrainingRecord.objects.filter(user=OuterRef("pk"), kind=kind).filter(
                        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
                    )
                )
            )
        if scheme.dbs_required:
            try:
                cleared_since = today.replace(year=today.year - scheme.dbs_recheck_years)
            except ValueError:
                cleared_since = today.replace(year=today.year - scheme.dbs_recheck_years, day=28)
            users = users.filter(
                Exists(
                    DBSCheck.objects.filter(
                        user=OuterRef("pk"), status=DBSCheck.Status.CLEARED, cleared_on__gte=cleared_since
                    )
                )
            )
    return users
