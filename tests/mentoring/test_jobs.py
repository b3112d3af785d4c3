"""The jobs: `run_job NAME` runs one beat entry inline; the laptop scheduler runs the schedule without Redis."""

import datetime

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from matching.models import MentorshipRequest
from mentoring.celery import app
from mentoring.management.commands.run_scheduler import Scheduler
from tests import factories


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"


def test_run_job_runs_the_job_in_this_process(db, scheme, network, capsys):
    mentee, mentor = factories.UserFactory(), factories.UserFactory()
    request = factories.MentorshipRequestFactory(
        scheme=scheme, mentee=mentee, mentor=mentor, expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("run_job", "expire-mentorship-requests")
    request.refresh_from_db()
    assert request.status == MentorshipRequest.Status.EXPIRED
    assert "expire-mentorship-requests finished" in capsys.readouterr().out


def test_run_job_with_an_unknown_name_lists_the_jobs_and_fails_cleanly():
    with pytest.raises(CommandError) as refused:
        call_command("run_job", "no-such-job")
    assert 'No job called "no-such-job"' in str(refused.value)
    assert "expire-mentorship-requests" in str(refused.value)


def test_run_job_list_names_every_job(capsys):
    call_command("run_job", "--list")
    out = capsys.readouterr().out
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert name in out


class FakeClock:
    def __init__(self):
        self.now = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


def scheduler_with(schedule: dict, clock, *, run_at_start=False, fail=()):
    runs = []

    def run(name):
        runs.append(name)
        if name in fail:
            raise RuntimeError("the job broke")

    return Scheduler(schedule, clock=clock, run=run, run_at_start=run_at_start), runs


SCHEDULE = {
    "every-five-minutes": {"task": "t.five", "schedule": 300.0},
    "hourly": {"task": "t.hourly", "schedule": 3600.0},
}


def test_the_scheduler_runs_a_due_job_once_and_a_job_not_yet_due_not_at_all():
    clock = FakeClock()
    scheduler, runs = scheduler_with(SCHEDULE, clock)
    scheduler.tick()
    assert runs == []
    clock.advance(301)
    scheduler.tick()
    scheduler.tick()  # at the same moment again: already run
    assert runs == ["every-five-minutes"]


def test_the_scheduler_runs_every_job_once_when_it_starts():
    clock = FakeClock()
    scheduler, runs = scheduler_with(SCHEDULE, clock, run_at_start=True)
    scheduler.tick()
    scheduler.tick()
    assert sorted(runs) == ["every-five-minutes", "hourly"]


def test_the_scheduler_reports_how_long_to_sleep_until_the_next_job():
    clock = FakeClock()
    scheduler, _ = scheduler_with({"every-ten-seconds": {"task": "t", "schedule": 10.0}}, clock)
    clock.advance(4)
    assert scheduler.tick() == pytest.approx(6)


def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    clock = FakeClock()
    scheduler, runs = scheduler_with(SCHEDULE, clock, run_at_start=True, fail={"every-five-minutes"})
    scheduler.tick()
    assert sorted(runs) == ["every-five-minutes", "hourly"]
    assert "Job every-five-minutes failed" in caplog.text
    clock.advance(301)
    scheduler.tick()
    assert runs.count("every-five-minutes") == 2  # tried again at its next time, not stuck


def test_the_scheduler_runs_crontab_jobs_when_their_time_comes():
    clock = FakeClock()  # 09:00 UTC
    schedule = {"daily-at-ten": {"task": "t", "schedule": crontab(hour=10, minute=0)}}
    scheduler, runs = scheduler_with(schedule, clock)
    clock.advance(30 * 60)
    scheduler.tick()
    assert runs == []
    clock.advance(31 * 60)
    scheduler.tick()
    assert runs == ["daily-at-ten"]
