"""The feedback job (R-PAIR-4). Registered by mentoring/celery.py's autodiscover_tasks(related_name="ending_tasks")."""

from celery import shared_task

from mentoring import ending


@shared_task(acks_late=True)
def send_feedback_requests() -> int:
    return ending.feedback_requests_send()
