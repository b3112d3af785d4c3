"""Notifications and the pair's conversation: stored first, then delivered after commit."""

from __future__ import annotations

import datetime
import logging
import math
import smtplib
from collections.abc import Callable, Iterable
from typing import NamedTuple

from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.validators import single_line

# messaging.tasks imports this module too; each imports the other as a module and
# uses it only at call time, so either may be loaded first.
from messaging import delivery, statements, tasks
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


def session_group(user_id: int) -> str:
    """The group a member's conversation sockets join only to hear that the member signed out."""
    return f"session.{user_id}"


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
    # Any layer's failure (Redis down, a full channel) is logged and stops the pushes: the count is a
    # convenience, and the next page load shows it.
    delivery.layer_send(
        [(user_group(uid), {"type": "notification.count", "unread": count}) for uid, count in counts.items()],
        what=f"unread counts to {len(counts)} member(s)",
    )


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
    delivery.layer_send(
        [(group, {"type": "session.logout"}) for group in (user_group(user_id), session_group(user_id))],
        what=f"the sign-out of member {user_id}",
    )


# The pair's conversation (issue 8). Mentoring opens and closes it; messaging never imports mentoring.

READ_ONLY_MESSAGE = "This pairing has ended, so the conversation is read-only."

# How much of a message the inbox and "My mentoring" show live (as the inbox page does).
SUMMARY_LENGTH = 120


