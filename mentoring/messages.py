"""Sending in a pairing's conversation under the scheme's rules (issue 8).

Its own module, and not mentoring/services.py, because messaging's pages and socket call it: this module
imports only the scheme's models and messaging, so messaging stays clear of matching (import-linter).
"""

from django.core.exceptions import ValidationError
from django.db.models import Q

from mentoring.models import Role, Scheme, SchemeMembership
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
        # One query: the sender's membership in the pairing's scheme, in the role they hold in the pairing.
        mine = Q(scheme__pairings__pk=conversation.pairing_id) & (
            Q(role=Role.MENTOR, scheme__pairings__mentor=sender) | Q(role=Role.MENTEE, scheme__pairings__mentee=sender)
        )
        membership = SchemeMembership.objects.filter(mine, user=sender).values("status", "role", "scheme_id").first()
        if membership and membership["status"] in SILENCED:
            scheme = Scheme.objects.get(pk=membership["scheme_id"])
            raise ValidationError(
                f"Your membership of {scheme} as a {Role(membership['role']).label.lower()} is "
                f"{SILENCED[membership['status']]}, so you cannot send messages. Your coordinator can tell you more."
            )

    return message_post(conversation_id=conversation_id, sender=sender, body=body, check=may_send)
