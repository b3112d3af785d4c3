# ruff: noqa: F811  (the fixtures imported from ending_fixtures are parameters by name)
"""Feedback (R-PAIR-4): asked at the midpoint and at the end, one reminder, coordinators told of a low rating."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from mentoring.celery import app as celery_app
from mentoring.ending import feedback_give, feedback_requests_send, pairing_end
from mentoring.ending_selectors import feedback_asked
from mentoring.models import Feedback, FeedbackRequest, Pairing
from messaging.models import Notification
from tests.mentoring.ending_fixtures import other_coordinator, pair  # noqa: F401


def start_weeks_ago(pairing, weeks):
    Pairing.objects.filter(pk=pairing.pk).update(started_at=timezone.now() - datetime.timedelta(weeks=weeks))


def asked(pairing, stage="midpoint"):
    return FeedbackRequest.objects.filter(pairing=pairing, stage=stage)


def test_both_are_asked_at_the_schemes_midpoint_once_and_reminded_once(pair):
    # R-PAIR-4: asked at a scheme-set midpoint, with one reminder; each ask a row, so a second run sends nothing
    pair.scheme.feedback_midpoint_weeks = 6
    pair.scheme.save()
    start_weeks_ago(pair, 5)
    assert feedback_requests_send() == 0
    start_weeks_ago(pair, 6)
    assert feedback_requests_send() == 2
    assert feedback_requests_send() == 0
    assert asked(pair).count() == 2
    for member in (pair.mentor, pair.mentee):
        assert Notification.objects.filter(user=member, kind="feedback_asked").count() == 1
    # A week later, the one reminder; only to whoever has not answered.
    FeedbackRequest.objects.filter(member=pair.mentor).update(asked_at=timezone.now() - datetime.timedelta(days=8))
    FeedbackRequest.objects.filter(member=pair.mentee).update(asked_at=timezone.now() - datetime.timedelta(days=8))
    feedback_give(pairing_id=pair.pk, member=pair.mentee, stage="midpoint", rating=4, comments="Going well.")
    assert feedback_requests_send() == 1
    assert feedback_requests_send() == 0
    assert Notification.objects.filter(user=pair.mentor, kind="feedback_reminder").count() == 1
    assert not Notification.objects.filter(user=pair.mentee, kind="feedback_reminder").exists()


def test_asking_is_a_unique_row(pair):
    FeedbackRequest.objects.create(pairing=pair, member=pair.mentee, stage="end")
    with pytest.raises(IntegrityError):
        FeedbackRequest.objects.create(pairing=pair, member=pair.mentee, stage="end")


def test_ending_asks_both_for_end_feedback_and_the_job_does_not_ask_again(pair):
    pairing_end(pairing_id=pair.pk, actor=pair.mentee, reason="goals_met", comments="")
    assert asked(pair, "end").count() == 2
    assert feedback_requests_send() == 0
    assert Notification.objects.filter(kind="feedback_asked").count() == 2


def test_the_job_asks_about_an_ending_that_did_not_go_through_the_service(pair):
    Pairing.objects.filter(pk=pair.pk).update(status="ended", ended_at=timezone.now(), end_reason="scheme_closed")
    assert feedback_requests_send() == 2
    assert feedback_requests_send() == 0


def ask_end(pair):
    pairing_end(pairing_id=pair.pk, actor=pair.mentor, reason="goals_met", comments="")


@pytest.mark.parametrize("rating", [0, 6, -1, "five", None])
def test_a_rating_outside_one_to_five_is_refused_and_nothing_written(client, pair, rating):
    # R-PAIR-4 bad input: a rating of 6
    ask_end(pair)
    with pytest.raises(ValidationError, match="from 1 to 5"):
        feedback_give(pairing_id=pair.pk, member=pair.mentee, stage="end", rating=rating)
    client.force_login(pair.mentee)
    response = client.post(reverse("pairing_feedback", args=[pair.pk, "end"]), {"rating": rating or ""})
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in response.content.decode()
    assert not Feedback.objects.exists()


def test_the_database_refuses_a_rating_of_six_too(pair):
    with pytest.raises(IntegrityError):
        Feedback.objects.create(pairing=pair, member=pair.mentee, stage="end", rating=6)


def test_feedback_is_given_once_per_stage_through_the_survey(client, pair):
    ask_end(pair)
    client.force_login(pair.mentee)
    url = reverse("pairing_feedback", args=[pair.pk, "end"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"rating": "5", "comments": "Thank you, David."})
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.member, feedback.stage, feedback.rating) == (pair.mentee, "end", 5)
    again = client.post(url, {"rating": "4"})
    assert again.status_code == 400 and "already given" in again.content.decode()
    assert Feedback.objects.count() == 1
    assert feedback_asked(pair, pair.mentee)[0]["given"] == feedback


def test_feedback_not_yet_asked_is_refused(client, pair):
    with pytest.raises(ValidationError, match="not been asked"):
        feedback_give(pairing_id=pair.pk, member=pair.mentee, stage="midpoint", rating=3)
    client.force_login(pair.mentee)
    page = client.get(reverse("pairing_feedback", args=[pair.pk, "midpoint"]))
    assert page.status_code == 200 and "not asked you" in page.content.decode()


def test_an_unknown_stage_and_a_strangers_pairing_are_not_found(client, pair, scheme, network):
    client.force_login(pair.mentee)
    assert client.get(reverse("pairing_feedback", args=[pair.pk, "whenever"])).status_code == 404
    ask_end(pair)
    stranger = type(pair.mentee).objects.create(email="stranger@example.org")
    client.force_login(stranger)
    assert client.post(reverse("pairing_feedback", args=[pair.pk, "end"]), {"rating": "1"}).status_code == 404
    assert not Feedback.objects.exists()


def test_a_rating_of_two_tells_the_networks_coordinators_at_once(pair, coordinator, other_coordinator):
    # R-PAIR-4: a rating of 2 or less tells them at once
    ask_end(pair)
    feedback_give(pairing_id=pair.pk, member=pair.mentor, stage="end", rating=3)
    assert not Notification.objects.filter(kind="feedback_low").exists()
    feedback_give(pairing_id=pair.pk, member=pair.mentee, stage="end", rating=2, comments="We never met.")
    note = Notification.objects.get(kind="feedback_low")
    assert note.user == coordinator and "2 out of 5" in note.body
    assert not Notification.objects.filter(user=other_coordinator).exists()


def test_coordinators_read_their_own_networks_feedback_in_the_admin(client, pair, coordinator, other_coordinator):
    # R-PAIR-4: the coordinators of the network read it
    ask_end(pair)
    feedback = feedback_give(pairing_id=pair.pk, member=pair.mentee, stage="end", rating=4, comments="Helpful.")
    url = reverse("admin:mentoring_feedback_change", args=[feedback.pk])
    client.force_login(coordinator)
    assert "Helpful." in client.get(url).content.decode()
    assert client.post(url, {"rating": "1"}).status_code == 403
    client.force_login(other_coordinator)
    assert client.get(url).status_code == 404


def test_the_beat_schedule_runs_a_registered_task(pair):
    task_name = settings.CELERY_BEAT_SCHEDULE["send-feedback-requests"]["task"]
    celery_app.loader.import_default_modules()
    assert task_name in celery_app.tasks
    start_weeks_ago(pair, 52)
    assert celery_app.tasks[task_name].apply().get() == 2
    assert celery_app.tasks[task_name].apply().get() == 0
