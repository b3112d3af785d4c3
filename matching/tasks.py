from celery import shared_task

from matching import services


@shared_task(acks_late=True)
def expire_requests() -> int:
    return services.requests_expire()
