"""Notifications and the pair's conversation: stored first, then delivered after commit."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.validators import single_line

# messaging.tasks imports this module too; each imports the other as a module and
# uses it only at call time, so either may be loaded first.
from messaging import tasks
from messaging.contact_details import find_contact_details
from messaging.kinds import KINDS
from messaging.models import (
    MESSAGE_MAX_LENGTH,
    Conversation,
    ConversationRead,
    HeldMessage,
    Message,
    Notification,
    SpecialCategoryWarningCount,
)

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    """The channel-layer group every socket of one user joins."""
    return f"user.{user_id}"


def notify(user, kind: str, obj=None, *, body: str = "", url: str = "") -> Notification:
    """Store a notification for `user`; after commit, push the new unread count and email it if important."""
    return notify_many([user], kind, obj, body=body, url=url)[0]


def notify_many(users: Iterable, kind: str, obj=None, *, body: str = "", url: str = "") -> list[Notification]:
    """One notification each, in one INSERT; deliveries queued after commit."""
    spec = KINDS[kind]
    # A title becomes an email subject, where a line break is refused: one line, always.
    title = single_line(spec.title.format(obj=obj))[:200]
    if not url and obj is not None and hasattr(obj, "get_absolute_url"):
        url = obj.get_absolute_url()
    content_type = ContentType.objects.get_for_model(obj) if obj is not None and hasattr(obj, "_meta") else None
    object_id = obj.pk if content_type is not None else None
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user=u,
                kind=kind,
                title=title,
                body=body,
                url=url,
                content_type=content_type,
                object_id=object_id,
                email_wanted=spec.important,
            )
            for u in users
        ]
    )
    user_ids = [n.user_id for n in rows]
    transaction.on_commit(lambda: _deliver(user_ids, kind, spec.important), robust=True)
    return rows


# Above this many recipients the live counts are pushed by a worker, not in the request.
PUSH_INLINE_LIMIT = 50


def _deliver(user_ids: list[int], kind: str, important: bool) -> None:
    """After commit: nothing here may fail the write. A task the broker refuses is
    logged (TransactionAwareTask) and the beat job emails what it missed."""
    if len(user_ids) > PUSH_INLINE_LIMIT:
        tasks.push_unread_counts.delay(user_ids=user_ids)
    else:
        push_unread_counts(user_ids)
    if important:
        tasks.send_notification_emails.delay(user_ids=user_ids)


def unread_count(user) -> int:
    return Notification.objects.for_user(user).unread().count()


def push_unread_counts(user_ids: list[int]) -> None:
    """Tell each user's open pages the new unread count (best effort: the page also shows it on load)."""
    layer = get_channel_layer()
    if layer is None:
        return
    counts = dict.fromkeys(user_ids, 0)
    for uid in Notification.objects.filter(user_id__in=user_ids, read_at__isnull=True).values_list(
        "user_id", flat=True
    ):
        counts[uid] += 1
    send = async_to_sync(layer.group_send)
    try:
        for uid, count in counts.items():
            send(user_group(uid), {"type": "notification.count", "unread": count})
    except Exception:
        # Any layer's failure (Redis down, a full channel): the count is a
        # convenience, and the next page load shows it. Stop rather than try each user.
        logger.warning("Could not push unread counts to %d member(s)", len(counts), exc_info=True)


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, all) of the user's notifications read. Returns how many changed."""
    qs = Notification.objects.for_user(user).unread()
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    changed = qs.update(read_at=timezone.now())
    if changed:
        uid = user.pk
        transaction.on_commit(lambda: push_unread_counts([uid]), robust=True)
    return changed


# A run gives up on a row after this many tries that failed for reasons of the
# moment (the mail server refused the connection) and records it failed.
MAX_EMAIL_ATTEMPTS = 5

# The SMTP backend otherwise waits for ever; a send must end well within the
# claim's lifetime (EMAIL_CLAIM_EXPIRES), or a second run could send it again.
EMAIL_SEND_TIMEOUT = 60


