"""Sending in a pairing's conversation under the scheme's rules (issue 8).

Its own module, and not mentoring/services.py, because messaging's pages and socket call it: this module
imports only the scheme's models and messaging, so messaging stays clear of matching (import-linter).
"""

from django.core.exceptions import ValidationError
from django.db import connection

from mentoring.models import Pairing, Role, Scheme, SchemeMembership
from messaging.services import message_post

# Memberships in these states may not write to their partner (issue 8, item 4).
SILENCED = {
    SchemeMembership.Status.SUSPENDED: "suspended",
    SchemeMembership.Status.WITHDRAWN: "withdrawn",
}


def message_send(*, conversation_id: int, sender, body: str):
    """Send a message in a pairing's conversation: what views and the consumer call.

    Adds the scheme's rule to messaging.services.message_post: a member whose membership for the
    pairing's scheme and role is suspended or withdrawn cannot send. The rule is checked inside
    message_post's transaction, once it holds the conversation's row lock, so it is read in the same
    transaction that stores the message (a withdrawal, which closes the conversation under that lock,
    is never overtaken). Another person's conversation raises Conversation.DoesNotExist.
    """

    def may_send(conversation) -> None:
        status, role, scheme_id = _standing(pairing_id=conversation.pairing_id, member_id=sender.pk)
        if status in SILENCED:
            raise ValidationError(
                f"Your membership of {Scheme.objects.get(pk=scheme_id)} as a {Role(role).label.lower()} is "
                f"{SILENCED[status]}, so you cannot send messages. Your coordinator can tell you more."
            )

    return message_post(conversation_id=conversation_id, sender=sender, body=body, check=may_send)


def _standing(*, pairing_id: int, member_id: int) -> tuple[str | None, str, int]:
    """The status of the member's membership in the pairing's scheme, in the role they hold in the pairing
    (None without one), that role, and the scheme's id: one short statement, run for every message. Plain
    SQL, as messaging.services does on that path: bench/messaging.py found building the ORM's version
    cost more than running it."""
    pairing, membership = Pairing._meta.db_table, SchemeMembership._meta.db_table
    sql = (
        f"SELECT m.status, p.mentor_id, p.scheme_id FROM {pairing} p"  # noqa: S608
        f" LEFT JOIN {membership} m ON m.scheme_id = p.scheme_id AND m.user_id = %s"
        " AND m.role = CASE WHEN p.mentor_id = %s THEN %s ELSE %s END"
        " WHERE p.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [member_id, member_id, Role.MENTOR.value, Role.MENTEE.value, pairing_id])
        status, mentor_id, scheme_id = cursor.fetchone()
    return status, Role.MENTOR if mentor_id == member_id else Role.MENTEE, scheme_id
