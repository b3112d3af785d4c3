"""A coordinator, or scheme staff, write to selected members through the platform (issue 11, item 4; R-COORD-4).

Each member gets a notification (persisted first, delivered and emailed after commit, messaging.services.notify_many)
in one INSERT. A coordinator writes only to members of their own networks; the whole send is refused otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from mentoring import permissions
from messaging.services import message_clean, notify_many
from safeguarding.audit import audit

# The most members one send reaches: a larger selection is a mistake ("select all" on the whole scheme).
MESSAGE_RECIPIENTS_MAX = 2000


@transaction.atomic
def members_message_send(*, member_ids: list[int], actor, body: str) -> int:
    """Send `body` to each active member in `member_ids`. Returns how many were told."""
    permissions.require(
        permissions.holds_role(actor, settings.GROUP_COORDINATORS, settings.GROUP_STAFF),
        "Only coordinators and scheme staff write to members.",
    )
    text = message_clean(body)
    members = get_user_model().objects.filter(pk__in=set(member_ids), is_active=True)
    if permissions.coordinator_only(actor):
        outside = members.exclude(permissions.membership_in_scope(actor, member="pk"))
        permissions.require(not outside.exists(), "You can write only to members of your own networks.")
    members = list(members.only("pk"))
    if len(members) > MESSAGE_RECIPIENTS_MAX:
        raise ValidationError(f"Write to at most {MESSAGE_RECIPIENTS_MAX} members at a time.")
    if not members:
        raise ValidationError("None of the selected members can be written to.")
    signature = actor.get_full_name() or actor.email
    notify_many(members, "scheme_message", body=f"{text}\n\n{signature}")
    audit(actor=actor, action="members.messaged", recipients=len(members), length=len(text))
    return len(members)
