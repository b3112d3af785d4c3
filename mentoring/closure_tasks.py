"""Scheme closure's daily jobs, found by app.autodiscover_tasks(related_name="closure_tasks") in mentoring/celery.py."""

from celery import shared_task

from mentoring import closure


@shared_task(acks_late=True)
def send_scheme_closure_notices() -> int:
    return closure.scheme_closure_notices_send()


@shared_task(acks_late=True)
def close_schemes() -> int:
    return closure.schemes_close()
