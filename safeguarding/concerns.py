"""Safeguarding concerns (R-SAFE-1, R-SAFE-2, R-MSG-6): a member raises one from any page, a profile or a message;
it is stored, then every member of the Safeguarding Lead group is told at once (urgent ones say so); the reporter
gets a receipt, never the case.

Only the Safeguarding Lead group sees a concern: coordinators and staff do not, on the site or in the admin
(their lists of notifications and audit events leave concerns out). The Lead triages it (new -> triaged ->
action_taken -> closed, DESIGN), writes notes and the actions taken, and closes it with an outcome; every step is
audited. Suspending a member over a concern is mentoring/suspension.py (it pauses pairings and cancels meetings).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.validators import validate_single_line
from mentoring import permissions
from mentoring.models import Pairing
from messaging.models import Message
from messaging.selectors import reportable_message
from messaging.services import notify, notify_many
from safeguarding.audit import audit
from safeguarding.models import Concern, ConcernNote

logger = logging.getLogger(__name__)

WHAT_HAPPENED_MAX_LENGTH = 5000
PERSON_NAME_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 5000
# Audit events whose action starts so are concern business (a suspension included): the admin lists them to the
# Safeguarding Lead only.
AUDIT_PREFIX = "concern."
# Notification kinds that would tell staff a concern exists, or that the Lead acted on one: listed in the admin
# to the Safeguarding Lead only.
NOTIFICATION_KINDS = (
    "concern_raised",
    "concern_received",
    "participation_suspended",
    "participation_resumed",
    "pairing_paused",
    "pairing_resumed",
)
# An incident can be old when it is first told, but not older than anyone now alive.
EARLIEST_DATE = datetime.date(1900, 1, 1)


def may_see_concerns(user) -> bool:
    """The Safeguarding Lead group (and a superuser, who holds every role); never coordinators or staff."""
    return permissions.is_safeguarding_lead(user)


def involved_in(concern: Concern) -> set[int]:
    """Who a concern involves: the reporter, the person it is about, and the two members of its pairing."""
    ids = {concern.person_id, concern.reporter_id}
    if concern.pairing_id is not None:
        ids |= {concern.pairing.mentor_id, concern.pairing.mentee_id}
    return {pk for pk in ids if pk is not None}


def concern_recipients(concern: Concern) -> list[User]:
    """Every active member of the Safeguarding Lead group, each once, except anyone the concern is about."""
    leads = User.objects.filter(groups__name=settings.GROUP_SAFEGUARDING_LEAD, is_active=True, is_staff=True)
    return list(leads.exclude(pk__in=involved_in(concern)).distinct().order_by("pk"))


def concern_people(user):
    """Whom a member may name on the concern form: everyone they are or were paired with."""
    pairings = Pairing.objects.visible_to(user)
    return (
        User.objects.filter(Q(pk__in=pairings.values("mentor_id")) | Q(pk__in=pairings.values("mentee_id")))
        .exclude(pk=user.pk)
        .order_by("first_name", "last_name", "pk")
    )


def pairing_between(user, other) -> Pairing | None:
    """The pairing of two people, the running one first, else the latest."""
    return (
        Pairing.objects.visible_to(user)
        .filter(Q(mentor=other) | Q(mentee=other))
        .order_by("status", "-started_at", "-pk")  # "active" sorts before "ended"
        .first()
    )


def _text_clean(text, *, max_length: int, empty: str, what: str) -> str:
    text = (text if isinstance(text, str) else "").strip()
    if not text:
        raise ValidationError(empty)
    if len(text) > max_length:
        raise ValidationError(f"Write at most {max_length:,} characters {what}; this has {len(text):,}.")
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in text):
        raise ValidationError("What you wrote contains characters that cannot be saved; remove them and try again.")
    return text


def what_happened_clean(text) -> str:
    return _text_clean(
        text, max_length=WHAT_HAPPENED_MAX_LENGTH, empty="Tell us what happened.", what="about what happened"
    )


def person_name_clean(name) -> str:
    name = (name if isinstance(name, str) else "").strip()
    if len(name) > PERSON_NAME_MAX_LENGTH:
        raise ValidationError(f"Write their name in at most {PERSON_NAME_MAX_LENGTH} characters.")
    validate_single_line(name)
    return name


def happened_on_check(day: datetime.date | None) -> None:
    if day is None:
        return
    if day > timezone.localdate():
        raise ValidationError("The date it happened cannot be in the future.")
    if day < EARLIEST_DATE:
        raise ValidationError("Check the date it happened.")


@transaction.atomic(durable=True)
def concern_raise(
    *,
    reporter,
    what_happened: str,
    immediate_risk: bool,
    happened_on: datetime.date | None = None,
    message: Message | None = None,
    person: User | None = None,
    person_name: str = "",
    source: str = Concern.Source.PAGE,
) -> Concern:
    """Store a concern, then tell the Safeguarding Lead group (in the platform and by email, after commit) and
    give the reporter a receipt.

    From a message, the concern is about its sender and their pairing. From the concern form, `person` is someone
    the reporter is or was paired with (concern_people), or `person_name` names anyone else. From a profile
    (source PROFILE), `person` is its mentor: the profile's page has checked the reporter may read it. A named
    person's pairing with the reporter, if any, is recorded too.

    Raises ValidationError for bad input (nothing is written) and Http404 for a message the reporter may not report.
    """
    if not isinstance(immediate_risk, bool):
        raise ValidationError("Say whether anyone is at immediate risk.")
    text = what_happened_clean(what_happened)
    happened_on_check(happened_on)
    name = person_name_clean(person_name)
    if source not in Concern.Source.values:
        raise ValidationError("Say where the concern comes from.")
    pairing = None
    if message is not None:
        message = reportable_message(reporter, conversation_id=message.conversation_id, message_id=message.pk)
        person, pairing, source = message.sender, message.conversation.pairing, Concern.Source.MESSAGE
    elif person is not None:
        if person.pk == reporter.pk:
            raise ValidationError("Name the person the concern is about, not yourself.")
        if source == Concern.Source.PAGE and not concern_people(reporter).filter(pk=person.pk).exists():
            raise ValidationError("Choose someone you are or were paired with, or write their name instead.")
        pairing = pairing_between(reporter, person)
    concern = Concern.objects.create(
        reporter=reporter,
        source=source,
        person=person,
        person_name=name,
        pairing=pairing,
        message=message,
        what_happened=text,
        happened_on=happened_on,
        immediate_risk=immediate_risk,
    )
    # Recorded for the Lead; the admin lists "concern." events to the Safeguarding Lead group only.
    audit(
        actor=reporter,
        action=f"{AUDIT_PREFIX}raised",
        target_user=person,
        obj=concern,
        immediate_risk=immediate_risk,
        message=message.pk if message is not None else None,
    )
    leads = concern_recipients(concern)
    if leads:
        notify_many(
            leads,
            "concern_raised",
            concern,
            body=("Someone may be at immediate risk. " if immediate_risk else "")
            + "Open the concern on the platform to read it.",
        )
    else:
        # Nobody in the group to tell on the platform: the concern must still reach a person today.
        logger.error("Concern %s has no Safeguarding Lead to tell: emailing the safeguarding address", concern.pk)
        concern_id, subject = concern.pk, f"{concern.urgency}A safeguarding concern was raised"
        transaction.on_commit(lambda: _email_safeguarding_address(concern_id, subject), robust=True)
    notify(
        reporter,
        "concern_received",
        concern,
        body="Thank you. The Safeguarding Lead reads every concern and may contact you in confidence. "
        "If someone is in immediate danger, call 999.",
        url=reverse("concern_received"),
    )
    return concern


RECEIPT = (
    "Thank you. Your concern has reached the Safeguarding Lead, who reads every concern and may contact you "
    "in confidence."
)


def receipt_text(concern: Concern) -> str:
    """What the reporter reads once the concern is stored: a receipt, never the case."""
    return RECEIPT + (" If someone is in immediate danger, call 999 now." if concern.immediate_risk else "")


def _email_safeguarding_address(concern_id: int, subject: str) -> None:
    path = reverse("concern_detail", args=[concern_id])
    mail.send_mail(
        subject,
        f"A safeguarding concern was raised and no Safeguarding Lead could be told on the platform.\n\n"
        f"{settings.SITE_URL}{path}\n",
        None,
        [settings.SAFEGUARDING_EMAIL],
    )


def not_involving(user) -> Q:
    """SQL for may_handle's second half: concerns `user` is not part of (a Lead's queue leaves out those about
    themselves, their pairing, or that they raised)."""
    return ~Q(person=user) & ~Q(reporter=user) & ~Q(pairing__mentor=user) & ~Q(pairing__mentee=user)


# The queue's filters: the open concerns (the default), each state, or every concern.
QUEUE_FILTERS = {"open": "Open", **dict(Concern.Status.choices), "all": "All"}


def concern_queue(user, status: str = "open"):
    """The concerns the Safeguarding Lead works through: open before closed, urgent first, then the oldest;
    `status` is a key of QUEUE_FILTERS (anything else is the open ones). 404 for anyone outside the Lead group."""
    if not may_see_concerns(user):
        raise Http404("Not found.")
    queue = (
        Concern.objects.filter(not_involving(user))
        .select_related("reporter", "person")
        .annotate(closed_last=Case(When(status=Concern.Status.CLOSED, then=Value(1)), default=Value(0)))
    )
    if status in Concern.Status.values:
        queue = queue.filter(status=status)
    elif status != "all":
        queue = queue.filter(status__in=Concern.OPEN)
    return queue.order_by("closed_last", "-immediate_risk", "created_at", "pk")


def concern_counts(user) -> dict[str, int]:
    """How many concerns each filter of the queue holds, in one query."""
    if not may_see_concerns(user):
        raise Http404("Not found.")
    counts = Concern.objects.filter(not_involving(user)).aggregate(
        all=Count("pk"),
        open=Count("pk", filter=Q(status__in=Concern.OPEN)),
        urgent=Count("pk", filter=Q(status__in=Concern.OPEN, immediate_risk=True)),
        **{status: Count("pk", filter=Q(status=status)) for status in Concern.Status.values},
    )
    return counts


def may_handle(user, concern: Concern) -> bool:
    """A member of the Lead group who is not involved in it: nobody handles a concern about themselves, their own
    pairing, or one they raised."""
    return may_see_concerns(user) and user.pk not in involved_in(concern)


def access_concern(user, pk: int, *, for_update: bool = False) -> Concern:
    """One concern for a Lead who may handle it (may_handle); 404 for everyone else, whoever they are."""
    if not may_see_concerns(user):
        raise Http404("Not found.")
    concerns = Concern.objects.select_related(
        "reporter", "person", "pairing__mentor", "pairing__mentee", "pairing__scheme", "message__sender"
    )
    if for_update:
        concerns = concerns.select_for_update(of=("self",))
    concern = get_object_or_404(concerns, pk=pk)
    if not may_handle(user, concern):
        raise Http404("Not found.")
    return concern


def concern_notes(concern: Concern):
    return concern.notes.select_related("author")


@transaction.atomic(durable=True)
def concern_note_add(*, concern_id: int, actor, text: str, kind: str = ConcernNote.Kind.NOTE) -> ConcernNote:
    """The Lead adds a note, or records an action taken, on a concern (R-SAFE-2). Notes are never changed or
    removed. Audited (never the text). 404 for anyone who may not handle it; ValidationError for an empty note."""
    concern = access_concern(actor, concern_id, for_update=True)
    if kind not in ConcernNote.Kind.values:
        raise ValidationError("Say whether this is a note or an action taken.")
    empty = "Write the action you took." if kind == ConcernNote.Kind.ACTION else "Write your note."
    note = ConcernNote.objects.create(
        concern=concern,
        author=actor,
        kind=kind,
        text=_text_clean(text, max_length=NOTE_MAX_LENGTH, empty=empty, what="in a note"),
    )
    action = "action_recorded" if kind == ConcernNote.Kind.ACTION else "note_added"
    audit(actor=actor, action=f"{AUDIT_PREFIX}{action}", target_user=concern.person, obj=concern, note=note.pk)
    return note


@transaction.atomic(durable=True)
def concern_status_set(*, concern_id: int, actor, status: str, outcome: str = "") -> Concern:
    """The Lead moves a concern on: only to a state Concern.NEXT allows; to "action taken" once an action is
    recorded; to "closed" with its outcome (R-SAFE-2). Audited. 404 for anyone who may not handle it."""
    concern = access_concern(actor, concern_id, for_update=True)
    allowed = Concern.NEXT[concern.status]
    if status not in allowed:
        if not allowed:
            raise ValidationError("This concern is closed.")
        labels = " or ".join(f"“{Concern.Status(s).label}”" for s in allowed)
        raise ValidationError(f"From “{concern.get_status_display()}” a concern moves only to {labels}.")
    if status == Concern.Status.ACTION_TAKEN and not concern.notes.filter(kind=ConcernNote.Kind.ACTION).exists():
        raise ValidationError("Record the action you took before you mark the concern “Action taken”.")
    if status == Concern.Status.CLOSED:
        concern.outcome = _text_clean(
            outcome,
            max_length=NOTE_MAX_LENGTH,
            empty="Write the outcome before you close the concern.",
            what="in the outcome",
        )
    previous = concern.status
    concern.status = status
    concern.status_changed_at = timezone.now()
    concern.save(update_fields=["status", "outcome", "status_changed_at"])
    audit(
        actor=actor,
        action=f"{AUDIT_PREFIX}status_changed",
        target_user=concern.person,
        obj=concern,
        previous=previous,
        status=status,
    )
    return concern