class MessageRateLimited(ValidationError):
    """Too many messages in a short time (a flood): nothing was stored. `retry_after` is in seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, retry_after)
        seconds = f"{self.retry_after} second{'' if self.retry_after == 1 else 's'}"
        super().__init__(
            f"You are sending messages faster than the platform allows. Your message was not sent: "
            f"wait {seconds} and send it again."
        )


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


def _rate_refuse(oldest_counted, *, now) -> None:
    """The flood limit (issue 8, bad input): a member may send MESSAGE_RATE_LIMIT messages in any
    MESSAGE_RATE_WINDOW seconds, over all their conversations, pages and sockets. Counted in the database,
    so every server process sees the same count, with or without Redis."""
    window = datetime.timedelta(seconds=settings.MESSAGE_RATE_WINDOW)
    if oldest_counted is not None and oldest_counted > now - window:
        raise MessageRateLimited(retry_after=math.ceil((oldest_counted + window - now).total_seconds()))


class ConversationLock(NamedTuple):
    """How message_post locks a conversation for its transaction: a statement that locks the conversation's row
    and returns one row when `member_id` is one of its two members, and how to read that row (None: no such
    conversation of the member's) into the conversation, raising Conversation.DoesNotExist for None."""

    sql: str
    params: list
    read: Callable[[tuple | None], Conversation]


@transaction.atomic(durable=True)
def message_post(
    *,
    conversation_id: int,
    sender,
    body: str,
    lock: Callable[..., ConversationLock] | None = None,
    check: Callable[[Conversation], None] | None = None,
    hold_contact_details: bool | Callable[[], bool] = False,
    reviewers: Iterable | Callable[[], Iterable] = (),
) -> Message:
    """Store a message from one of the conversation's two members, then, after commit, push it to the
    conversation's open pages and both members' live badges (R-MSG-2, R-MSG-3). The partner gets a
    notification that never quotes the text, one while earlier ones are unread (it reads "new message").

    The message returned carries `live_payload`, the payload pushed to the pages (not for a held message).

    Raises Conversation.DoesNotExist for anyone else (views answer 404), ValidationError when the
    conversation is read-only or the text is empty or too long, MessageRateLimited for a flood.
    `lock(conversation_id=…, member_id=…)` gives the ConversationLock (the default: _conversation_lock_on), so
    a caller may read what its own rules need in the locking statement. `check(conversation)` then runs, under
    the lock, before anything is kept: mentoring.messages.message_send passes the scheme's rules (a suspended
    member) that way.

    With `hold_contact_details` (the scheme keeps all contact on the platform, R-MSG-7; a callable is asked
    after `check`, which may have read the scheme's setting), a message that seems
    to carry contact details is stored HELD instead: it is not pushed, the partner is not told, and each of
    `reviewers` (the network's coordinators, or a callable that returns them) gets a notification pointing
    to the queue.

    On PostgreSQL, text that is fine and carries no contact details (nearly every message) is written in the
    same write to the database as the BEGIN and the lock, before the rules are read: a refusal rolls it back,
    and the transaction is durable, so nothing of it is ever seen. Then the COMMIT: two round trips a message
    where there were seven (bench/messaging.py).
    """
    locking = (lock or _conversation_lock_on)(conversation_id=conversation_id, member_id=sender.pk)
    try:
        text = message_clean(body)
    except ValidationError:
        text = None  # refused below, after a read-only conversation is (as always: that is the answer first)
    reasons = find_contact_details(text) if text is not None and hold_contact_details is not False else []
    now = timezone.now()
    together = connection.vendor == "postgresql" and text is not None and not reasons
    if together and type(conversation_id) is int:
        url = reverse("conversation_detail", args=[conversation_id])
        insert = _message_insert_sql(conversation_id=conversation_id, sender_id=sender.pk, text=text, now=now, url=url)
        locked, inserted = statements.run_together((locking.sql, locking.params), insert)
    else:
        together = False
        (locked,) = statements.run_together((locking.sql, locking.params))
    conversation = locking.read(locked)
    if conversation.read_only:
        raise ValidationError(READ_ONLY_MESSAGE)
    if text is None:
        message_clean(body)  # raises the text's own error
    if check is not None:
        check(conversation)
    if not together:
        url = reverse("conversation_detail", args=[conversation.pk])
    partner_id = (
        conversation.second_member_id if sender.pk == conversation.first_member_id else conversation.first_member_id
    )
    if reasons and (hold_contact_details() if callable(hold_contact_details) else hold_contact_details):
        _, oldest_counted, _ = _message_facts(conversation_id=conversation.pk, sender_id=sender.pk, url=url, now=now)
        _rate_refuse(oldest_counted, now=now)
        return _message_hold(
            conversation=conversation, sender=sender, text=text, reasons=reasons, reviewers=reviewers, now=now
        )
    if not together:
        inserted = _message_insert(conversation_id=conversation.pk, sender_id=sender.pk, text=text, now=now, url=url)
    pk, *facts, marked = inserted
    previous, oldest_counted, partner_told = _facts_read(*facts)
    # The facts are those from before this message. A flood is refused here: raising rolls the insert back.
    _rate_refuse(oldest_counted, now=now)
    status = Message.Status.DELIVERED
    message = Message(pk=pk, conversation=conversation, sender=sender, body=text, created_at=now, status=status)
    message._state.adding = False
    message._state.db = connection.alias
    _message_stored(
        conversation,
        message,
        previous=previous,
        partner_id=partner_id,
        partner_told=partner_told,
        url=url,
        marked=bool(marked),
    )
    return message


def _message_insert_sql(*, conversation_id: int, sender_id: int, text: str, now, url: str) -> tuple[str, list]:
    """PostgreSQL's one statement that stores a delivered message, moves the sender's read mark to it and reads
    the facts of _message_facts as they were before it (the parts of a statement share one snapshot: the facts
    do not see the new row). Its row: the new id, the three facts, and whether the read mark moved (False: the
    member has none yet, see _message_stored)."""
    facts_sql, facts_params = _message_facts_sql(conversation_id=conversation_id, sender_id=sender_id, url=url, now=now)
    insert_sql, insert_params = _message_row_sql(
        conversation_id=conversation_id, sender_id=sender_id, text=text, now=now
    )
    sql = (
        f"WITH facts AS ({facts_sql}), new AS ({insert_sql}),"  # noqa: S608
        f" mark AS (UPDATE {ConversationRead._meta.db_table} SET last_read_id = new.id FROM new"
        " WHERE conversation_id = %s AND user_id = %s AND last_read_id < new.id RETURNING 1)"
        " SELECT new.id, facts.*, EXISTS (SELECT 1 FROM mark) FROM new, facts"
    )
    return sql, [*facts_params, *insert_params, conversation_id, sender_id]


def _message_row_sql(*, conversation_id: int, sender_id: int, text: str, now) -> tuple[str, list]:
    """The INSERT of a delivered message, returning its id."""
    sql = (
        f"INSERT INTO {Message._meta.db_table} (conversation_id, sender_id, body, created_at, status)"  # noqa: S608
        " VALUES (%s, %s, %s, %s, %s) RETURNING id"
    )
    now = connection.ops.adapt_datetimefield_value(now)
    return sql, [conversation_id, sender_id, text, now, Message.Status.DELIVERED]


def _message_insert(*, conversation_id: int, sender_id: int, text: str, now, url: str) -> tuple:
    """As _message_insert_sql's statement, its row, once the conversation is locked: on PostgreSQL that
    statement; elsewhere (SQLite, which has no INSERT in a WITH) three statements in turn. Plain SQL, as the
    other statements of message_post (building the ORM's INSERT cost more than running it, bench/messaging.py).
    Message has no signals to skip."""
    if connection.vendor == "postgresql":
        (row,) = statements.run_together(
            _message_insert_sql(conversation_id=conversation_id, sender_id=sender_id, text=text, now=now, url=url)
        )
        return row
    facts = _message_facts(conversation_id=conversation_id, sender_id=sender_id, url=url, now=now)
    ((pk,),) = statements.run_together(
        _message_row_sql(conversation_id=conversation_id, sender_id=sender_id, text=text, now=now)
    )
    return pk, *facts, _read_mark_move(conversation_id=conversation_id, user_id=sender_id, up_to_id=pk)


def _message_stored(
    conversation: Conversation,
    message: Message,
    *,
    previous,
    partner_id: int,
    partner_told: bool,
    extra=None,
    url: str | None = None,
    marked: bool = False,
) -> None:
    """Inside the writing transaction: the sender has read it (`marked`: their read mark was moved to it
    already), the partner is told (once while earlier ones are unread), and after commit the pages and badges
    get it."""
    # The sender has read what they wrote: it never counts as unread for them.
    if not marked:
        _read_mark(conversation=conversation, user=message.sender, up_to_id=message.pk)
    url = url or reverse("conversation_detail", args=[conversation.pk])
    if not partner_told:
        notify(conversation.partner_of(message.sender), "message_received", message, url=url)
    payload = {**message_payload(message, previous=previous), **(extra or {})}
    message.live_payload = payload  # what the pages get: the sender's socket hands it over with its answer
    sender_id = message.sender_id
    transaction.on_commit(
        lambda: _message_deliver(conversation.pk, payload, sender_id=sender_id, partner_id=partner_id), robust=True
    )


def _message_hold(*, conversation: Conversation, sender, text: str, reasons: list[str], reviewers, now) -> Message:
    message = Message.objects.create(
        conversation=conversation, sender=sender, body=text, status=Message.Status.HELD, created_at=now
    )
    held = HeldMessage.objects.create(message=message, reasons=",".join(reasons))
    # The sender's read mark stays where it is: it is shown to the partner (read receipts), who must not learn
    # of a held message, and the sender's own held message never counts as unread for them anyway.
    # The coordinators' notification names no one and quotes nothing; the queue shows the text.
    if callable(reviewers):
        reviewers = reviewers()
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
        sender = original.sender
        # Under the conversation's lock, as a new message would be (message_post).
        _conversation_lock(conversation_id=conversation.pk, member_id=sender.pk)
        partner_id = (
            conversation.second_member_id if sender.pk == conversation.first_member_id else conversation.first_member_id
        )
        previous, _, partner_told = _message_facts(
            conversation_id=conversation.pk,
            sender_id=sender.pk,
            url=reverse("conversation_detail", args=[conversation.pk]),
            now=held.decided_at,
        )
        delivered = Message.objects.create(conversation=conversation, sender=sender, body=original.body)
        original.status = Message.Status.RELEASED
        held.decision = HeldMessage.Decision.RELEASED
        held.delivered_as = delivered
        # The sender's open pages swap their held copy for the delivered one.
        _message_stored(
            conversation,
            delivered,
            previous=previous,
            partner_id=partner_id,
            partner_told=partner_told,
            extra={"released_from": original.pk},
        )
        notify(sender, "message_released", held, url=conversation.get_absolute_url())
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


# The per-message path reads and writes in plain SQL that SQLite and PostgreSQL both run: measured with
# bench/messaging.py, building the ORM's SQL for these statements was most of a message's CPU, far more
# than running them. Each is one short statement on messaging's own tables.


def _conversation_lock_on(*, conversation_id: int, member_id: int) -> ConversationLock:
    """message_post's default lock: the conversation's row, when `member_id` is one of its two members."""
    table = Conversation._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite locks the database
    sql = (
        f"SELECT {', '.join(CONVERSATION_COLUMNS)} FROM {table}"  # noqa: S608
        f" WHERE id = %s AND (first_member_id = %s OR second_member_id = %s){lock}"
    )
    return ConversationLock(sql, [conversation_id, member_id, member_id], conversation_read)


# The columns conversation_read reads, in its order.
CONVERSATION_COLUMNS = ("id", "pairing_id", "first_member_id", "second_member_id", "read_only", "created_at")


def conversation_read(row: tuple | None) -> Conversation:
    """The conversation of a row of CONVERSATION_COLUMNS; None raises Conversation.DoesNotExist (no conversation
    of the member's has that id)."""
    if row is None:
        raise Conversation.DoesNotExist("No conversation of this member has that id.")
    pk, pairing_id, first_member_id, second_member_id, read_only, created_at = row
    return Conversation(
        pk=pk,
        pairing_id=pairing_id,
        first_member_id=first_member_id,
        second_member_id=second_member_id,
        read_only=bool(read_only),
        created_at=created_at,
    )


def _conversation_lock(*, conversation_id: int, member_id: int) -> Conversation:
    """The conversation, locked for this transaction, when `member_id` is one of its two members."""
    locking = _conversation_lock_on(conversation_id=conversation_id, member_id=member_id)
    (row,) = statements.run_together((locking.sql, locking.params))
    return locking.read(row)


def _message_facts_sql(*, conversation_id: int, sender_id: int, url: str, now) -> tuple[str, list]:
    """The statement of _message_facts and its parameters: a single row of three columns."""
    message, notification = Message._meta.db_table, Notification._meta.db_table
    conversation = Conversation._meta.db_table
    sql = (
        # The newest message both members see: a held one is only its sender's (R-MSG-7). Written so that one
        # plan only is cheap, reading one entry of the partial index made for it (message_delivered_idx): the
        # status is written in, not a parameter, so a prepared statement's plan may use that index; and the
        # conversation is a range of one, not an equality, so the order is (conversation, id), which only that
        # index gives. With `conversation_id = %s ORDER BY id DESC`, PostgreSQL may walk the primary key
        # backwards from the newest message of all, filtering, through every newer message of other pairs.
        f"SELECT (SELECT id FROM {message} WHERE conversation_id BETWEEN %s AND %s"  # noqa: S608
        f" AND status = '{Message.Status.DELIVERED}' ORDER BY conversation_id DESC, id DESC LIMIT 1),"
        # Only the window's messages: at most MESSAGE_RATE_LIMIT index entries, however many the member sent.
        f" (SELECT created_at FROM {message} WHERE sender_id = %s AND created_at > %s"
        " ORDER BY sender_id DESC, created_at DESC LIMIT 1 OFFSET %s),"
        # The partner: the conversation's other member.
        f" EXISTS (SELECT 1 FROM {notification} WHERE user_id = (SELECT CASE WHEN first_member_id = %s"
        f" THEN second_member_id ELSE first_member_id END FROM {conversation} WHERE id = %s)"
        " AND read_at IS NULL AND kind = %s AND url = %s)"
    )
    params = [
        conversation_id,
        conversation_id,
        sender_id,
        connection.ops.adapt_datetimefield_value(now - datetime.timedelta(seconds=settings.MESSAGE_RATE_WINDOW)),
        settings.MESSAGE_RATE_LIMIT - 1,
        sender_id,
        conversation_id,
        "message_received",
        url,
    ]
    return sql, params


def _message_facts(*, conversation_id: int, sender_id: int, url: str, now) -> tuple:
    """In one round trip, once message_post holds the conversation's lock (so no message can come between):
    the id of the conversation's newest message (the new one's `previous`), when the sender sent the
    MESSAGE_RATE_LIMIT-th newest of their messages if that was within MESSAGE_RATE_WINDOW before `now` (the
    flood limit; None otherwise), and whether the partner already has an unread "new message" notification
    for this conversation. Plain SQL that SQLite and PostgreSQL both run (see above)."""
    (row,) = statements.run_together(
        _message_facts_sql(conversation_id=conversation_id, sender_id=sender_id, url=url, now=now)
    )
    return _facts_read(*row)


def _facts_read(previous, oldest_counted, partner_told) -> tuple:
    # SQLite hands a computed column back as text or a naive datetime, in UTC.
    if isinstance(oldest_counted, str):
        oldest_counted = datetime.datetime.fromisoformat(oldest_counted)
    if oldest_counted is not None and timezone.is_naive(oldest_counted):
        oldest_counted = oldest_counted.replace(tzinfo=datetime.UTC)
    return previous, oldest_counted, bool(partner_told)


def message_payload(message: Message, *, previous: int | None = None) -> dict:
    """What a socket receives for one message (the sender's first name only). `previous` is the id of the
    message before it in the conversation, when known (live messages carry it; catch-up ones need not).
    A held or rejected message (only ever sent to its sender) carries its status and a notice that says why."""
    payload = {
        "id": message.pk,
        "previous": previous,
        "sender": message.sender.first_name,
        "sender_id": message.sender_id,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }
    if message.status != Message.Status.DELIVERED:
        payload.update(status=message.status, notice=message.status_notice)
    return payload


def _summary(payload: dict) -> dict:
    body = payload["body"]
    if len(body) > SUMMARY_LENGTH:
        body = body[: SUMMARY_LENGTH - 1] + "…"
    return {"id": payload["id"], "sender": payload["sender"], "sender_id": payload["sender_id"], "body": body}


def _inbox_event(conversation_id: int, *, user_id: int, last: dict | None, counted: bool) -> tuple[str, dict]:
    """The event that updates one member's badges (R-MSG-3): with `counted`, the member's sockets read the
    conversation's unread count and their total themselves (only open pages pay for the query); without,
    the conversation is read to its end (the sender's own message). With `last`, its last message."""
    event = {"type": "inbox.changed", "conversation": conversation_id, "last": last, "counted": counted}
    return user_group(user_id), event


def _message_deliver(conversation_id: int, payload: dict, *, sender_id: int, partner_id: int) -> None:
    """After commit: the message to the conversation's open pages first (the partner's latency), then both
    members' badges. Best effort: a page that misses it catches up (see consumers)."""
    summary = _summary(payload)
    delivery.layer_send(
        [
            (conversation_group(conversation_id), {"type": "message.new", "message": payload}),
            _inbox_event(conversation_id, user_id=partner_id, last=summary, counted=True),
            _inbox_event(conversation_id, user_id=sender_id, last=summary, counted=False),
        ],
        what=f"message {payload['id']}",
    )


def messages_after(*, conversation: Conversation, after_id: int, limit: int = 200, viewer=None) -> list[Message]:
    """Messages a reconnecting page of `viewer` missed, oldest first: never a held message of the partner's."""
    messages = conversation.messages.seen_by(viewer).filter(pk__gt=after_id)
    return list(messages.select_related("sender", "hold").order_by("pk")[:limit])


def _read_mark(*, conversation: Conversation, user, up_to_id: int) -> bool:
    """Move the member's read mark forward to `up_to_id`; True when it moved."""
    if _read_mark_move(conversation_id=conversation.pk, user_id=user.pk, up_to_id=up_to_id):
        return True
    _, created = ConversationRead.objects.get_or_create(
        conversation=conversation, user=user, defaults={"last_read_id": up_to_id}
    )
    return created


def _read_mark_move(*, conversation_id: int, user_id: int, up_to_id: int) -> bool:
    """Move an existing read mark forward to `up_to_id`; True when it moved."""
    # Conditional, so two tabs marking at once never move the mark back. Plain SQL: it runs for every
    # message (see _conversation_lock).
    sql = (
        f"UPDATE {ConversationRead._meta.db_table} SET last_read_id = %s"  # noqa: S608
        " WHERE conversation_id = %s AND user_id = %s AND last_read_id < %s"
    )
    with statements.cursor() as cursor:
        cursor.execute(sql, [up_to_id, conversation_id, user_id, up_to_id])
        return bool(cursor.rowcount)


@transaction.atomic
def conversation_mark_read(*, conversation_id: int, user, up_to_id: int | None = None) -> bool:
    """The member has read up to `up_to_id` (with none: everything). Never moves back; an id past the
    conversation's newest message is cut to it. Another member's conversation raises DoesNotExist.

    When the mark moves: the conversation's "new message" notifications are marked read, and after
    commit the partner's pages show the read receipt and the member's badges update (R-MSG-3).
    Returns whether the mark moved."""
    conversation = Conversation.objects.for_participant(user).get(pk=conversation_id)
    newest = conversation.messages.seen_by(user).order_by("-pk").values_list("pk", flat=True).first() or 0
    up_to = newest if up_to_id is None else min(int(up_to_id), newest)
    if up_to <= 0 or not _read_mark(conversation=conversation, user=user, up_to_id=up_to):
        return False
    seen = (
        Notification.objects.for_user(user)
        .unread()
        .filter(kind="message_received", url=conversation.get_absolute_url())
        .update(read_at=timezone.now())
    )
    reader_id = user.pk
    transaction.on_commit(
        lambda: _read_deliver(conversation.pk, reader_id=reader_id, up_to=up_to, bell=bool(seen)), robust=True
    )
    return True


def _read_deliver(conversation_id: int, *, reader_id: int, up_to: int, bell: bool) -> None:
    events = [
        (conversation_group(conversation_id), {"type": "message.read", "reader_id": reader_id, "up_to": up_to}),
        _inbox_event(conversation_id, user_id=reader_id, last=None, counted=True),
    ]
    if bell:
        unread = Notification.objects.filter(user_id=reader_id, read_at__isnull=True).count()
        events.append((user_group(reader_id), {"type": "notification.count", "unread": unread}))
    delivery.layer_send(events, what=f"the read mark of conversation {conversation_id}")
