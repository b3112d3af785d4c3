"""In-platform notifications: stored first, the bell, the page, email for important kinds (R-MSG-3)."""

import pytest
from django.core import mail
from django.urls import reverse

from messaging import services, tasks
from messaging.models import Notification
from messaging.services import emails_send_pending, notify, notify_many
from tests import factories


def test_notify_stores_before_it_delivers(mentee, scheme, django_capture_on_commit_callbacks):
    # Persist, then deliver: the row exists before any on-commit delivery runs.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = notify(mentee, "welcome", scheme, url="/onboarding/")
    assert Notification.objects.filter(pk=note.pk, title="Welcome to Career Mentoring").exists()
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_important_kinds_are_emailed_after_commit_once(mentee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(mentee, "dbs_updated", url="/onboarding/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [mentee.email]
    assert "http://127.0.0.1:8000/onboarding/" in mail.outbox[0].body
    # Running the sender again (a retried task, a beat run) sends nothing more.
    assert emails_send_pending() == 0
    assert len(mail.outbox) == 1


def test_ordinary_kinds_are_not_emailed(mentee, scheme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(mentee, "welcome", scheme)
    assert mail.outbox == []


def test_an_unknown_kind_is_a_programming_error(mentee):
    with pytest.raises(KeyError):
        notify(mentee, "no_such_kind")


def test_the_bell_shows_the_unread_count(client, mentee, scheme):
    notify_many([mentee, mentee], "welcome", scheme)
    client.force_login(mentee)
    page = client.get(reverse("onboarding")).content.decode()
    assert 'id="notification-count"' in page
    assert 'aria-label="2 unread">2<' in page


def test_the_page_lists_and_marks_read(client, mentee, scheme):
    note = notify(mentee, "welcome", scheme, url="/onboarding/")
    client.force_login(mentee)
    page = client.get(reverse("notification_list")).content.decode()
    assert "Welcome to Career Mentoring" in page
    response = client.post(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/onboarding/"
    note.refresh_from_db()
    assert note.is_read


def test_mark_all_read(client, mentee, scheme):
    notify_many([mentee] * 3, "welcome", scheme)
    client.force_login(mentee)
    client.post(reverse("notification_read_all"))
    assert not Notification.objects.filter(user=mentee, read_at__isnull=True).exists()


def test_another_members_notification_is_404_and_untouched(client, mentee, mentor, scheme):
    theirs = notify(mentor, "welcome", scheme)
    client.force_login(mentee)
    assert client.post(reverse("notification_open", args=[theirs.pk])).status_code == 404
    assert "Welcome" not in client.get(reverse("notification_list")).content.decode()
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_opening_by_get_is_refused(client, mentee, scheme):
    note = notify(mentee, "welcome", scheme)
    client.force_login(mentee)
    assert client.get(reverse("notification_open", args=[note.pk])).status_code == 405


def test_an_offsite_url_is_never_followed(client, mentee):
    note = Notification.objects.create(user=mentee, kind="welcome", title="x", url="https://evil.example/")
    client.force_login(mentee)
    assert client.post(reverse("notification_open", args=[note.pk]))["Location"] == reverse("notification_list")


def test_the_list_does_not_query_per_notification(client, mentee, scheme, django_assert_max_num_queries):
    client.force_login(mentee)
    notify_many([mentee] * 3, "welcome", scheme)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("notification_list"))
    notify_many([mentee] * 22, "welcome", scheme)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("notification_list"))


def test_publishing_to_many_members_is_one_insert(documents, django_assert_max_num_queries):
    members = [factories.UserFactory() for _ in range(30)]
    with django_assert_max_num_queries(3):
        notify_many(members, "welcome", "the scheme")
    assert Notification.objects.count() == 30


def test_a_large_announcement_pushes_live_counts_from_a_worker(
    documents, django_capture_on_commit_callbacks, monkeypatch
):
    members = [factories.UserFactory() for _ in range(services.PUSH_INLINE_LIMIT + 1)]
    queued = []
    monkeypatch.setattr(tasks.push_unread_counts, "delay", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        notify_many(members, "welcome", "the scheme")
    assert queued == [{"user_ids": [m.pk for m in members]}]
