"""A write never fails because delivery failed: tasks go after commit, a broker that is down is logged,
and the beat job delivers what was missed (persist, then deliver)."""

import contextlib
import logging

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from matching.models import MentorshipRequest
from mentoring.celery import TransactionAwareTask
from mentoring.celery import app as celery_app
from messaging import services, tasks
from messaging.models import Notification
from messaging.services import notify
from tests import factories

# Port 9 (discard): nothing listens there, so every connection is refused at once.
NOTHING_LISTENS = "redis://127.0.0.1:9/0"


def send_request(client, mentee, mentor, scheme):
    """The mentee asks through the real page, as in tests/matching/test_requests.py."""
    client.force_login(mentee)
    url = reverse("request_create", args=[mentor.mentor_profile.pk]) + f"?scheme={scheme.slug}"
    form = {"message": "Hello, I would value your help.", "conflict_kind": "none", "conflict_manageable": "yes"}
    return client.post(url, form)


def forget_broker_connections():
    # Celery keeps a pool of connections to the broker it first used; a changed
    # broker_url is only read when the pool is made again.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_and_redis_down():
    """Settings as in production (REDIS_URL set, tasks not inline), with Redis not answering."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [NOTHING_LISTENS]}}}
    celery_app.conf.update(broker_url=NOTHING_LISTENS, task_always_eager=False)
    forget_broker_connections()
    try:
        with override_settings(REDIS_URL=NOTHING_LISTENS, CELERY_BROKER_URL=NOTHING_LISTENS, CHANNEL_LAYERS=layers):
            yield
    finally:
        celery_app.conf.update(saved)
        forget_broker_connections()


def test_a_request_sent_while_redis_is_down_succeeds_and_is_emailed_by_the_beat_job(
    transactional_db, client, documents, scheme, network, caplog
):
    # R-MATCH-2, R-MSG-3: the mentee sees success for what was saved; the email follows later.
    # A transactional test, so the request's transaction really commits and its hooks run in the request.
    listed = factories.listed_mentor(scheme, network, capacity=2)
    seeker = factories.eligible_mentee(scheme, network)
    caplog.set_level(logging.WARNING)
    with broker_and_redis_down():
        response = send_request(client, seeker, listed, scheme)
        request = MentorshipRequest.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("request_detail", args=[request.pk])
        assert "Could not queue messaging.tasks.send_notification_emails: the broker did not answer" in caplog.text
        assert "Could not push unread counts" in caplog.text
        # The retry is refused only because the first request truly exists.
        again = send_request(client, seeker, listed, scheme)
        assert again.status_code == 400
        assert "You have already asked" in again.content.decode()
        assert MentorshipRequest.objects.count() == 1
    assert mail.outbox == []
    note = Notification.objects.get(user=listed, kind="request_received")
    assert note.emailed_at is None

    # Redis is back; the beat job runs the task its schedule names.
    beat_task = settings.CELERY_BEAT_SCHEDULE["send-pending-notification-emails"]["task"]
    assert celery_app.tasks[beat_task].apply().get() == 1
    assert [m.to for m in mail.outbox] == [[listed.email]]
    note.refresh_from_db()
    assert note.emailed_at is not None
    assert celery_app.tasks[beat_task].apply().get() == 0


def test_a_task_asked_for_inside_a_transaction_is_sent_only_after_commit(
    db, mentee, monkeypatch, django_capture_on_commit_callbacks
):
    ran = []
    monkeypatch.setattr(services, "push_unread_counts", lambda user_ids: ran.append(user_ids))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tasks.push_unread_counts.delay(user_ids=[mentee.pk]) is None
        assert ran == []
    assert len(callbacks) == 1
    assert ran == [[mentee.pk]]


def test_a_task_asked_for_in_a_transaction_that_rolls_back_is_never_sent(
    db, mentee, monkeypatch, django_capture_on_commit_callbacks
):
    ran = []
    monkeypatch.setattr(services, "push_unread_counts", lambda user_ids: ran.append(user_ids))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        tasks.push_unread_counts.delay(user_ids=[mentee.pk])
        raise RuntimeError("the write failed")
    assert callbacks == []
    assert ran == []


def test_every_task_is_transaction_aware():
    ours = [t for name, t in celery_app.tasks.items() if not name.startswith("celery.")]
    assert ours and all(isinstance(t, TransactionAwareTask) for t in ours)


def test_a_channel_layer_error_while_pushing_counts_is_logged_not_raised(db, mentee, caplog):
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [NOTHING_LISTENS]}}}
    with override_settings(CHANNEL_LAYERS=layers):
        services.push_unread_counts([mentee.pk])
    assert "Could not push unread counts to 1 member(s)" in caplog.text


def test_an_error_in_a_delivery_after_commit_does_not_fail_the_write(
    db, mentee, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("delivery broke")

    monkeypatch.setattr(services, "_deliver", broken)
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(mentee, "dbs_updated")
    assert Notification.objects.filter(pk=note.pk).exists()
    assert "delivery broke" in caplog.text