def emails_send_pending(*, user_ids: list[int] | None = None, limit: int = 500) -> int:
    """Email important notifications not yet emailed. Returns how many were sent.

    Safe to run twice at once: each row is claimed in its own committed UPDATE before
    its email is sent, and marked emailed only once the send succeeded. A row whose
    email cannot be built or is refused is marked failed with its error and the run
    goes on; a row claimed by a run that died is taken over once the claim expires.
    Call it outside a transaction, so each claim is seen by other runs at once.
    """
    due = Notification.objects.email_due(now=timezone.now())
    if user_ids is not None:
        due = due.filter(user_id__in=user_ids)
    pks = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    sent = 0
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_SEND_TIMEOUT
    with mail.get_connection(timeout=timeout) as connection:
        for pk in pks:
            claimed_at = timezone.now()
            # Of two runs claiming one row, PostgreSQL makes the second wait and
            # re-check the condition once the first commits: it finds the row taken.
            claimed = (
                Notification.objects.email_due(now=claimed_at)
                .filter(pk=pk)
                .update(email_claimed_at=claimed_at, email_attempts=F("email_attempts") + 1)
            )
            if not claimed:
                continue
            notification = Notification.objects.select_related("user").get(pk=pk)
            try:
                _email_send(notification, connection)
            except smtplib.SMTPRecipientsRefused as error:
                _email_failed(notification, error)
            except OSError as error:
                # The mail server or the network, not this message: stop the run (the
                # task retries later). The claim expires, so this row waits its turn
                # behind the others next time, until it has had its tries.
                if notification.email_attempts >= MAX_EMAIL_ATTEMPTS:
                    _email_failed(notification, error)
                    continue
                raise
            except Exception as error:
                # Anything else belongs to this message alone (a header with a line
                # break, a template error): record it and send the others.
                _email_failed(notification, error)
            else:
                Notification.objects.filter(pk=pk).update(emailed_at=timezone.now())
                sent += 1
    return sent


def _email_send(notification: Notification, connection) -> None:
    context = {"notification": notification, "user": notification.user, "site_url": settings.SITE_URL}
    mail.EmailMessage(
        # Titles are made single-line when stored; a row from before that rule may still hold a line break.
        subject=single_line(notification.title),
        body=render_to_string("messaging/notification_email.txt", context),
        to=[notification.user.email],
        connection=connection,
    ).send()


def _email_failed(notification: Notification, error: Exception) -> None:
    logger.warning("Could not email notification %s: %r", notification.pk, error)
    Notification.objects.filter(pk=notification.pk).update(
        email_failed_at=timezone.now(), email_error=f"{type(error).__name__}: {error}"[:2000]
    )


def sockets_close_for(user_id: int) -> None:
    """Close every open socket of a member who signed out (DESIGN: a logout closes that user's sockets)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "session.logout"})


# The pair's conversation (issue 8). Mentoring opens and closes it; messaging never imports mentoring.

READ_ONLY_MESSAGE = "This pairing has ended, so the conversation is read-only."


def conversation_group(conversation_id: int) -> str:
    """The channel-layer group every open page of one conversation joins."""
    return f"conversation.{conversation_id}"


@transaction.atomic
def conversation_open(*, pairing, members) -> Conversation:
    """The pairing's conversation between its two members (R-MSG-1). Opening it again returns the same one."""
    first, second = members
    conversation, _ = Conversation.objects.get_or_create(
        pairing_id=pairing.pk, defaults={"first_member": first, "second_member": second}
    )
    return conversation


@transaction.atomic
def conversation_close(*, pairing_id: int) -> int:
    """The pairing ended: its conversation stays readable but takes no new messages."""
    return Conversation.objects.filter(pairing_id=pairing_id, read_only=False).update(read_only=True)


