"""The agreement, goals, private session notes and the CPD log: the only writers, and the reads the pairing
page shares (R-PAIR-1, R-PAIR-3, R-PAIR-8).

Only the two members of an active pairing change its agreement and goals; an ended pairing is read-only.
Session notes belong to the mentor who writes them and are read through `SessionNote.objects.for_author`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from matching.models import MenteeProfile
from mentoring.models import (
    Agreement,
    AgreementConfirmation,
    AgreementReminder,
    AgreementVersion,
    CPDEntry,
    GoalProgress,
    Pairing,
    PairingGoal,
    Role,
    SchemeMembership,
    SessionNote,
)
from messaging.services import notify, notify_many
from safeguarding.models import TrainingRecord

# The fields of a version a member writes, in the order the form shows them.
VERSION_FIELDS = (
    "goals",
    "roles",
    "boundaries",
    "frequency",
    "session_timing",
    "session_duration_minutes",
    "period_start",
    "period_end",
    "review_date",
    "confidentiality",
    "confidentiality_exceptions",
)

# Quoted from the Career Mentor Agreement and Code of Conduct (seeds 002, clause 8 and 3.1), the
# professional standards (seed 004, 6) and the terms' safeguarding clause (seed 000, 2.6.3), shortened.
CONFIDENTIALITY = (
    "A mentor must treat as confidential all information that their mentee chooses to share with them. "
    "Working in confidence with a mentee means not revealing information to any other person."
)
CONFIDENTIALITY_EXCEPTIONS = "\n".join(
    [
        "- Discussion of the mentor's practice or of an issue in the relationship in a confidential "
        "conversation with the Scheme Coordinator.",
        "- If a mentor believes that a mentee is at risk of causing harm to themselves or to another person, "
        "and referral to a third-party is required.",
        "- If you believe that a mentee may have committed or may commit an illegal activity and it is "
        "necessary to inform the relevant authorities.",
        "- Any concerns about the safety, security or vulnerability of mentees and any allegations of abuse "
        "must immediately be reported to the Safeguarding Lead.",
    ]
)

ENDED = "This pairing has ended, so it can be read but no longer changed."


def reminder_after_days() -> int:
    """Days after a pairing starts before an agreement not yet agreed gets its one reminder."""
    return getattr(settings, "AGREEMENT_REMINDER_DAYS", 14)


# Who may act.


def _partner(pairing: Pairing, user):
    return pairing.mentee if pairing.mentor_id == user.pk else pairing.mentor


def _require_member(pairing: Pairing, user) -> None:
    if user.pk not in (pairing.mentor_id, pairing.mentee_id):
        raise PermissionDenied("Only the two members of this pairing can do this.")


def _require_active(pairing: Pairing, user) -> Pairing:
    """Lock the pairing for this change and check it is the actor's and still active."""
    locked = Pairing.objects.select_for_update().select_related("mentor", "mentee").get(pk=pairing.pk)
    _require_member(locked, user)
    if locked.status != Pairing.Status.ACTIVE:
        raise ValidationError(ENDED)
    return locked


# The agreement.


def version_defaults(pairing: Pairing) -> dict:
    """What a new draft starts from: the latest version, or the code of conduct's confidentiality clause and
    a six-month period starting today with a review at three months."""
    latest = current_version(pairing)
    if latest is not None:
        return {name: getattr(latest, name) for name in VERSION_FIELDS}
    today = timezone.localdate()
    return {
        "confidentiality": CONFIDENTIALITY,
        "confidentiality_exceptions": CONFIDENTIALITY_EXCEPTIONS,
        "session_duration_minutes": 60,
        "period_start": today,
        "period_end": today + datetime.timedelta(days=182),
        "review_date": today + datetime.timedelta(days=91),
    }


def current_version(pairing: Pairing) -> AgreementVersion | None:
    return AgreementVersion.objects.filter(agreement__pairing=pairing).order_by("-number").first()


@transaction.atomic(durable=True)
def agreement_draft(*, pairing: Pairing, actor, fields: dict) -> AgreementVersion:
    """Write a new version drafted by `actor` (either member). Any change, after agreement too, is a new
    version that both must confirm again; the partner is told."""
    pairing = _require_active(pairing, actor)
    agreement, _ = Agreement.objects.select_for_update().get_or_create(pairing=pairing)
    latest = agreement.versions.order_by("-number").first()
    version = AgreementVersion(
        agreement=agreement,
        number=(latest.number + 1) if latest else 1,
        drafted_by=actor,
        **{name: fields[name] for name in VERSION_FIELDS},
    )
    version.full_clean(exclude=["agreement", "drafted_by"])
    if latest is not None and all(getattr(latest, n) == getattr(version, n) for n in VERSION_FIELDS):
        raise ValidationError("Nothing has changed since the current version.")
    version.save()
    if agreement.status != Agreement.Status.DRAFT:
        agreement.status = Agreement.Status.DRAFT
        agreement.agreed_at = None
        agreement.save(update_fields=["status", "agreed_at"])
    notify(
        _partner(pairing, actor),
        "agreement_drafted",
        pairing,
        body=f"{actor.first_name} wrote version {version.number} of your agreement. Please read and confirm it.",
        url=reverse("agreement_detail", args=[pairing.pk]),
    )
    return version


