from celery import shared_task

from matching import services


@shared_task(acks_late=True)
def expire_requests() -> int:
    return services.requests_expire()


@shared_task(acks_late=True)
def expire_proposals() -> int:
    return services.proposals_expire()


@shared_task(acks_late=True)
def refresh_listings() -> int:
    """Bring every scheme's listing in line with the engine as dates pass (matching/listing.py), and forget
    removals the processes' copies have long read."""
    from matching import listing  # noqa: PLC0415

    written = listing.refresh_all()
    listing.forget_removals()
    return written
