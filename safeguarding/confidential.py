"""Audited access to a pair's conversation (R-MSG-5, terms 2.5.3–2.5.4 and 3.1).

Staff and the Safeguarding Lead read a conversation only to look into a complaint or a concern about one of
its two people or their pairing, stating which and why. That makes a grant for at most 24 hours; every page
they read under it writes a row to the append-only access log, which the two members see in their own data.
Coordinators and members never get a grant. Concerns are the Safeguarding Lead's alone: staff may name a
complaint only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mentoring import permissions
from messaging.models import Conversation, ConversationAccessGrant, ConversationAccessLog
from safeguarding.audit import audit
from safeguarding.concerns import AUDIT_PREFIX, may_see_concerns
from safeguarding.models import Complaint, Concern

REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 1000
# How long a reader may ask for; the longest is the model's limit (ACCESS_GRANT_MAX, 24 hours).
GRANT_HOURS = (1, 4, 8, 24)


def may_read_confidential(user) -> bool:
    """Staff and the Safeguarding Lead may ask for a grant; coordinators and members never."""
    return permissions.is_scheme_staff(user) or permissions.is_safeguarding_lead(user)


def access_conversation_for_reader(user, pk: int) -> Conversation:
    """A conversation someone who may ask for a grant is looking at; 404 for everyone else (no hint it exists)."""
    if not may_read_confidential(user):
        raise Http404("Not found.")
    return get_object_or_404(
        Conversation.objects.select_related(
            "first_member", "second_member", "pairing__mentor", "pairing__mentee", "pairing__scheme"
        ),
        pk=pk,
    )


@dataclass(frozen=True)
class Purpose:
    """A complaint or concern a grant may serve, as the access form offers it."""

    key: str  # "complaint-12" or "concern-5": the form's value
    label: str
    complaint: Complaint | None = None
    concern: Concern | None = None


def _about_the_conversation(conversation: Conversation) -> Q:
    people = [conversation.first_member_id, conversation.second_member_id]
    return Q(person_id__in=people) | Q(pairing_id=conversation.pairing_id)


def _involves(reader, matter, author_id) -> bool:
    """No one looks into a matter (a complaint or concern) about themselves, their own pairing, or that they raised."""
    ids = {matter.person_id, author_id}
    if matter.pairing is not None:
        ids |= {matter.pairing.mentor_id, matter.pairing.mentee_id}
    return reader.pk in ids


def _about_whom(matter) -> str:
    return f"about {matter.person.get_full_name()}" if matter.person else "about their pairing"


def access_purposes(reader, conversation: Conversation) -> list[Purpose]:
    """The open complaints (staff and the Lead) and open concerns (the Lead only) about one of the
    conversation's two people or their pairing, that the reader is not part of."""
    if not may_read_confidential(reader):
        return []
    about = _about_the_conversation(conversation)
    complaints = (
        Complaint.objects.filter(about)
        .exclude(status__in=[Complaint.Status.RESOLVED, Complaint.Status.DISMISSED])
        .select_related("person", "pairing")
        .order_by("created_at", "pk")
    )
    purposes = [
        Purpose(
            f"complaint-{c.pk}",
            f"Complaint {c.pk} {_about_whom(c)}, made {timezone.localtime(c.created_at):%-d %b %Y} "
            f"({c.get_status_display().lower()})",
            complaint=c,
        )
        for c in complaints
        if not _involves(reader, c, c.complainant_id)
    ]
    if may_see_concerns(reader):
        concerns = (
            Concern.objects.filter(about)
            .exclude(status=Concern.Status.CLOSED)
            .select_related("person", "pairing")
            .order_by("created_at", "pk")
        )
        purposes += [
            Purpose(
                f"concern-{c.pk}",
                f"{c.urgency}Safeguarding concern {c.pk} {_about_whom(c)}, "
                f"raised {timezone.localtime(c.created_at):%-d %b %Y}",
                concern=c,
            )
            for c in concerns
            if not _involves(reader, c, c.reporter_id)
        ]
    return purposes


def reason_clean(reason) -> str:
    text = (reason if isinstance(reason, str) else "").strip()
    if len(text) < REASON_MIN_LENGTH:
        raise ValidationError("Say why you need to read this conversation, in a sentence or more.")
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError(f"Keep the reason to {REASON_MAX_LENGTH:,} characters; this one has {len(text):,}.")
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in text):
        raise ValidationError("The reason contains characters that cannot be saved; remove them and try again.")
    return text


@transaction.atomic
def conversation_access_grant(
    *, reader, conversation_id: int, purpose: str, reason: str, hours: int = 24
) -> ConversationAccessGrant:
    """Let `reader` read one conversation for `hours` (at most 24) to look into one complaint or concern.

    Raises Http404 for someone who may not ask (and for no such conversation), ValidationError for a purpose
    that is not an open complaint or concern about this conversation, a missing reason or a wrong duration.
    Audited; the members are not told at once (a concern may be about one of them), but see every read.
    """
    conversation = access_conversation_for_reader(reader, conversation_id)
    chosen = next((p for p in access_purposes(reader, conversation) if p.key == purpose), None)
    if chosen is None:
        raise ValidationError("Choose an open complaint or concern about this conversation's members or their pairing.")
    text = reason_clean(reason)
    if hours not in GRANT_HOURS:
        raise ValidationError("Choose how long you need: at most 24 hours.")
    now = timezone.now()
    grant = ConversationAccessGrant.objects.create(
        reader=reader,
        conversation=conversation,
        complaint=chosen.complaint,
        concern=chosen.concern,
        reason=text,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=hours),
    )
    # A grant for a concern is concern business: its audit event is listed to the Lead group only.
    action = f"{AUDIT_PREFIX}conversation_access" if chosen.concern else "conversation.access_granted"
    audit(
        actor=reader,
        action=action,
        obj=grant,
        conversation=conversation.pk,
        complaint=chosen.complaint.pk if chosen.complaint else None,
        concern=chosen.concern.pk if chosen.concern else None,
        reason=text,
        expires_at=grant.expires_at.isoformat(),
    )
    return grant


class GrantExpired(Exception):
    """The reader's own grant has run out: they ask for a new one."""

    def __init__(self, grant: ConversationAccessGrant):
        super().__init__(f"{grant} expired at {grant.expires_at}")
        self.grant = grant


@transaction.atomic
def conversation_read(*, reader, grant_id: int) -> ConversationAccessGrant:
    """One read under the reader's own current grant: written to the access log before anything is shown.

    Http404 for anyone who may not read confidentially (a reader who lost the role too) and for another
    reader's grant; GrantExpired for the reader's own grant once it has run out.
    """
    if not may_read_confidential(reader):
        raise Http404("Not found.")
    grant = get_object_or_404(
        ConversationAccessGrant.objects.filter(reader=reader).select_related(
            "conversation__first_member", "conversation__second_member", "conversation__pairing__scheme"
        ),
        pk=grant_id,
    )
    if not grant.is_current():
        raise GrantExpired(grant)
    if grant.concern_id is not None and not may_see_concerns(reader):
        raise Http404("Not found.")  # no longer in the Lead group
    ConversationAccessLog.objects.create(
        reader=reader, conversation=grant.conversation, grant=grant, reason=grant.reason
    )
    return grant


def current_grants(reader, conversation: Conversation):
    """The reader's grants for this conversation that have not run out, newest first."""
    return ConversationAccessGrant.objects.filter(
        reader=reader, conversation=conversation, expires_at__gt=timezone.now()
    ).order_by("-created_at")
