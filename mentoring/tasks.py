"""Scheduled jobs of the pairing's life. Each is a thin wrapper around a service that is safe to run twice."""

from celery import shared_task

from mentoring import meetings


@shared_task(acks_late=True)
def send_meeting_reminders() -> int:
    return meetings.meeting_reminders_send()


@shared_task(acks_late=True)
def send_inactivity_nudges() -> int:
    return meetings.inactivity_nudges_send()
