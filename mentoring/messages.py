"""Sending in a pairing's conversation under the scheme's rules (issue 8), and the coordinators' decisions on
held messages (R-MSG-7).

Its own module, and not mentoring/services.py, because messaging's pages and socket call it: this module
imports only the scheme's models and permissions, the audit log and messaging, so messaging stays clear of
matching (import-linter).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Q

from mentoring import permissions
from mentoring.models import Pairing, Role, SchemeMembership
from messaging.models import Conversation, HeldMessage, Message
from messaging.services import (
    READ_ONLY_MESSAGE,
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
    """
    conversation = (
        Conversation.objects.for_participant(sender).select_related("pairing__scheme").get(pk=conversation_id)
    )
    pairing = conversation.pairing

    def may_send(locked) -> None:
        status, role, paused = _standing(pairing_id=locked.pairing_id, member_id=sender.pk)
        if status in SILENCED:
            raise ValidationError(
                f"Your membership of {pairing.scheme} as a {Role(role).label.lower()} is {SILENCED[status]}, "
                "so you cannot send messages. Your coordinator can tell you more."
            )
        if paused and not locked.read_only:
            # One of the pair is suspended (R-SAFE-2); the partner is not told why.
            raise ValidationError(PAUSED_MESSAGE)

    # Refusals first, before any warning: there is nothing to confirm. message_post checks again under the
    # conversation's row lock, in the transaction that stores the message (a suspension or a withdrawal that
    # lands in between is never overtaken).
    if conversation.read_only:
        raise ValidationError(READ_ONLY_MESSAGE)  # before any warning: there is nothing to confirm
    may_send(conversation)
    findings = find_special_category(message_clean(body))
    if findings and not confirm_special:
        special_category_warning_count(scheme_id=pairing.scheme_id)
        raise SpecialCategoryWarning(findings)
    hold = not pairing.scheme.shares_contact_details
    message = message_post(
        conversation_id=conversation.pk,
        sender=sender,
        body=body,
        check=may_send,
        hold_contact_details=hold,
        # Built only when a message is held: building the queryset cost a third of a message's CPU (bench).
        reviewers=lambda: held_message_reviewers(pairing),
    )
    if findings:
        special_category_warning_count(scheme_id=pairing.scheme_id, sent_anyway=True)
    return message


def held_message_reviewers(pairing: Pairing):
    """Who decides on a held message of this pairing: the coordinators of its Local Network, or, for a network
    with none, scheme staff. A lazy queryset: it is read only when a message is held."""
    coordinator = Q(groups__name=settings.GROUP_COORDINATORS, coordinated_networks=pairing.network_id)
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


def _standing(*, pairing_id: int, member_id: int) -> tuple[str | None, str, bool]:
    """The status of the member's membership in the pairing's scheme, in the role they hold in the pairing
    (None without one), that role, and whether the pairing is paused: one short statement, run for every
    message. Plain SQL, as messaging.services does on that path: bench/messaging.py found building the ORM's
    version cost more than running it."""
    pairing, membership = Pairing._meta.db_table, SchemeMembership._meta.db_table
    sql = (
        f"SELECT m.status, p.mentor_id, p.paused_at FROM {pairing} p"  # noqa: S608
        f" LEFT JOIN {membership} m ON m.scheme_id = p.scheme_id AND m.user_id = %s"
        " AND m.role = CASE WHEN p.mentor_id = %s THEN %s ELSE %s END"
        " WHERE p.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [member_id, member_id, Role.MENTOR.value, Role.MENTEE.value, pairing_id])
        status, mentor_id, paused_at = cursor.fetchone()
    return status, Role.MENTOR if mentor_id == member_id else Role.MENTEE, paused_at is not None
