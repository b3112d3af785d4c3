# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""What sending a message costs the database does not grow with the history (issue 8, item 9; STYLE: a cost that
grows with the rows is a bug): a long conversation, a member who has sent thousands of messages and a partner
with thousands of notifications still cost a sending a few index pages. And the flood limit counts only its
window."""

import datetime
import re

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from mentoring.messages import message_send
from mentoring.models import Pairing
from messaging import services
from messaging.models import Conversation, Message, Notification
from messaging.services import MessageRateLimited
from tests.messaging.conversation_fixtures import started  # noqa: F401

pytestmark = pytest.mark.django_db

HISTORY = 3_000
OTHERS = 40


def _long_history(started, scheme, network):
    """HISTORY messages of the mentor, long ago, the newest of them held (skipped by `previous`); then as many
    in OTHERS other conversations (so the planner sees many, as in a real scheme); and as many read
    notifications of the mentee's."""
    conversation, mentor, mentee = started.conversation, started.mentor, started.mentee
    people = User.objects.bulk_create(User(email=f"other-{n}@example.org", password="!") for n in range(2 * OTHERS))
    pairings = Pairing.objects.bulk_create(
        Pairing(scheme=scheme, network=network, mentor=people[2 * n], mentee=people[2 * n + 1]) for n in range(OTHERS)
    )
    others = Conversation.objects.bulk_create(
        Conversation(pairing=p, first_member_id=p.mentor_id, second_member_id=p.mentee_id) for p in pairings
    )
    long_ago = timezone.now() - datetime.timedelta(days=30)
    Message.objects.bulk_create(
        Message(
            conversation=conversation if n < HISTORY else others[n % OTHERS],
            sender=mentor if n < HISTORY else others[n % OTHERS].first_member,
            body=f"Old {n}",
            created_at=long_ago + datetime.timedelta(seconds=n),
            status=Message.Status.HELD if HISTORY - 50 <= n < HISTORY else Message.Status.DELIVERED,
        )
        for n in range(2 * HISTORY)
    )
    Notification.objects.bulk_create(
        Notification(user=mentee, kind="message_received", title="New message", url="/elsewhere/", read_at=long_ago)
        for _ in range(HISTORY)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Message._meta.db_table}")
        cursor.execute(f"ANALYZE {Notification._meta.db_table}")


def _pages_read(sql: str, params: list, plan_mode: str) -> tuple[int, str]:
    """The shared buffers the statement reads when prepared and run with `plan_mode` (a generic plan is what a
    prepared statement settles on), and its plan."""
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", sql)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL plan_cache_mode = {plan_mode}")
        cursor.execute(f"PREPARE sending_probe AS {prepared}")
        try:
            literals = ", ".join(["%s"] * len(params))
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE sending_probe({literals})", params)
            (plan,) = cursor.fetchone()[0]
        finally:
            cursor.execute("DEALLOCATE sending_probe")
    top = plan["Plan"]
    return top["Shared Hit Blocks"] + top.get("Shared Read Blocks", 0), str(plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")
@pytest.mark.parametrize("plan_mode", ["force_custom_plan", "force_generic_plan"])
def test_the_facts_of_a_new_message_read_a_few_pages_however_long_the_history(started, scheme, network, plan_mode):
    _long_history(started, scheme, network)
    sql, params = services._message_facts_sql(
        conversation_id=started.conversation.pk,
        sender_id=started.mentor.pk,
        url=started.conversation.get_absolute_url(),
        now=timezone.now(),
    )
    pages, plan = _pages_read(sql, params, plan_mode)
    # Before: the newest delivered message was found by reading all 3,000 rows of the conversation (about 30
    # pages and a sort), the partner's notifications likewise.
    assert pages <= 12, plan


def test_the_new_messages_previous_skips_held_ones_in_a_long_history(started, scheme, network):
    _long_history(started, scheme, network)
    newest_delivered = Message.objects.filter(
        conversation=started.conversation, status=Message.Status.DELIVERED
    ).latest("pk")
    message = message_send(conversation_id=started.conversation.pk, sender=started.mentee, body="Hello")
    assert message.live_payload["previous"] == newest_delivered.pk


def test_the_flood_limit_counts_only_the_messages_of_its_window(started, settings):
    # Bad input (a flood) is refused, but messages sent before the window do not count against the member.
    settings.MESSAGE_RATE_LIMIT, settings.MESSAGE_RATE_WINDOW = 3, 60
    for n in range(3):
        message_send(conversation_id=started.conversation.pk, sender=started.mentor, body=f"Earlier {n}")
    Message.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=61))
    for n in range(3):
        message_send(conversation_id=started.conversation.pk, sender=started.mentor, body=f"Now {n}")
    with pytest.raises(MessageRateLimited) as refused:
        message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="One too many")
    assert 55 <= refused.value.retry_after <= 60
    assert not Message.objects.filter(body="One too many").exists()
    assert Message.objects.count() == 6
