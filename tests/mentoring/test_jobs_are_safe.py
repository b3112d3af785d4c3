"""Every scheduled job is safe (issue 9, item 7; DESIGN: every effect recorded once).

A busy world gives each job of CELERY_BEAT_SCHEDULE work to do. Run twice, a job's second run sends no
notice and no email. A worker that dies half-way (the job raises after part of its notices, and Celery
runs it again) leaves each recipient told exactly once: the notices are those of a clean run, none
missing, none twice. A job added to the schedule without work in the busy world fails here, so it
cannot slip past.
"""

from __future__ import annotations

import datetime
from collections import Counter
from contextlib import contextmanager

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import local_today
from matching.models import PairingProposal
from mentoring.management.commands.run_job import job_run
from mentoring.models import FeedbackRequest, Meeting, Pairing, Role
from messaging import services as messaging_services
from messaging.models import EMAIL_CLAIM_EXPIRES, Notification
from safeguarding.models import DBSCheck, TrainingKind, TrainingRecord
from tests import factories

# Jobs that tell nobody anything: they keep derived data in line, and have their own test below.
SILENT_JOBS = {"refresh-mentor-listings", "refresh-eligible-memberships"}
JOBS = sorted(set(settings.CELERY_BEAT_SCHEDULE) - SILENT_JOBS)
EMAIL_JOB = "send-pending-notification-emails"
DAY = datetime.timedelta(days=1)


def pairing(scheme, network, *, days_ago: int, mentor=None, mentee=None) -> Pairing:
    mentor = mentor or factories.listed_mentor(scheme, network, capacity=5)
    mentee = mentee or factories.eligible_mentee(scheme, network)
    return Pairing.objects.create(
        scheme=scheme,
        mentor=mentor,
        mentee=mentee,
        network=network,
        started_at=timezone.now() - days_ago * DAY,
    )


@pytest.fixture
def busy(documents, scheme, dbs_scheme, network, coordinator, scheme_staff):
    """Work for every job, at least two notices' worth each."""
    now = timezone.now()
    # expire-mentorship-requests: two requests past their date.
    mentor = factories.listed_mentor(scheme, network, capacity=5)
    for _ in range(2):
        factories.MentorshipRequestFactory(
            scheme=scheme, mentor=mentor, mentee=factories.eligible_mentee(scheme, network), expires_at=now - DAY
        )
    # Feedback (midpoint, 13 weeks in), the agreement reminder and inactivity nudges: two long-quiet pairings.
    quiet = [pairing(scheme, network, days_ago=91) for _ in range(2)]
    # Feedback at the end, and its reminder a week on.
    ended = pairing(scheme, network, days_ago=40)
    Pairing.objects.filter(pk=ended.pk).update(
        status=Pairing.Status.ENDED, ended_at=now - 2 * DAY, end_reason=Pairing.EndReason.GOALS_MET
    )
    asked = pairing(scheme, network, days_ago=200)
    for member in (asked.mentor, asked.mentee):
        FeedbackRequest.objects.create(pairing=asked, member=member, stage="midpoint", asked_at=now - 10 * DAY)
    # send-meeting-reminders: an agreed meeting in two hours.
    Meeting.objects.create(
        pairing=quiet[0],
        proposed_by=quiet[0].mentor,
        starts_at=now + datetime.timedelta(hours=2),
        duration_minutes=60,
        status=Meeting.Status.ACCEPTED,
        accepted_at=now - DAY,
    )
    # Scheme closure: one scheme closing in ten days; two closing today, each with a pairing and a request.
    closing = factories.SchemeFactory(name="Closing", slug="closing", closes_on=local_today("") + 10 * DAY)
    for _ in range(2):
        factories.MembershipFactory(scheme=closing, network=network, role=Role.MENTEE)
    for slug in ("closed-a", "closed-b"):
        closed = factories.SchemeFactory(name=slug, slug=slug, closes_on=local_today(""))
        pair = pairing(closed, network, days_ago=5)
        factories.MentorshipRequestFactory(
            scheme=closed, mentor=pair.mentor, mentee=factories.eligible_mentee(closed, network)
        )
    # sweep-eligibility: two mentors whose eLearning expired yesterday (told, with their coordinator).
    for _ in range(2):
        lapsed = factories.listed_mentor(scheme, network)
        yesterday = local_today(lapsed.time_zone) - DAY
        TrainingRecord.objects.filter(user=lapsed, kind=TrainingKind.SAFEGUARDING_ELEARNING).update(
            completed_on=yesterday - 400 * DAY, expires_on=yesterday
        )
    # send-dbs-reminders: two requests 21 days outstanding (the mentor and staff told).
    for _ in range(2):
        dbs_mentor = factories.listed_mentor(dbs_scheme, network)
        factories.DBSCheckFactory(
            user=dbs_mentor,
            status=DBSCheck.Status.REQUESTED,
            cleared_on=None,
            requested_on=local_today(dbs_mentor.time_zone) - 21 * DAY,
        )
    # send-training-expiry-reminders: two records expiring in ten days.
    for _ in range(2):
        member = factories.listed_mentor(scheme, network)
        TrainingRecord.objects.filter(user=member, kind=TrainingKind.MENTOR_TRAINING).update(
            expires_on=local_today(member.time_zone) + 10 * DAY
        )
    # expire-pairing-proposals (issue 11): two coordinator's proposals nobody confirmed in time.
    for _ in range(2):
        PairingProposal.objects.create(
            scheme=scheme,
            network=network,
            mentor=mentor,
            mentee=factories.eligible_mentee(scheme, network),
            origin=PairingProposal.Origin.MANUAL,
            proposed_by=coordinator,
            created_at=now - (scheme.request_expiry_days + 1) * DAY,
        )
    # send-pending-notification-emails: important notices not yet emailed.
    for user in (coordinator, scheme_staff, mentor):
        messaging_services.notify(user, "dbs_updated", body="waiting for its email")


