"""Celery app. Without REDIS_URL tasks run inline (CELERY_TASK_ALWAYS_EAGER).

Every task is a TransactionAwareTask: it is queued only once the transaction
that asked for it has committed, and a broker that is down never fails the
request that queued it. Nothing is lost: the beat jobs (CELERY_BEAT_SCHEDULE)
sweep for the emails and expiries a lost task would have done, and a live
unread count missed is shown on the member's next page.
"""

import logging
import os

from celery import Celery, Task
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings")

logger = logging.getLogger(__name__)


class TransactionAwareTask(Task):
    """A task sent after commit, whose sending never raises a broker error into the caller.

    Inside an atomic block `apply_async` (and so `delay`) returns None and sends on
    commit: a worker must see the rows the task is about, and a rolled-back
    transaction must not leave a task behind. Outside one it sends at once.
    """

    def apply_async(self, args=None, kwargs=None, **options):
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(lambda: self._send(args, kwargs, options), robust=True)
            return None
        return self._send(args, kwargs, options)

    def _send(self, args, kwargs, options):
        try:
            return super().apply_async(args, kwargs, **options)
        except OperationalError:
            # The broker is down. What was asked for is already in the database,
            # where a scheduled job finds it.
            logger.exception("Could not queue %s: the broker did not answer", self.name)
            return None


app = Celery("mentoring", task_cls=TransactionAwareTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Issue 7 (ending): autodiscovery imports only `tasks` modules; the feedback job lives in mentoring.ending_tasks.
app.autodiscover_tasks(related_name="ending_tasks")
app.autodiscover_tasks(related_name="agreement_tasks")  # issue 7: mentoring/agreement_tasks.py
app.autodiscover_tasks(related_name="closure_tasks")  # scheme closure (issue 7): mentoring/closure_tasks.py
