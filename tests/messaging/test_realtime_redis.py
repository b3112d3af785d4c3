"""The channel layer and Celery against the real Redis (DESIGN: scale-out through Redis).

These talk to REDIS_URL (default redis://127.0.0.1:6379). Where Redis does not
answer they skip on a laptop and fail in CI.
"""

import os
import time

import pytest
import redis
from asgiref.sync import async_to_sync
from celery import Celery
from celery import _state as celery_state
from celery.contrib.testing.worker import start_worker
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.test import override_settings

import messaging.tasks  # noqa: F401  shared tasks join every app when it is finalised
from mentoring.celery import app as project_celery_app
from messaging.consumers import NotificationConsumer
from messaging.models import Notification
from messaging.services import notify
from tests.conftest import services_required

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.services


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if services_required():
            pytest.fail(f"Redis at {REDIS_URL} is not answering: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not answering; CI runs this test")
    return REDIS_URL


# Production's layer (pub/sub, reporting outages: messaging/channel_layer.py) and channels_redis's default.
@pytest.fixture(params=["messaging.channel_layer.RedisPubSubLayer", "channels_redis.core.RedisChannelLayer"])
def redis_channel_layer(request, redis_url):
    layers = {
        "default": {
            "BACKEND": request.param,
            "CONFIG": {"hosts": [redis_url], "prefix": f"test-{os.getpid()}"},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        yield


def test_a_notification_reaches_an_open_page_through_redis(transactional_db, redis_channel_layer, mentee, scheme):
    # R-MSG-3: the bell updates live; the group message crosses Redis
    async def scenario():
        communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        communicator.scope["user"] = mentee
        connected, _ = await communicator.connect()
        await database_sync_to_async(notify)(mentee, "welcome", scheme)
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return connected, message

    connected, message = async_to_sync(scenario)()
    assert connected
    assert message == {"unread": 1}


def test_an_anonymous_socket_is_closed(db, redis_channel_layer):
    async def scenario():
        communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        communicator.scope["user"] = AnonymousUser()
        connected, code = await communicator.connect()
        return connected, code

    connected, code = async_to_sync(scenario)()
    assert not connected
    assert code == 4401


def test_a_socket_that_is_sent_junk_answers_with_an_error(db, redis_channel_layer, mentee):
    async def scenario():
        communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        communicator.scope["user"] = mentee
        await communicator.connect()
        await communicator.send_to(text_data="not json at all {")
        answer = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return answer

    assert async_to_sync(scenario)() == {"error": "This socket does not accept messages."}


def test_a_celery_worker_sends_notification_email_through_redis(transactional_db, redis_url, mentee):
    # Persist, then deliver, with a real broker: the task crosses Redis to a worker thread.
    # Importing it registers celery.ping as a shared task on every Celery app, the project's too:
    # only this test's worker wants it, so not at collection time.
    from celery.contrib.testing import tasks  # noqa: F401, PLC0415

    # A Celery app of its own, configured as the project's but on Redis and not
    # eager, so the project's app (inline in tests) is left untouched.
    app = Celery("mentoring-redis-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=redis_url, task_always_eager=False, task_default_queue=f"test-{os.getpid()}")
    note = Notification.objects.create(
        user=mentee, kind="dbs_updated", title="Your DBS check was updated", email_wanted=True
    )
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            app.tasks["messaging.tasks.send_notification_emails"].delay(user_ids=[mentee.pk])
            deadline = time.monotonic() + 15
            # Watch the outbox, not the table: SQLite's shared in-memory test
            # database locks a table the worker thread is writing.
            while time.monotonic() < deadline and not mail.outbox:
                time.sleep(0.1)
    finally:
        # A worker in this process marks the whole process as "inside a task" and never unmarks it,
        # so every later result.get() in the run would refuse to block.
        celery_state._set_task_join_will_block(False)
        # The worker made its own app the current one; shared tasks must resolve to the project's again.
        project_celery_app.set_current()
        project_celery_app.set_default()
    note.refresh_from_db()
    assert note.emailed_at is not None
    assert [m.to for m in mail.outbox] == [[mentee.email]]


def test_signing_out_closes_the_members_sockets(transactional_db, redis_channel_layer, mentee, client):
    # DESIGN (Security): a logout closes that user's sockets, across processes through Redis
    client.force_login(mentee)

    async def scenario():
        communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        communicator.scope["user"] = mentee
        await communicator.connect()
        await database_sync_to_async(client.post)("/accounts/logout/")
        closed = await communicator.receive_output(timeout=5)
        await communicator.wait()
        return closed

    closed = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": 4401}
