"""Safeguarding concerns (R-SAFE-1, R-MSG-6): a member raises one; it is stored, then every member of the
Safeguarding Lead group is told at once (urgent ones say so); the reporter gets a receipt, never the case.

Only the Safeguarding Lead group sees a concern: coordinators and staff do not, on the site or in the admin
(their lists of notifications and audit events leave concerns out). Issue 9 grows the Lead's own pages
(triage, actions, outcome, suspension) on this model.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mentoring import permissions
from messaging.models import Message
from messaging.selectors import reportable_message
from messaging.services import notify, notify_many
from safeguarding.audit import audit
from safeguarding.models import Concern

logger = logging.getLogger(__name__)

WHAT_HAPPENED_MAX_LENGTH = 5000
# Audit events whose action starts so are concern business: the admin lists them to the Safeguarding Lead only.
AUDIT_PREFIX = "concern."
# Notification kinds that would tell staff a concern exists: listed in the admin to the Safeguarding Lead only.
NOTIFICATION_KINDS = ("concern_raised", "concern_received")
# An incident can be old when it is first told, but not older than anyone now alive.
EARLIEST_DATE = datetime.date(1900, 1, 1)


def may_see_concerns(user) -> bool:
    """The Safeguarding Lead group (and a superuser, who holds every role); never coordinators or staff."""
    return permissions.is_safeguarding_lead(user)


def concern_recipients(concern: Concern) -> list[User]:
    """Every active member of the Safeguarding Lead group, each once, except anyone the concern is about."""
    leads = User.objects.filter(groups__name=settings.GROUP_SAFEGUARDING_LEAD, is_active=True, is_staff=True)
    involved = {concern.person_id, concern.reporter_id}
    if concern.pairing_id is not None:
        involved |= {concern.pairing.mentor_id, concern.pairing.mentee_id}
    return list(leads.exclude(pk__in=[pk for pk in involved if pk is not None]).distinct().order_by("pk"))


def what_happened_clean(text) -> str:
    text = (text if isinstance(text, str) else "").strip()
    if not text:
        raise ValidationError("Tell us what happened.")
    if len(text) > WHAT_HAPPENED_MAX_LENGTH:
        raise ValidationError(
            f"Write at most {WHAT_HAPPENED_MAX_LENGTH:,} characters about what happened; this has {len(text):,}."
        )
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in text):
        raise ValidationError("What you wrote contains characters that cannot be saved; remove them and try again.")
    return text


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
) -> Concern:
    """Store a concern, then tell the Safeguarding Lead group (in the platform and by email, after commit) and
    give the reporter a receipt. From a message, the concern is about its sender and their pairing.

    Raises ValidationError for bad input (nothing is written) and Http404 for a message the reporter may not report.
    """
    if not isinstance(immediate_risk, bool):
        raise ValidationError("Say whether anyone is at immediate risk.")
    text = what_happened_clean(what_happened)
    happened_on_check(happened_on)
    person = pairing = None
    source = Concern.Source.PAGE
    if message is not None:
        message = reportable_message(reporter, conversation_id=message.conversation_id, message_id=message.pk)
        person, pairing, source = message.sender, message.conversation.pairing, Concern.Source.MESSAGE
    concern = Concern.objects.create(
        reporter=reporter,
        source=source,
        person=person,
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
        url=reverse("safeguarding_contact"),
    )
    return concern


def _email_safeguarding_address(concern_id: int, subject: str) -> None:
    path = reverse("concern_detail", args=[concern_id])
    mail.send_mail(
        subject,
        f"A safeguarding concern was raised and no Safeguarding Lead could be told on the platform.\n\n"
        f"{settings.SITE_URL}{path}\n",
        None,
        [settings.SAFEGUARDING_EMAIL],
    )


def concern_queue(user):
    """The concerns the Safeguarding Lead works through: urgent first, then the oldest. 404 for anyone else."""
    if not may_see_concerns(user):
        raise Http404("Not found.")
    return Concern.objects.select_related("reporter", "person")


def access_concern(user, pk: int) -> Concern:
    """One concern for the Safeguarding Lead group; 404 for everyone else, whoever they are."""
    if not may_see_concerns(user):
        raise Http404("Not found.")
    return get_object_or_404(
        Concern.objects.select_related(
            "reporter", "person", "pairing__mentor", "pairing__mentee", "pairing__scheme", "message__sender"
        ),
        pk=pk,
    )