def message_clean(body) -> str:
    """The text as it will be stored, or a ValidationError that tells the writer what to change."""
    text = (body if isinstance(body, str) else "").strip()
    if not text:
        raise ValidationError("Write a message before you send it.")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            f"A message can be at most {MESSAGE_MAX_LENGTH:,} characters long; this one has {len(text):,}. "
            "Shorten it or send it in parts."
        )
    # Line breaks and tabs are text; other control characters are not (PostgreSQL refuses a NUL outright).
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in text):
        raise ValidationError("Your message contains characters that cannot be sent; remove them and try again.")
    return text


@transaction.atomic(durable=True)
def message_post(
    *, conversation_id: int, sender, body: str, hold_contact_details: bool = False, reviewers: Iterable = ()
) -> Message:
    """Store a message from one of the conversation's two members, then, after commit, push it to the
    conversation's open pages (R-MSG-2). The partner gets a notification that never quotes the text.

    With `hold_contact_details` (the scheme keeps all contact on the platform, R-MSG-7), a message that seems
    to carry contact details is stored HELD instead: it is not pushed, the partner is not told, and each of
    `reviewers` (the network's coordinators) gets a notification pointing to the queue.

    Raises Conversation.DoesNotExist for anyone else (views answer 404), ValidationError when the
    conversation is read-only or the text is empty or too long. Scheme rules (a suspended member, the
    special-category warning) are checked by mentoring.messages.message_send, which views and consumers call.
    """
    conversation = (
        Conversation.objects.for_participant(sender)
        .select_for_update(of=("self",))
        .select_related("first_member", "second_member")
        .get(pk=conversation_id)
    )
    if conversation.read_only:
        raise ValidationError(READ_ONLY_MESSAGE)
    text = message_clean(body)
    reasons = find_contact_details(text) if hold_contact_details else []
    if reasons:
        return _message_hold(conversation=conversation, sender=sender, text=text, reasons=reasons, reviewers=reviewers)
    message = Message.objects.create(conversation=conversation, sender=sender, body=text)
    _message_deliver(conversation=conversation, message=message)
    return message


def _message_deliver(*, conversation: Conversation, message: Message, extra: dict | None = None) -> None:
    """Inside the writing transaction: the sender has read it, the partner is told, the pages get it after commit."""
    # The sender has read what they wrote: it never counts as unread for them.
    _read_mark(conversation=conversation, user=message.sender, up_to_id=message.pk)
    partner = conversation.partner_of(message.sender)
    notify(partner, "message_received", message, url=conversation.get_absolute_url())
    payload = {**message_payload(message), **(extra or {})}
    transaction.on_commit(lambda: _broadcast(conversation.pk, payload), robust=True)


def _message_hold(*, conversation: Conversation, sender, text: str, reasons: list[str], reviewers) -> Message:
    message = Message.objects.create(conversation=conversation, sender=sender, body=text, status=Message.Status.HELD)
    held = HeldMessage.objects.create(message=message, reasons=",".join(reasons))
    _read_mark(conversation=conversation, user=sender, up_to_id=message.pk)
    # The coordinators' notification names no one and quotes nothing; the queue shows the text.
    notify_many(reviewers, "message_held", held, url=reverse("admin:messaging_heldmessage_change", args=[held.pk]))
    return message


