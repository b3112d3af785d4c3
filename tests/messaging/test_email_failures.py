"""A notification that cannot be emailed is marked failed with its error and never blocks the others;
a row is emailed once, even when two runs sweep at once or a run dies mid-way (persist, then deliver)."""

import datetime
import threading
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections
from django.utils import timezone

from messaging import services
from messaging.models import EMAIL_CLAIM_EXPIRES, Notification
from messaging.services import MAX_EMAIL_ATTEMPTS, emails_send_pending
from messaging.tasks import send_notification_emails
from tests import factories


def important(user, title="Your DBS check was updated") -> Notification:
    return Notification.objects.create(user=user, kind="dbs_updated", title=title, email_wanted=True)


class MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_notification_that_cannot_be_emailed_is_marked_failed_and_the_next_is_sent(db):
    # An address stored before validation (an import) with a line break makes Django refuse the header.
    broken = important(factories.UserFactory(email="broken@example.org\nBcc: everyone@example.org"))
    fine = important(factories.UserFactory())
    assert emails_send_pending() == 1
    assert [m.to for m in mail.outbox] == [[fine.user.email]]
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.emailed_at is None and broken.email_failed_at is not None
    assert broken.email_error.startswith("BadHeaderError: Header values can't contain newlines")
    assert fine.emailed_at is not None and fine.email_failed_at is None
    # The queue is not stuck: the next run has nothing to do and raises nothing.
    assert emails_send_pending() == 0
    assert len(mail.outbox) == 1


def test_a_failure_of_one_message_is_not_raised_into_the_task(db, mentee):
    important(factories.UserFactory(email="broken@example.org\r\nX-Injected: yes"))
    important(mentee)
    assert send_notification_emails.apply().get() == 1


def test_an_old_title_with_a_line_break_is_sent_with_a_one_line_subject(db, mentee):
    # Rows stored before titles were made single-line must not break sending.
    note = important(mentee, title="O'Brien\nBcc: everyone@example.org asks you to be their mentor")
    assert emails_send_pending() == 1
    assert mail.outbox[0].subject == "O'Brien Bcc: everyone@example.org asks you to be their mentor"
    note.refresh_from_db()
    assert note.emailed_at is not None


def test_titles_are_stored_on_one_line(db, mentee):
    request = SimpleNamespace(mentee=SimpleNamespace(first_name="Amara\r\nBcc: x@example.org"))
    note = services.notify(mentee, "request_received", request)
    assert note.title == "Amara Bcc: x@example.org asks you to be their mentor"


def test_a_mail_server_that_is_down_leaves_the_row_for_a_later_run(db, mentee, settings):
    note = important(mentee)
    settings.EMAIL_BACKEND = f"{__name__}.MailServerDown"
    with pytest.raises(ConnectionRefusedError):
        emails_send_pending()
    note.refresh_from_db()
    assert note.emailed_at is None and note.email_failed_at is None
    assert note.email_claimed_at is not None and note.email_attempts == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Claimed a moment ago: a run now leaves it alone, in case its sender is still at work.
    assert emails_send_pending() == 0
    # Once the claim has expired, the next run sends it.
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=timezone.now() - EMAIL_CLAIM_EXPIRES)
    assert emails_send_pending() == 1
    assert [m.to for m in mail.outbox] == [[mentee.email]]


def test_a_row_claimed_by_a_worker_that_died_is_sent_once_the_claim_expires(db, mentee):
    note = important(mentee)
    minute = datetime.timedelta(minutes=1)
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=timezone.now() - minute, email_attempts=1)
    assert emails_send_pending() == 0
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=timezone.now() - EMAIL_CLAIM_EXPIRES - minute)
    assert emails_send_pending() == 1
    note.refresh_from_db()
    assert note.emailed_at is not None and note.email_attempts == 2


def test_a_row_that_keeps_failing_is_given_up_after_its_tries(db, mentee, settings):
    note = important(mentee)
    expired = timezone.now() - EMAIL_CLAIM_EXPIRES
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=expired, email_attempts=MAX_EMAIL_ATTEMPTS - 1)
    settings.EMAIL_BACKEND = f"{__name__}.MailServerDown"
    assert emails_send_pending() == 0
    note.refresh_from_db()
    assert note.email_failed_at is not None
    assert note.email_error.startswith("ConnectionRefusedError:")


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        # Not a debt: CI's second pass runs the whole suite on PostgreSQL, where this runs.
        pytest.skip("two runs at once need PostgreSQL's row locks: CI runs this in its PostgreSQL pass")


def test_two_runs_at_once_send_each_email_exactly_once(postgres, transactional_db, monkeypatch):
    # DESIGN: jobs that must be safe to run twice, run twice at once.
    members = [factories.UserFactory() for _ in range(20)]
    for member in members:
        important(member)
    # Widen the window between reading the due rows and claiming each one.
    real_send = services._email_send

    def slow_send(notification, connection):
        threading.Event().wait(0.01)
        real_send(notification, connection)

    monkeypatch.setattr(services, "_email_send", slow_send)
    barrier = threading.Barrier(2)
    counts = []

    def run():
        try:
            barrier.wait(timeout=10)
            counts.append(emails_send_pending())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sum(counts) == 20 and len(counts) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
