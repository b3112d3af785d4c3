"""Sending in a pairing's conversation under the scheme's rules (issue 8), and the coordinators' decisions on
held messages (R-MSG-7).

Its own module, and not mentoring/services.py, because messaging's pages and socket call it: this module
imports only the scheme's models and permissions, the audit log and messaging, so messaging stays clear of
matching (import-linter).
"""

from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Q

from mentoring import permissions
from mentoring.models import Pairing, Role, Scheme, SchemeMembership
from messaging import statements
from messaging.models import Conversation, HeldMessage, Message
from messaging.services import (
    CONVERSATION_COLUMNS,
    READ_ONLY_MESSAGE,
    ConversationLock,
    conversation_read,
    held_message_settle,
    message_clean,
    message_post,
    special_category_warning_count,
)
from messaging.special_category import SpecialCategoryWarning, find_special_category
from safeguarding.audit import audit

# Memberships in these states may not write to their partner (issue 8, item 4).
SILENCED = {
    SchemeMembership.Status.SUSPENDED: "suspended",
    SchemeMembership.Status.WITHDRAWN: "withdrawn",
}
PAUSED_MESSAGE = "Your mentoring is paused for now, so messages cannot be sent. The scheme will be in touch."


def message_send(*, conversation_id: int, sender, body: str, confirm_special: bool = False) -> Message:
    """Send a message in a pairing's conversation: what views and the consumer call.

    Adds the scheme's rules to messaging.services.message_post: a member whose membership for the
    pairing's scheme and role is suspended or withdrawn cannot send, nor can either member of a paused pairing;
    text that seems to hold special-category data raises SpecialCategoryWarning (counted, R-MSG-4) unless the
    writer confirmed it; in a scheme that keeps contact on the platform, a message that seems to carry contact
    details is held for the network's coordinators (R-MSG-7). Not atomic itself (message_post owns the durable
    transaction). Another person's conversation raises Conversation.DoesNotExist.

    Refusals come before any warning (there is nothing to confirm) and before a complaint about the text. The
    common case (text that is fine) reads the member's standing once, in message_post's transaction under the
    conversation's row lock, so a suspension or a withdrawal that lands in between is never overtaken; only a
    warning or bad text reads it first, outside (bench/messaging.py: every statement on this path counts).
    """
    try:
        findings = find_special_category(message_clean(body))
    except ValidationError:
        findings = None  # bad text: a refusal, if any, is the answer; else the text's own error
    if findings is None or (findings and not confirm_special):
        standing, _ = _standing(conversation_id=conversation_id, member_id=sender.pk)
        _refuse(standing, read_only=standing.read_only)
        if findings is None:
            message_clean(body)  # raises the text's own error
        special_category_warning_count(scheme_id=standing.scheme_id)
        raise SpecialCategoryWarning(findings)

    locked_standing = []

    def lock(*, conversation_id: int, member_id: int) -> ConversationLock:
        sql, params = _standing_sql(conversation_id=conversation_id, member_id=member_id, lock=True)

        def read(row) -> Conversation:
            standing, conversation = _standing_read(row, member_id=member_id)
            locked_standing.append(standing)
            return conversation

        return ConversationLock(sql, params, read)

    def may_send(locked) -> None:
        _refuse(locked_standing[-1], read_only=locked.read_only)

    message = message_post(
        conversation_id=conversation_id,
        sender=sender,
        body=body,
        lock=lock,
        check=may_send,
        hold_contact_details=lambda: not locked_standing[-1].shares_contact_details,
        # Built only when a message is held: building the queryset cost a third of a message's CPU (bench).
        reviewers=lambda: held_message_reviewers(locked_standing[-1].network_id),
    )
    if findings:
        special_category_warning_count(scheme_id=locked_standing[-1].scheme_id, sent_anyway=True)
    return message


def held_message_reviewers(network_id: int):
    """Who decides on a held message of a pairing of this Local Network: its coordinators, or, for a network
    with none, scheme staff. A lazy queryset: it is read only when a message is held."""
    coordinator = Q(groups__name=settings.GROUP_COORDINATORS, coordinated_networks=network_id)
    network_has_one = Exists(get_user_model().objects.filter(coordinator, is_active=True, is_staff=True))
    staff = Q(groups__name=settings.GROUP_STAFF) & ~Q(network_has_one)
    return get_user_model().objects.filter(coordinator | staff, is_active=True, is_staff=True).distinct()


