"""DBS checks (R-SAFE-3, R-ELIG-4): staff request one, it moves through its states, reminders go out once each.

The only writer of DBSCheck. Requesting and every change of state are for scheme staff and the
Safeguarding Lead alone (DBS data is criminal-offence data); each is audited and the mentor is told
that their check changed. The lifecycle:

    requested -> submitted -> cleared -> expired;  requested or submitted -> refused

A cleared check carries its certificate number and the date the certificate was issued, which is
never in the future. How long it stays current is each scheme's recheck interval from that date,
through `eligibility.dbs_expires_on`, the one definition the eligibility engine uses too; so the
expiry is computed, never stored, and follows a change of the scheme's interval. A member who mentors
in schemes with different intervals has a check that lapses first in the strictest one: the expiry
reminder is timed by that one, and the check moves to "expired" once it is current in none of them.
Refused: the mentor is flagged for removal (staff withdraw them with the admin's one-click action,
mentoring.ending.refused_mentor_withdraw).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import local_today
from mentoring import permissions
from mentoring.models import Role, Scheme, SchemeMembership
from messaging.services import notify, notify_many
from safeguarding import eligibility
from safeguarding.audit import audit
from safeguarding.models import DBSCheck, DBSReminder
from safeguarding.services import memberships_activate_eligible

Status = DBSCheck.Status
Stage = DBSReminder.Stage

# The mentor is reminded of a request not yet submitted after 7 and after 14 days, staff after 21 (latest first).
MENTOR_STAGES = ((14, Stage.OUTSTANDING_14), (7, Stage.OUTSTANDING_7))
STAFF_AFTER_DAYS = 21
EXPIRY_NOTICE_DAYS = 30
# A certificate number as printed: twelve digits today; letters and up to twenty characters tolerated.
CERTIFICATE_MAX = DBSCheck._meta.get_field("certificate_number").max_length


def default_recheck_years() -> int:
    return Scheme._meta.get_field("dbs_recheck_years").default


def today_for(actor) -> datetime.date:
    """The date where the person acting is: a certificate dated today is never "in the future" for them."""
    return local_today(getattr(actor, "time_zone", "") or "")


def staff_members():
    """Who "staff" are for a notice: the active members of the Staff group."""
    return (
        get_user_model()
        .objects.filter(groups__name=settings.GROUP_STAFF, is_active=True, is_staff=True)
        .distinct()
        .order_by("pk")
    )


def _require_staff(actor) -> None:
    permissions.require(
        permissions.sees_dbs_data(actor), "Only scheme staff and the Safeguarding Lead request and record DBS checks."
    )


# --- Expiry: from the certificate's date and the schemes' recheck intervals --------------------


@dataclass(frozen=True)
class Expiry:
    """When a cleared check stops counting: first in the strictest of the member's schemes, last in the laxest."""

    first: datetime.date
    last: datetime.date


def recheck_years_of(user_ids, *, fallback: bool = True) -> dict[int, list[int]]:
    """Each member's recheck intervals: those of the schemes where they mentor (not withdrawn) and a DBS check is
    required; for a member in none of them, the default interval (or, without `fallback`, none)."""
    years: dict[int, list[int]] = defaultdict(list)
    rows = (
        SchemeMembership.objects.filter(user_id__in=user_ids, role=Role.MENTOR, scheme__dbs_required=True)
        .exclude(status=SchemeMembership.Status.WITHDRAWN)
        .values_list("user_id", "scheme__dbs_recheck_years")
    )
    for user_id, recheck in rows:
        years[user_id].append(recheck)
    default = [default_recheck_years()] if fallback else []
    return {user_id: years.get(user_id) or default for user_id in user_ids}


def expiry_of(check: DBSCheck, years: list[int] | None = None) -> Expiry | None:
    """The expiry of a check with a certificate date (None without one), by eligibility.dbs_expires_on."""
    if check.cleared_on is None:
        return None
    if years is None:
        years = recheck_years_of([check.user_id])[check.user_id]
    return Expiry(
        first=eligibility.dbs_expires_on(check.cleared_on, min(years)),
        last=eligibility.dbs_expires_on(check.cleared_on, max(years)),
    )


# --- Requesting a check -----------------------------------------------------------------------


