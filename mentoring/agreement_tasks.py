"""The agreement part's daily job (issue 7). Its own module so it does not clash with mentoring/tasks.py;
mentoring/celery.py autodiscovers modules of this name."""

from celery import shared_task

from mentoring import agreement


@shared_task(acks_late=True)
def remind_unagreed_agreements() -> int:
    return agreement.agreement_reminders_send()