@transaction.atomic
def _held_message_decide(*, held_id: int, actor, release: bool) -> HeldMessage:
    """Check the actor covers the pairing's network (staff cover all), decide, and audit the decision.
    Raises HeldMessage.DoesNotExist for no such id, PermissionDenied for anyone else."""
    held = HeldMessage.objects.select_related("message__conversation__pairing", "message__sender").get(pk=held_id)
    pairing = held.message.conversation.pairing
    permissions.require(
        permissions.covers_network(actor, pairing.network_id),
        "Only the pairing's coordinators and scheme staff decide on its held messages.",
    )
    held = held_message_settle(held_id=held.pk, actor=actor, release=release)
    # Who decided, on what, and why it was held: never the text.
    audit(
        actor=actor,
        action="message.held_released" if release else "message.held_rejected",
        target_user=held.message.sender,
        obj=held,
        pairing=pairing.pk,
        reasons=held.reason_kinds,
    )
    return held


def held_message_release(*, held_id: int, actor) -> HeldMessage:
    """A coordinator of the pairing's network (or staff) lets a held message through (R-MSG-7)."""
    return _held_message_decide(held_id=held_id, actor=actor, release=True)


def held_message_reject(*, held_id: int, actor) -> HeldMessage:
    """A coordinator of the pairing's network (or staff) stops a held message; the partner never sees it."""
    return _held_message_decide(held_id=held_id, actor=actor, release=False)


class _Standing(NamedTuple):
    read_only: bool
    status: str | None  # of the member's membership in the pairing's scheme and role; None without one
    role: str
    paused: bool
    scheme_id: int
    scheme_name: str
    shares_contact_details: bool
    network_id: int


def _standing(*, conversation_id: int, member_id: int) -> tuple[_Standing, Conversation]:
    """What the scheme's rules need to let the member send in the conversation (see _standing_sql), and the
    conversation. Raises Conversation.DoesNotExist when the member is not one of its two."""
    sql, params = _standing_sql(conversation_id=conversation_id, member_id=member_id)
    with statements.cursor() as cursor:
        cursor.execute(sql, params)
        return _standing_read(cursor.fetchone(), member_id=member_id)


def _standing_sql(*, conversation_id: int, member_id: int, lock: bool = False) -> tuple[str, list]:
    """One short statement, run for every message: the conversation's read-only flag, the member's membership
    status in the pairing's scheme in the role they hold in the pairing, whether the pairing is paused, the
    scheme's and network's facts, and the conversation. With `lock`, it is message_post's lock on the
    conversation (messaging.services.ConversationLock), so sending takes one statement fewer. Plain SQL, as
    messaging.services does on that path: bench/messaging.py found building the ORM's version cost more than
    running it. No row when the member is not one of the conversation's two."""
    conversation, pairing = Conversation._meta.db_table, Pairing._meta.db_table
    membership, scheme = SchemeMembership._meta.db_table, Scheme._meta.db_table
    # SQLite has no row locks: a write there locks the whole database.
    locking = " FOR UPDATE OF c" if lock and connection.features.has_select_for_update_of else ""
    sql = (
        "SELECT m.status, p.mentor_id, p.paused_at, s.id, s.name, s.shares_contact_details, p.network_id, "  # noqa: S608
        + ", ".join(f"c.{column}" for column in CONVERSATION_COLUMNS)
        + f" FROM {conversation} c JOIN {pairing} p ON p.id = c.pairing_id"
        f" JOIN {scheme} s ON s.id = p.scheme_id"
        f" LEFT JOIN {membership} m ON m.scheme_id = p.scheme_id AND m.user_id = %s"
        " AND m.role = CASE WHEN p.mentor_id = %s THEN %s ELSE %s END"
        f" WHERE c.id = %s AND (c.first_member_id = %s OR c.second_member_id = %s){locking}"
    )
    return sql, [member_id, member_id, Role.MENTOR.value, Role.MENTEE.value, conversation_id, member_id, member_id]


def _standing_read(row: tuple | None, *, member_id: int) -> tuple[_Standing, Conversation]:
    conversation = conversation_read(row if row is None else row[7:])  # raises for no row
    status, mentor_id, paused_at, scheme_id, scheme_name, shares, network_id = row[:7]
    role = Role.MENTOR if mentor_id == member_id else Role.MENTEE
    paused = paused_at is not None
    standing = _Standing(conversation.read_only, status, role, paused, scheme_id, scheme_name, bool(shares), network_id)
    return standing, conversation


def _refuse(standing: _Standing, *, read_only: bool) -> None:
    """Raise the reason the member may not send now, if there is one."""
    if read_only:
        raise ValidationError(READ_ONLY_MESSAGE)
    if standing.status in SILENCED:
        raise ValidationError(
            f"Your membership of {standing.scheme_name} as a {Role(standing.role).label.lower()} is "
            f"{SILENCED[standing.status]}, so you cannot send messages. Your coordinator can tell you more."
        )
    if standing.paused:
        # One of the pair is suspended (R-SAFE-2); the partner is not told why.
        raise ValidationError(PAUSED_MESSAGE)
