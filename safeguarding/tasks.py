"""The safeguarding part's daily jobs (issue 9). Each is a thin wrapper around a service that is safe to run twice."""

from celery import shared_task

from safeguarding import dbs, eligible_table, sweep, training


@shared_task(acks_late=True)
def send_dbs_reminders() -> int:
    return dbs.dbs_reminders_send()


@shared_task(acks_late=True)
def send_training_expiry_reminders() -> int:
    return training.training_expiry_reminders_send()


@shared_task(acks_late=True)
def sweep_eligibility() -> int:
    return sweep.eligibility_sweep()


@shared_task(acks_late=True)
def refresh_eligible_memberships() -> int:
    """The table of eligible memberships as dates pass (saves refresh it at once)."""
    return eligible_table.refresh_all()
