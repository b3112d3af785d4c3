"""Run one scheduled job now, inline: `manage.py run_job NAME` (NAME is a key of CELERY_BEAT_SCHEDULE)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mentoring.celery import app


def known_jobs() -> str:
    return ", ".join(sorted(settings.CELERY_BEAT_SCHEDULE)) or "(none)"


def job_run(name: str):
    """Run the beat entry `name` in this process and return its result; a failing job raises."""
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    # Celery finds the apps' task modules only when asked to, as a worker does at start.
    app.loader.import_default_modules()
    task = app.tasks[entry["task"]]
    return task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {})).get()


class Command(BaseCommand):
    help = "Run one job of the beat schedule now, in this process. --list shows the jobs."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="The job's name in the beat schedule.")
        parser.add_argument("--list", action="store_true", help="List the jobs and when they run.")

    def handle(self, *args, name=None, list=False, **options):
        if list or not name:
            for job, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
                self.stdout.write(f"{job}: {entry['task']} (every {describe(entry['schedule'])})")
            if not list:
                raise CommandError("Name the job to run.")
            return
        if name not in settings.CELERY_BEAT_SCHEDULE:
            raise CommandError(f'No job called "{name}". The jobs are: {known_jobs()}.')
        result = job_run(name)
        self.stdout.write(self.style.SUCCESS(f"{name} finished: {result!r}"))


def describe(schedule) -> str:
    if isinstance(schedule, int | float):
        return f"{schedule:g} seconds"
    return str(schedule)
