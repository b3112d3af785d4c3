from celery import shared_task

from messaging import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_notification_emails(user_ids: list[int] | None = None) -> int:
    """Queued after a notification is stored; with no ids it is the beat job (every 5 minutes)
    that sends whatever was missed: a task the broker refused, a worker that died mid-run."""
    return services.emails_send_pending(user_ids=user_ids)


@shared_task(acks_late=True)
def push_unread_counts(user_ids: list[int]) -> None:
    services.push_unread_counts(user_ids)
