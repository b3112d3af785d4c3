"""Reads of the pair's conversation that views and the consumer share."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from messaging import statements
from messaging.models import Conversation, ConversationAccessLog, ConversationRead, Message, Notification

HISTORY_PAGE = 50


def access_conversation(user, pk: int) -> Conversation:
    """One of the user's own conversations, or 404 (another person's id is not found, R-MSG-1)."""
    return get_object_or_404(
        Conversation.objects.for_participant(user).select_related("first_member", "second_member"), pk=pk
    )


def unread_messages(user):
    """A subquery: how many messages in the outer conversation arrived after the user's read mark (a held
    message has not arrived: it counts once released, as a new message). `user` may be a user or a user id."""
    last_read = ConversationRead.objects.filter(conversation=OuterRef("conversation_id"), user=user).values(
        "last_read_id"
    )[:1]
    unread = (
        Message.objects.delivered()
        .filter(conversation=OuterRef("pk"))
        .exclude(sender=user)
        .filter(pk__gt=Coalesce(Subquery(last_read), Value(0)))
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def inbox_for(user) -> list[Conversation]:
    """The user's conversations, newest activity first, each with `unread` and `last_message` (three queries)."""
    newest = Message.objects.seen_by(user).filter(conversation=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    conversations = list(
        Conversation.objects.for_participant(user)
        .select_related("first_member", "second_member")
        .annotate(unread=unread_messages(user), last_message_id=Subquery(newest))
    )
    last = Message.objects.select_related("sender", "hold").in_bulk(
        [c.last_message_id for c in conversations if c.last_message_id]
    )
    for conversation in conversations:
        conversation.last_message = last.get(conversation.last_message_id)
        conversation.partner = conversation.partner_of(user)
    conversations.sort(key=lambda c: (c.last_message_id or 0, c.created_at.timestamp()), reverse=True)
    return conversations


def unread_counts(user_id: int) -> dict[int, int]:
    """How many messages are unread in each of one member's conversations, in one query (live badges)."""
    return dict(
        Conversation.objects.filter(Q(first_member_id=user_id) | Q(second_member_id=user_id))
        .annotate(unread=unread_messages(user_id))
        .values_list("pk", "unread")
    )


def unread_total(user) -> int:
    """All the member's unread messages, for the "Messages" link in the navigation (one query)."""
    return sum(unread_counts(user.pk).values())


def _badges_sql() -> str:
    n, c, m, r = (model._meta.db_table for model in (Notification, Conversation, Message, ConversationRead))
    return f"""
        SELECT
          (SELECT COUNT(*) FROM {n} WHERE user_id = %(user)s AND read_at IS NULL),
          (SELECT COUNT(*) FROM {c} c JOIN {m} m ON m.conversation_id = c.id
            WHERE (c.first_member_id = %(user)s OR c.second_member_id = %(user)s)
              AND m.status = %(delivered)s AND m.sender_id <> %(user)s
              AND m.id > COALESCE(
                (SELECT last_read_id FROM {r} WHERE conversation_id = c.id AND user_id = %(user)s), 0))
    """  # noqa: S608 (table names from the models; every value is a parameter)


BADGES_SQL = _badges_sql()


def unread_badges(user_id: int) -> tuple[int, int]:
    """The navigation's two figures for every signed-in page, in one plain-SQL statement: unread notifications
    (`unread_count`) and unread messages (`unread_total`: delivered, from the partner, after the read mark).
    Through the ORM the two cost a sixth of the Find a mentor page's time to build. A test holds them equal."""
    with statements.cursor() as cursor:
        cursor.execute(BADGES_SQL, {"user": user_id, "delivered": Message.Status.DELIVERED.value})
        notifications, messages = cursor.fetchone()
    return notifications, messages


def read_up_to(conversation: Conversation, user_id: int) -> int:
    """The id of the last message `user_id` has read in the conversation (0 for none)."""
    return (
        ConversationRead.objects.filter(conversation=conversation, user_id=user_id)
        .values_list("last_read_id", flat=True)
        .first()
        or 0
    )


@dataclass
class HistoryPage:
    messages: list[Message]  # oldest first, so the newest is at the bottom
    older_than: int | None  # the id for the "older messages" link, when there are older ones


def history_page(
    conversation: Conversation, *, before_id: int | None = None, size: int = HISTORY_PAGE, viewer=None
) -> HistoryPage:
    """The `size` latest messages `viewer` may see (before `before_id` when paging back), oldest first.
    Without a viewer, delivered messages only (R-MSG-7: a held message is its sender's alone)."""
    messages = conversation.messages.seen_by(viewer).select_related("sender", "hold").order_by("-pk")
    if before_id is not None:
        messages = messages.filter(pk__lt=before_id)
    page = list(messages[: size + 1])
    older = len(page) > size
    page = page[:size][::-1]
    return HistoryPage(messages=page, older_than=page[0].pk if older and page else None)


def reportable_message(user, *, conversation_id: int, message_id: int) -> Message:
    """A message `user` may report (R-MSG-6): their partner's, in one of their own conversations; else 404."""
    conversation = access_conversation(user, conversation_id)
    return get_object_or_404(
        conversation.messages.exclude(sender=user).select_related("sender", "conversation__pairing"), pk=message_id
    )


# Confidential access (R-MSG-5).


def conversation_reads_for_member(user):
    """Every read of the member's conversations by staff or the Safeguarding Lead under a grant, newest first."""
    return ConversationAccessLog.objects.filter(
        conversation__in=Conversation.objects.for_participant(user)
    ).select_related("reader", "grant", "conversation__first_member", "conversation__second_member")


def conversation_was_read(conversation: Conversation) -> bool:
    """Whether anyone has read this conversation under a grant (the page then links to the member's log)."""
    return ConversationAccessLog.objects.filter(conversation=conversation).exists()


def confidential_reads_count(since=None) -> int:
    """How many reads of conversations under a grant there have been (since `since`): for staff dashboards."""
    reads = ConversationAccessLog.objects.all()
    if since is not None:
        reads = reads.filter(at__gte=since)
    return reads.count()