def request_problems(*, user, level: str, level_reason: str, requested_on: datetime.date, today: datetime.date):
    """Why a check cannot be requested (a ValidationError), for the admin's form and the service alike."""
    errors = {}
    if level not in DBSCheck.Level.values:
        errors["level"] = "Choose basic, standard or enhanced."
    if not (level_reason or "").strip():
        errors["level_reason"] = "Say why the role is eligible for this level of check."
    if requested_on > today:
        errors["requested_on"] = "The request date cannot be in the future."
    if user is not None:
        mentors = SchemeMembership.objects.filter(user=user, role=Role.MENTOR).exclude(
            status=SchemeMembership.Status.WITHDRAWN
        )
        if not mentors.exists():
            errors["user"] = "DBS checks are for mentors: this member is not a mentor in any scheme."
        elif DBSCheck.objects.filter(user=user, status__in=DBSCheck.IN_PROGRESS).exists():
            errors["user"] = "This mentor already has a DBS check in progress."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def dbs_check_request(
    *, user, level: str, level_reason: str, actor, requested_on: datetime.date | None = None
) -> DBSCheck:
    """Staff or the Safeguarding Lead ask a mentor for a check at `level`, saying why the role is eligible for it.

    The mentor is told (in the platform and by email); audited.
    """
    _require_staff(actor)
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per mentor
    today = today_for(actor)
    requested_on = requested_on or today
    request_problems(user=user, level=level, level_reason=level_reason, requested_on=requested_on, today=today)
    check = DBSCheck.objects.create(
        user=user,
        level=level,
        level_reason=level_reason.strip(),
        requested_on=requested_on,
        status=Status.REQUESTED,
        recorded_by=actor,
    )
    audit(actor=actor, action="dbs.requested", target_user=user, obj=f"DBS check {check.pk}", level=level)
    notify(
        user,
        "dbs_requested",
        check,
        body=f"A {check.get_level_display().lower()} check. Scheme staff send you the form; once you have "
        "completed it, they record it here. Your checklist shows where it stands.",
        url=reverse("onboarding"),
    )
    memberships_activate_eligible(user=user)
    return check


# --- Moving a check on ------------------------------------------------------------------------


def transition_problems(
    check: DBSCheck,
    status: str,
    *,
    certificate_number: str = "",
    issued_on: datetime.date | None = None,
    today: datetime.date,
) -> None:
    """Why `check` (as stored) cannot move to `status` with these details: a ValidationError in plain words."""
    current = Status(check.status)
    if status not in Status.values:
        raise ValidationError({"status": f"“{status}” is not a state of a DBS check."})
    if status == current:
        raise ValidationError({"status": f"This check is already {current.label.lower()}."})
    allowed = DBSCheck.NEXT[current]
    if status not in allowed:
        state = current.label.lower()
        article = "An" if state[0] in "aeiou" else "A"
        if allowed:
            nexts = " or ".join(Status(s).label.lower() for s in allowed)
            message = f"{article} {state} check can only become {nexts}, not {Status(status).label.lower()}."
        else:
            message = f"{article} {state} check is final: request a new check instead."
        raise ValidationError({"status": message})
    if status == Status.CLEARED:
        certificate_problems(check, certificate_number=certificate_number, issued_on=issued_on, today=today)