@transaction.atomic(durable=True)
def agreement_confirm(*, pairing: Pairing, actor, number: int) -> Agreement:
    """Confirm version `number`, which must be the latest; once both sides confirmed it, it is agreed and
    both are told."""
    pairing = _require_active(pairing, actor)
    agreement = Agreement.objects.select_for_update().filter(pairing=pairing).first()
    latest = agreement.versions.order_by("-number").first() if agreement else None
    if latest is None:
        raise ValidationError("There is no agreement to confirm yet.")
    if latest.number != number:
        raise ValidationError("A newer version was written since you opened this page: please read it first.")
    _, created = AgreementConfirmation.objects.get_or_create(version=latest, member=actor)
    if not created:
        raise ValidationError("You have already confirmed this version.")
    sides = set(latest.confirmations.values_list("member_id", flat=True))
    if {pairing.mentor_id, pairing.mentee_id} <= sides:
        agreement.status = Agreement.Status.AGREED
        agreement.agreed_at = timezone.now()
        agreement.save(update_fields=["status", "agreed_at"])
        notify_many(
            [pairing.mentor, pairing.mentee],
            "agreement_agreed",
            pairing,
            body=f"You both confirmed version {latest.number} of your agreement.",
            url=reverse("agreement_detail", args=[pairing.pk]),
        )
    else:
        notify(
            _partner(pairing, actor),
            "agreement_confirmed",
            pairing,
            body=f"{actor.first_name} confirmed version {latest.number}. It is agreed once you confirm it too.",
            url=reverse("agreement_detail", args=[pairing.pk]),
        )
    return agreement


def agreement_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind both members of each active pairing whose agreement is not agreed `reminder_after_days()`
    after it started, once: the reminder row and its notices commit together, so a second run (or two at
    once) sends nothing new. Returns how many pairings were reminded."""
    now = now or timezone.now()
    due = (
        Pairing.objects.running()
        .filter(started_at__lte=now - datetime.timedelta(days=reminder_after_days()), agreement_reminder__isnull=True)
        .exclude(agreement__status=Agreement.Status.AGREED)
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in list(due):
        sent += _agreement_remind(pk)
    return sent


@transaction.atomic(durable=True)
def _agreement_remind(pairing_pk: int) -> int:
    pairing = Pairing.objects.select_for_update().select_related("mentor", "mentee").get(pk=pairing_pk)
    agreed = Agreement.objects.filter(pairing=pairing, status=Agreement.Status.AGREED).exists()
    if agreed or pairing.status != Pairing.Status.ACTIVE:
        return 0
    _, created = AgreementReminder.objects.get_or_create(pairing=pairing)
    if not created:
        return 0
    notify_many(
        [pairing.mentor, pairing.mentee],
        "agreement_reminder",
        pairing,
        body="Agree together how your mentoring will work: either of you drafts, both confirm.",
        url=reverse("agreement_detail", args=[pairing.pk]),
    )
    return 1


@dataclass(frozen=True)
class AgreementState:
    pairing: Pairing
    agreement: Agreement | None
    version: AgreementVersion | None
    confirmed_by_me: bool
    confirmed_by_partner: bool
    partner: object

    @property
    def agreed(self) -> bool:
        return self.agreement is not None and self.agreement.status == Agreement.Status.AGREED

    @property
    def summary(self) -> str:
        name = self.partner.first_name
        if self.version is None:
            if self.pairing.status != Pairing.Status.ACTIVE:
                return "No agreement was written."
            return "No agreement yet: either of you can draft it."
        if self.agreed:
            return f"Agreed (version {self.version.number})."
        if self.confirmed_by_me:
            return f"Not yet agreed: waiting for {name} to confirm version {self.version.number}."
        if self.confirmed_by_partner:
            return f"Not yet agreed: {name} confirmed version {self.version.number}, waiting for you."
        return f"Not yet agreed: version {self.version.number} is waiting for both of you to confirm."


def agreement_state(pairing: Pairing, user) -> AgreementState:
    """The agreement as `user` (one of the pair) sees it: its current version and who confirmed it."""
    agreement = Agreement.objects.filter(pairing=pairing).first()
    version = agreement.versions.order_by("-number").first() if agreement else None
    confirmed = set(version.confirmations.values_list("member_id", flat=True)) if version else set()
    partner = _partner(pairing, user)
    return AgreementState(
        pairing=pairing,
        agreement=agreement,
        version=version,
        confirmed_by_me=user.pk in confirmed,
        confirmed_by_partner=partner.pk in confirmed,
        partner=partner,
    )


def agreement_version(pairing: Pairing, number: int) -> AgreementVersion | None:
    return (
        AgreementVersion.objects.filter(agreement__pairing=pairing, number=number)
        .select_related("drafted_by")
        .prefetch_related(Prefetch("confirmations", queryset=AgreementConfirmation.objects.select_related("member")))
        .first()
    )


def agreement_versions(pairing: Pairing):
    return AgreementVersion.objects.filter(agreement__pairing=pairing).select_related("drafted_by").order_by("-number")


# Goals.


def goals_for_pairing(pairing: Pairing):
    """The pairing's goals with their progress notes, in two queries."""
    progress = GoalProgress.objects.select_related("author")
    return PairingGoal.objects.filter(pairing=pairing).prefetch_related(Prefetch("progress", queryset=progress))