@transaction.atomic
def held_message_settle(*, held_id: int, actor, release: bool) -> HeldMessage:
    """Release (deliver) or reject one held message, recording who decided and when (R-MSG-7).

    Released: delivered as a new message, as if sent now (pushed after commit, the partner told) and the
    sender told. Rejected: the sender is told; the partner never sees it. Raises ValidationError when it
    was decided already or the pairing has ended. Checks no permission: mentoring.messages.held_message_release
    and held_message_reject do, and are what the admin calls.
    """
    held = (
        HeldMessage.objects.select_for_update(of=("self",))
        .select_related(
            "message__sender", "message__conversation__first_member", "message__conversation__second_member"
        )
        .get(pk=held_id)
    )
    if held.decision != HeldMessage.Decision.PENDING:
        raise ValidationError(f"This message was {held.get_decision_display().lower()} already.")
    original = held.message
    conversation = original.conversation
    if release and conversation.read_only:
        raise ValidationError("The pairing has ended, so this message cannot be delivered; reject it instead.")
    held.decided_by = actor
    held.decided_at = timezone.now()
    if release:
        delivered = Message.objects.create(conversation=conversation, sender=original.sender, body=original.body)
        original.status = Message.Status.RELEASED
        held.decision = HeldMessage.Decision.RELEASED
        held.delivered_as = delivered
        # The sender's open pages swap their held copy for the delivered one.
        _message_deliver(conversation=conversation, message=delivered, extra={"released_from": original.pk})
        notify(original.sender, "message_released", held, url=conversation.get_absolute_url())
    else:
        original.status = Message.Status.REJECTED
        held.decision = HeldMessage.Decision.REJECTED
        notify(original.sender, "message_rejected", held, url=conversation.get_absolute_url())
    original.save(update_fields=["status"])
    held.save(update_fields=["decision", "decided_by", "decided_at", "delivered_as"])
    return held


@transaction.atomic
def special_category_warning_count(*, scheme_id: int, sent_anyway: bool = False) -> None:
    """Count one special-category warning (or one message sent anyway after it) for the scheme today (R-MSG-4).
    Only the number is kept: not the text, not the words, not the writer."""
    row, _ = SpecialCategoryWarningCount.objects.get_or_create(scheme_id=scheme_id, day=timezone.now().date())
    field = "sent_anyway" if sent_anyway else "warned"
    SpecialCategoryWarningCount.objects.filter(pk=row.pk).update(**{field: F(field) + 1})


def message_payload(message: Message) -> dict:
    """What a socket receives for one message (the sender's first name only). A held or rejected message
    (only ever sent to its sender) carries its status and a notice that says why."""
    payload = {
        "id": message.pk,
        "sender": message.sender.first_name,
        "sender_id": message.sender_id,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }
    if message.status != Message.Status.DELIVERED:
        payload.update(status=message.status, notice=message.status_notice)
    return payload


def _broadcast(conversation_id: int, payload: dict) -> None:
    """After commit, best effort: a page that misses it catches up when it reconnects (messages_after)."""
    layer = get_channel_layer()
    if layer is None:
        return
    event = {"type": "message.new", "message": payload}
    try:
        async_to_sync(layer.group_send)(conversation_group(conversation_id), event)
    except Exception:
        logger.warning("Could not push message %s to conversation %s", payload["id"], conversation_id, exc_info=True)


def messages_after(*, conversation: Conversation, after_id: int, limit: int = 200, viewer=None) -> list[Message]:
    """Messages a reconnecting page of `viewer` missed, oldest first: never a held message of the partner's."""
    messages = conversation.messages.seen_by(viewer).filter(pk__gt=after_id)
    return list(messages.select_related("sender", "hold").order_by("pk")[:limit])


def _read_mark(*, conversation: Conversation, user, up_to_id: int) -> None:
    row, _ = ConversationRead.objects.get_or_create(conversation=conversation, user=user)
    if up_to_id > row.last_read_id:
        # Conditional, so two tabs marking at once never move the mark back.
        ConversationRead.objects.filter(pk=row.pk, last_read_id__lt=up_to_id).update(last_read_id=up_to_id)


@transaction.atomic
def conversation_mark_read(*, conversation_id: int, user, up_to_id: int | None = None) -> None:
    """The member has read up to `up_to_id` (with none: everything). Never moves back; an id past the
    conversation's newest message is cut to it. Another member's conversation raises DoesNotExist."""
    conversation = Conversation.objects.for_participant(user).get(pk=conversation_id)
    newest = conversation.messages.seen_by(user).order_by("-pk").values_list("pk", flat=True).first() or 0
    up_to = newest if up_to_id is None else min(int(up_to_id), newest)
    if up_to > 0:
        _read_mark(conversation=conversation, user=user, up_to_id=up_to)
