"""The laptop's scheduler: runs the beat schedule's jobs in this process, without Redis or Celery workers.

Production runs `celery -A mentoring beat` and workers on REDIS_URL instead (deploy/Procfile).
Each job runs once when the scheduler starts (a laptop is often off when a daily job is due,
and every job is safe to run twice), then whenever its schedule says it is due. A failing job
is logged and the others go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from celery.schedules import maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from mentoring.management.commands.run_job import job_run

logger = logging.getLogger("mentoring.scheduler")

# The longest the loop sleeps, so a crontab entry is never run much later than its minute.
LONGEST_SLEEP = 30.0


@dataclass
class Job:
    name: str
    schedule: object  # a celery schedule (numeric seconds become `celery.schedules.schedule`)
    last_run_at: datetime | None = None


@dataclass
class Scheduler:
    """The beat schedule's jobs, run when due by `tick()`. `clock` returns an aware datetime (a test fakes it)."""

    beat_schedule: dict
    clock: Callable[[], datetime] = timezone.now
    run: Callable[[str], object] = job_run
    run_at_start: bool = True
    jobs: list[Job] = field(init=False)

    def __post_init__(self):
        self.jobs = []
        for name, entry in self.beat_schedule.items():
            schedule = maybe_schedule(entry["schedule"])
            schedule.nowfun = self.clock  # is_due asks the schedule's own clock
            started = None if self.run_at_start else self.clock()
            self.jobs.append(Job(name, schedule, started))

    def tick(self) -> float:
        """Run every due job once; return how many seconds until the next one is due."""
        wait = LONGEST_SLEEP
        for job in self.jobs:
            if job.last_run_at is None:
                due, next_in = True, 0.0
            else:
                due, next_in = job.schedule.is_due(job.last_run_at)
            if due:
                job.last_run_at = self.clock()
                self._run(job.name)
                next_in = job.schedule.is_due(job.last_run_at)[1]
            wait = min(wait, next_in)
        return max(wait, 1.0)

    def _run(self, name: str) -> None:
        started = time.monotonic()
        try:
            result = self.run(name)
        except Exception:
            logger.exception("Job %s failed", name)
        else:
            logger.info("Job %s done in %.1fs: %r", name, time.monotonic() - started, result)


class Command(BaseCommand):
    help = "Run the scheduled jobs in this process (the laptop's stand-in for celery beat and workers)."

    def handle(self, *args, **options):
        logger.setLevel(logging.INFO)  # each run is logged, whatever LOG_LEVEL the rest uses
        if settings.REDIS_URL:
            logger.warning("REDIS_URL is set: production runs `celery -A mentoring beat` and workers instead.")
        scheduler = Scheduler(settings.CELERY_BEAT_SCHEDULE)
        self.stdout.write(f"Scheduler running {len(scheduler.jobs)} job(s); Ctrl-C stops it.")
        try:
            while True:
                time.sleep(scheduler.tick())
        except KeyboardInterrupt:
            self.stdout.write("Scheduler stopped.")