def mentee_goals_text(pairing: Pairing) -> str:
    """What the mentee wrote as their goals on their profile, or ""."""
    profile = MenteeProfile.objects.filter(user_id=pairing.mentee_id).only("goals").first()
    return profile.goals.strip() if profile else ""


@transaction.atomic
def goals_seed(pairing: Pairing) -> list[PairingGoal]:
    """Start the pairing's goals from the mentee's own (one goal per line of their goals), once: a second
    call, or a pairing that already has goals, adds nothing."""
    pairing = Pairing.objects.select_for_update().get(pk=pairing.pk)
    if PairingGoal.objects.filter(pairing=pairing).exists():
        return []
    lines = [line.strip().lstrip("-*•").strip() for line in mentee_goals_text(pairing).splitlines()]
    goals = [
        PairingGoal(pairing=pairing, text=line[:1000], seeded=True, created_by_id=pairing.mentee_id)
        for line in lines
        if line
    ]
    return PairingGoal.objects.bulk_create(goals[:20])


@transaction.atomic(durable=True)
def goal_add(*, pairing: Pairing, actor, text: str) -> PairingGoal:
    pairing = _require_active(pairing, actor)
    goal = PairingGoal(pairing=pairing, text=text.strip(), created_by=actor)
    goal.full_clean(exclude=["pairing", "created_by"])
    goal.save()
    return goal


def _goal_for_change(goal_id: int, pairing: Pairing, actor) -> tuple[PairingGoal, Pairing]:
    pairing = _require_active(pairing, actor)
    goal = PairingGoal.objects.filter(pairing=pairing, pk=goal_id).first()
    if goal is None:
        raise ValidationError("No such goal in this pairing.")
    return goal, pairing


@transaction.atomic(durable=True)
def goal_update_status(*, pairing: Pairing, actor, goal_id: int, status: str) -> PairingGoal:
    goal, _ = _goal_for_change(goal_id, pairing, actor)
    if status not in PairingGoal.Status.values:
        raise ValidationError("Choose one of the statuses offered.")
    goal.status = status
    goal.save(update_fields=["status"])
    return goal


@transaction.atomic(durable=True)
def goal_progress_add(*, pairing: Pairing, actor, goal_id: int, date: datetime.date, note: str) -> GoalProgress:
    goal, _ = _goal_for_change(goal_id, pairing, actor)
    if date > timezone.localdate():
        raise ValidationError({"date": "Progress is recorded for today or an earlier day."})
    progress = GoalProgress(goal=goal, date=date, note=note.strip(), author=actor)
    progress.full_clean(exclude=["goal", "author"])
    progress.save()
    return progress


# Private session notes.


def session_notes(pairing: Pairing, user):
    """The notes `user` wrote in this pairing: nobody reads another person's notes."""
    return SessionNote.objects.for_author(user).filter(pairing=pairing)


@transaction.atomic(durable=True)
def session_note_save(*, pairing: Pairing, actor, date: datetime.date, text: str) -> SessionNote:
    """A new private note by the pairing's mentor."""
    pairing = _require_active(pairing, actor)
    if pairing.mentor_id != actor.pk:
        raise PermissionDenied("Only the mentor keeps session notes.")
    note = SessionNote(pairing=pairing, author=actor, date=date, text=text.strip())
    note.full_clean(exclude=["pairing", "author"])
    note.save()
    return note


# The CPD log.


def is_mentor(user) -> bool:
    return SchemeMembership.objects.filter(user=user, role=Role.MENTOR).exists()


@dataclass(frozen=True)
class CPDLine:
    date: datetime.date
    activity: str
    hours: object
    reflection: str
    recorded_by_platform: bool


def cpd_log(user) -> list[CPDLine]:
    """The member's own CPD entries and the training the platform holds for them, newest first."""
    lines = [CPDLine(e.date, e.activity, e.hours, e.reflection, False) for e in CPDEntry.objects.filter(member=user)]
    lines += [
        CPDLine(t.completed_on, t.get_kind_display(), None, t.notes, True)
        for t in TrainingRecord.objects.filter(user=user)
    ]
    return sorted(lines, key=lambda line: line.date, reverse=True)


@transaction.atomic(durable=True)
def cpd_entry_save(*, member, date: datetime.date, activity: str, hours, reflection: str = "") -> CPDEntry:
    if not is_mentor(member):
        raise PermissionDenied("The CPD log is for mentors.")
    if date > timezone.localdate():
        raise ValidationError({"date": "Record development you have done: the date cannot be in the future."})
    entry = CPDEntry(member=member, date=date, activity=activity.strip(), hours=hours, reflection=reflection.strip())
    entry.full_clean(exclude=["member"])
    entry.save()
    return entry
