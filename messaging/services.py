"""Notifications: stored first, then delivered (websocket, and email for important kinds) after commit."""

from __future__ import annotations

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from messaging.kinds import KINDS
from messaging.models import Notification


def user_group(user_id: int) -> str:
    """The channel-layer group every socket of one user joins."""
    return f"user.{user_id}"


def notify(user, kind: str, obj=None, *, body: str = "", url: str = "") -> Notification:
    """Store a notification for `user`; after commit, push the new unread count and email it if important."""
    return notify_many([user], kind, obj, body=body, url=url)[0]


def notify_many(users: Iterable, kind: str, obj=None, *, body: str = "", url: str = "") -> list[Notification]:
    """One notification each, in one INSERT; deliveries queued after commit."""
    spec = KINDS[kind]
    title = spec.title.format(obj=obj)[:200]
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
    transaction.on_commit(lambda: _deliver(user_ids, kind, spec.important))
    return rows


# Above this many recipients the live counts are pushed by a worker, not in the request.
PUSH_INLINE_LIMIT = 50


def _deliver(user_ids: list[int], kind: str, important: bool) -> None:
    from messaging import tasks

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
    for uid, count in counts.items():
        send(user_group(uid), {"type": "notification.count", "unread": count})


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, all) of the user's notifications read. Returns how many changed."""
    qs = Notification.objects.for_user(user).unread()
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    changed = qs.update(read_at=timezone.now())
    if changed:
        uid = user.pk
        transaction.on_commit(lambda: push_unread_counts([uid]))
    return changed


def emails_send_pending(*, user_ids: list[int] | None = None, limit: int = 500) -> int:
    """Email important notifications not yet emailed. Safe to run twice: each row is claimed before sending."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    qs = Notification.objects.filter(email_wanted=True, emailed_at__isnull=True).select_related("user")
    if user_ids is not None:
        qs = qs.filter(user_id__in=user_ids)
    sent = 0
    for pk in list(qs.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            # Claim the row: a second worker running at once finds it taken.
            claimed = Notification.objects.filter(pk=pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
            if not claimed:
                continue
            n = Notification.objects.select_related("user").get(pk=pk)
            context = {"notification": n, "user": n.user, "site_url": settings.SITE_URL}
            send_mail(
                subject=n.title,
                message=render_to_string("messaging/notification_email.txt", context),
                from_email=None,
                recipient_list=[n.user.email],
            )
            sent += 1
    return sent


def sockets_close_for(user_id: int) -> None:
    """Close every open socket of a member who signed out (DESIGN: a logout closes that user's sockets)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "session.logout"})