def notices() -> Counter:
    """Every notice as who was told what, about what (not when)."""
    return Counter(
        Notification.objects.values_list("user_id", "kind", "content_type_id", "object_id", "url", "title", "body")
    )


def emails() -> Counter:
    return Counter((tuple(m.to), m.subject) for m in mail.outbox)


@pytest.mark.parametrize("name", JOBS)
def test_a_job_run_twice_sends_no_notice_twice(busy, name):
    # Issue 9, item 7: each scheduled job twice, no duplicate notice (nor email)
    before = notices()
    first = job_run(name)
    after_first, emails_first = notices(), emails()
    assert first, f"{name} found nothing to do: give it work in the busy world of this test"
    assert after_first != before or emails_first, f"{name} sent nothing"
    job_run(name)
    assert notices() == after_first, f"{name} sent notices again on its second run"
    assert emails() == emails_first, f"{name} sent email again on its second run"
    assert all(count == 1 for count in (notices() - before).values()), f"{name} told someone the same thing twice"


class WorkerDied(Exception):
    """What the test raises part-way through a job, as a worker killed mid-task would stop it."""


@contextmanager
def rolled_back():
    """Run a job and undo everything it wrote. Marked as the test case's own block, so that the jobs' durable
    transactions may run inside it as they run inside the test's (Django's TestCase does the same)."""
    block = transaction.atomic()
    block._from_testcase = True
    with block:
        yield
        transaction.set_rollback(True)


def dying_after(calls: int):
    """A Notification.objects.bulk_create that works `calls` times, then dies."""
    original = Notification.objects.bulk_create
    made = []

    def bulk_create(objs, *args, **kwargs):
        if len(made) >= calls:
            raise WorkerDied
        made.append(1)
        return original(objs, *args, **kwargs)

    return bulk_create


def counting_calls():
    original = Notification.objects.bulk_create
    calls = []

    def bulk_create(objs, *args, **kwargs):
        calls.append(len(objs))
        return original(objs, *args, **kwargs)

    return bulk_create, calls


@pytest.mark.parametrize("name", [job for job in JOBS if job != EMAIL_JOB])
def test_a_job_retried_after_its_worker_died_tells_each_recipient_once(busy, name, monkeypatch):
    # Issue 9, item 7: the task raises after part of its work, then is retried
    before = notices()
    with rolled_back():
        counter, calls = counting_calls()
        monkeypatch.setattr(Notification.objects, "bulk_create", counter)
        job_run(name)
        clean = notices() - before
        monkeypatch.undo()
    assert len(calls) >= 2, f"{name} sent {len(calls)} notice batch(es): give it more work in the busy world"
    assert notices() == before  # the clean run was undone
    monkeypatch.setattr(Notification.objects, "bulk_create", dying_after(len(calls) // 2))
    with pytest.raises(WorkerDied):
        job_run(name)
    partly = notices() - before
    assert partly != clean, f"{name} finished before it died"
    monkeypatch.undo()
    job_run(name)  # the retry
    assert notices() - before == clean, f"{name}: after the retry, not every recipient was told exactly once"
    assert all(count == 1 for count in (notices() - before).values())


def test_the_email_job_retried_after_its_worker_died_emails_each_recipient_once(busy, monkeypatch):
    # Issue 9, item 7: the mail server connection drops on the second email; the retry, once the dead
    # worker's claim has expired, sends the rest, and nobody gets an email twice.
    due = Notification.objects.email_due(now=timezone.now()).count()
    assert due >= 2
    original = messaging_services._email_send
    sent = []

    def flaky(notification, connection):
        if len(sent) == 1:
            raise ConnectionResetError("the worker's connection died")
        sent.append(notification.pk)
        return original(notification, connection)

    monkeypatch.setattr(messaging_services, "_email_send", flaky)
    with pytest.raises((OSError, Retry)):  # the task asks Celery to retry it later
        job_run(EMAIL_JOB)
    monkeypatch.undo()
    # The claim of the row being sent when the worker died runs out; then a retry may take it over.
    Notification.objects.filter(emailed_at__isnull=True, email_claimed_at__isnull=False).update(
        email_claimed_at=timezone.now() - EMAIL_CLAIM_EXPIRES - datetime.timedelta(seconds=1)
    )
    job_run(EMAIL_JOB)
    job_run(EMAIL_JOB)
    assert len(mail.outbox) == due
    assert all(count == 1 for count in emails().values()), "someone was emailed the same notice twice"
    assert not Notification.objects.email_due(now=timezone.now()).exists()


def test_the_listing_refresh_writes_what_dates_changed_once_and_tells_nobody(busy):
    # Issue 10: the two mentors whose eLearning lapsed by date (no save) leave the listing on the first run,
    # and the pairing ended by a bulk update frees its mentor's place
    before = notices()
    assert job_run("refresh-mentor-listings") == 3
    assert job_run("refresh-mentor-listings") == 0
    assert notices() == before and not emails()


def test_the_eligibility_refresh_writes_what_dates_changed_once_and_tells_nobody(busy):
    # Issue 11: the two mentors whose eLearning lapsed by date (no save) are no longer counted eligible after
    # the first run; the second has nothing to write
    before = notices()
    assert job_run("refresh-eligible-memberships") >= 2
    assert job_run("refresh-eligible-memberships") == 0
    assert notices() == before and not emails()