def certificate_problems(
    check: DBSCheck, *, certificate_number: str, issued_on: datetime.date | None, today: datetime.date
) -> None:
    errors = {}
    number = (certificate_number or "").strip()
    if not number:
        errors["certificate_number"] = "Enter the certificate number."
    elif len(number) > CERTIFICATE_MAX or not number.isalnum() or not number.isascii():
        errors["certificate_number"] = f"A certificate number is letters and digits, {CERTIFICATE_MAX} at most."
    if issued_on is None:
        errors["cleared_on"] = "Enter the date the certificate was issued."
    elif issued_on > today:
        errors["cleared_on"] = "The certificate date cannot be in the future: enter the date printed on it."
    else:
        years = recheck_years_of([check.user_id])[check.user_id]
        expires = eligibility.dbs_expires_on(issued_on, min(years))
        if expires < today:
            errors["cleared_on"] = (
                f"A certificate issued on {date_format(issued_on, 'j F Y')} has already expired under the recheck "
                f"interval of {min(years)} years: the mentor needs a new check."
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def dbs_check_transition(
    *,
    check_id: int,
    status: str,
    actor,
    certificate_number: str = "",
    issued_on: datetime.date | None = None,
) -> DBSCheck:
    """Move a check to its next state (staff or the Safeguarding Lead). An illegal move is a ValidationError.

    Cleared needs the certificate number and its issue date (not in the future). Refused flags the mentor
    for removal and tells staff. The mentor is told their check changed; audited.
    """
    _require_staff(actor)
    check = DBSCheck.objects.select_for_update().select_related("user").get(pk=check_id)
    transition_problems(
        check, status, certificate_number=certificate_number, issued_on=issued_on, today=today_for(actor)
    )
    if status == Status.CLEARED:
        check.certificate_number = certificate_number.strip()
        check.cleared_on = issued_on
    return _move(check, status, actor=actor)


@transaction.atomic
def dbs_check_correct(*, check_id: int, actor, certificate_number: str, issued_on: datetime.date) -> DBSCheck:
    """Correct the certificate number or date of a cleared check (a typing error); audited with both values."""
    _require_staff(actor)
    check = DBSCheck.objects.select_for_update().select_related("user").get(pk=check_id)
    if check.status != Status.CLEARED:
        raise ValidationError("Only a cleared check's certificate can be corrected.")
    certificate_problems(check, certificate_number=certificate_number, issued_on=issued_on, today=today_for(actor))
    previous = {"certificate_number": check.certificate_number, "issued_on": str(check.cleared_on)}
    check.certificate_number, check.cleared_on, check.recorded_by = certificate_number.strip(), issued_on, actor
    check.save(update_fields=["certificate_number", "cleared_on", "recorded_by"])
    audit(
        actor=actor,
        action="dbs.corrected",
        target_user=check.user,
        obj=f"DBS check {check.pk}",
        previous=previous,
        certificate_number=check.certificate_number,
        issued_on=str(issued_on),
    )
    memberships_activate_eligible(user=check.user)
    return check


def _move(check: DBSCheck, status: str, *, actor) -> DBSCheck:
    """Write the new state (the caller holds the row's lock and has checked the move)."""
    previous = check.status
    check.status = status
    check.status_changed_at = timezone.now()
    if status == Status.SUBMITTED:
        check.submitted_on = today_for(actor) if actor is not None else local_today(check.user.time_zone)
    if actor is not None:
        check.recorded_by = actor
    check.full_clean()
    check.save()
    audit(
        actor=actor,
        action="dbs.status",
        target_user=check.user,
        obj=f"DBS check {check.pk}",
        previous=previous,
        status=status,
        level=check.level,
    )
    notify(
        check.user,
        "dbs_updated",
        check,
        body=f"Its status is now: {check.get_status_display().lower()}.",
        url=reverse("onboarding"),
    )
    if status == Status.REFUSED:
        name = check.user.get_full_name() or check.user.email
        notify_many(
            list(staff_members()),
            "dbs_refused",
            check,
            body=f"{name}'s DBS check was refused. Withdraw them from the DBS check's page if they are to be removed.",
            url=reverse("admin:safeguarding_dbscheck_change", args=[check.pk]),
        )
    memberships_activate_eligible(user=check.user)
    return check


# --- Jobs: expiry and reminders ---------------------------------------------------------------


def dbs_checks_expire(*, now: datetime.datetime | None = None) -> int:
    """Move each cleared check to "expired" once it is current in none of its member's schemes (judged on the
    member's own date, as the engine judges it). Each in its own transaction; safe to run twice. Returns how
    many moved."""
    now = now or timezone.now()
    # A check cleared more recently than the longest interval allows, less a day for the zones, is current
    # everywhere: only older ones need a look.
    longest = max([default_recheck_years(), *Scheme.objects.values_list("dbs_recheck_years", flat=True)])
    candidates = DBSCheck.objects.filter(
        status=Status.CLEARED,
        cleared_on__lte=eligibility.years_after(timezone.localdate(now), -longest) + datetime.timedelta(days=1),
    )
    moved = 0
    for pk in list(candidates.values_list("pk", flat=True)):
        moved += _expire_one(pk, now)
    return moved


@transaction.atomic
def _expire_one(pk: int, now: datetime.datetime) -> int:
    check = DBSCheck.objects.select_for_update().select_related("user").get(pk=pk)
    if check.status != Status.CLEARED:
        return 0  # moved by another run
    expiry = expiry_of(check)
    if expiry is None or expiry.last >= local_today(check.user.time_zone, at=now):
        return 0
    _move(check, Status.EXPIRED, actor=None)
    return 1


def dbs_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """The daily job: remind the mentor of a request outstanding 7 and 14 days, staff at 21 days, and the mentor
    30 days before the check expires. Each (check, stage) once, whatever the retries: the reminder row and its
    notice commit together, under the check's row lock. Returns how many reminders were sent."""
    now = now or timezone.now()
    sent = 0
    utc_today = timezone.localdate(now)
    # A day's slack either side of UTC for the members' own zones.
    outstanding = DBSCheck.objects.filter(
        status=Status.REQUESTED, requested_on__lte=utc_today - datetime.timedelta(days=MENTOR_STAGES[-1][0] - 1)
    )
    for pk in list(outstanding.values_list("pk", flat=True)):
        sent += _remind_outstanding(pk, now)
    shortest = min([default_recheck_years(), *Scheme.objects.values_list("dbs_recheck_years", flat=True)])
    cleared = DBSCheck.objects.filter(
        status=Status.CLEARED,
        cleared_on__lte=eligibility.years_after(utc_today + datetime.timedelta(days=EXPIRY_NOTICE_DAYS + 1), -shortest),
    )
    for pk in list(cleared.values_list("pk", flat=True)):
        sent += _remind_expiry(pk, now)
    return sent


def _claim(check: DBSCheck, stage: str, now) -> bool:
    """Write the reminder row unless it is there already (the caller holds the check's row lock)."""
    if DBSReminder.objects.filter(dbs_check=check, stage=stage).exists():
        return False
    DBSReminder.objects.create(dbs_check=check, stage=stage, sent_at=now)
    return True


@transaction.atomic
def _remind_outstanding(pk: int, now) -> int:
    check = DBSCheck.objects.select_for_update().select_related("user").get(pk=pk)
    if check.status != Status.REQUESTED:
        return 0
    days = (local_today(check.user.time_zone, at=now) - check.requested_on).days
    asked_on = date_format(check.requested_on, "j F Y")
    sent = 0
    # Only the latest stage due: a mentor first reminded at day 15 is reminded once, not twice.
    due = next((stage for after, stage in MENTOR_STAGES if days >= after), None)
    if due is not None and _claim(check, due, now):
        notify(
            check.user,
            "dbs_reminder",
            check,
            body=f"Scheme staff asked you for a DBS check on {asked_on}. Complete the form they sent you: "
            "you need the check to mentor.",
            url=reverse("onboarding"),
        )
        sent += 1
    if days >= STAFF_AFTER_DAYS and _claim(check, Stage.OUTSTANDING_21, now):
        name = check.user.get_full_name() or check.user.email
        notify_many(
            list(staff_members()),
            "dbs_outstanding_staff",
            check,
            body=f"{name} has not submitted the {check.get_level_display().lower()} DBS check requested on "
            f"{asked_on} ({days} days).",
            url=reverse("admin:safeguarding_dbscheck_change", args=[check.pk]),
        )
        sent += 1
    return sent


@transaction.atomic
def _remind_expiry(pk: int, now) -> int:
    check = DBSCheck.objects.select_for_update().select_related("user").get(pk=pk)
    # Only where a scheme the member mentors in asks for a check: elsewhere its expiry changes nothing.
    years = recheck_years_of([check.user_id], fallback=False)[check.user_id]
    expiry = expiry_of(check, years) if check.status == Status.CLEARED and years else None
    if expiry is None:
        return 0
    today = local_today(check.user.time_zone, at=now)
    if not today <= expiry.first <= today + datetime.timedelta(days=EXPIRY_NOTICE_DAYS):
        return 0
    renewed = DBSCheck.objects.filter(user=check.user_id).exclude(pk=check.pk)
    if (
        renewed.filter(status__in=DBSCheck.IN_PROGRESS).exists()
        or renewed.filter(status=Status.CLEARED, cleared_on__gt=check.cleared_on).exists()
    ):
        return 0  # a new check is under way or done
    if not _claim(check, Stage.EXPIRY_30, now):
        return 0
    notify(
        check.user,
        "dbs_expiring",
        check,
        body=f"Your DBS check is current until {date_format(expiry.first, 'j F Y')}. Scheme staff will ask you "
        "for a new one; you can mentor without a break if it clears in time.",
        url=reverse("onboarding"),
    )
    return 1
