"""A pairing's goals with status and dated progress notes, seeded from the mentee's goals (R-PAIR-3)."""

import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mentoring import agreement
from mentoring.models import GoalProgress, Pairing, PairingGoal
from tests.mentoring.agreement_world import pairing_fixture  # noqa: F401


def test_goals_are_seeded_from_the_mentees_goals_once(pairing):
    # R-PAIR-3: seeded from the mentee's goals; goals_seed is safe to call again.
    seeded = agreement.goals_seed(pairing)
    assert [g.text for g in seeded] == ["Prepare for chartership.", "Learn to lead a team"]
    assert agreement.goals_seed(pairing) == []
    assert PairingGoal.objects.filter(pairing=pairing).count() == 2


def test_a_pairing_without_goals_starts_from_the_mentees_goals_with_one_button(client, pairing, mentor):
    client.force_login(mentor)
    html = client.get(reverse("goals_list", args=[pairing.pk])).content.decode()
    assert "Start from the mentee's goals" in html
    assert not PairingGoal.objects.exists()  # a GET writes nothing
    assert client.post(reverse("goals_list", args=[pairing.pk]), {"seed": "1"}).status_code == 302
    client.post(reverse("goals_list", args=[pairing.pk]), {"seed": "1"})
    html = client.get(reverse("goals_list", args=[pairing.pk])).content.decode()
    assert "Learn to lead a team" in html and "Start from the mentee" not in html
    assert PairingGoal.objects.filter(pairing=pairing).count() == 2


def test_either_member_adds_a_goal_changes_its_status_and_records_progress(client, pairing, mentor, mentee):
    client.force_login(mentee)
    assert client.post(reverse("goals_list", args=[pairing.pk]), {"text": "Pass the interview"}).status_code == 302
    goal = PairingGoal.objects.get(text="Pass the interview")
    client.force_login(mentor)
    response = client.post(reverse("goal_status", args=[pairing.pk, goal.pk]), {"status": "in_progress"})
    assert response.status_code == 302
    today = timezone.localdate().isoformat()
    response = client.post(reverse("goal_progress", args=[pairing.pk, goal.pk]), {"date": today, "note": "Mock done"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.status == PairingGoal.Status.IN_PROGRESS
    assert goal.progress.get().author == mentor
    html = client.get(reverse("goals_list", args=[pairing.pk])).content.decode()
    assert "Mock done" in html and "In progress" in html


def test_a_bad_status_or_a_future_progress_date_is_refused(client, pairing, mentee):
    goal = agreement.goal_add(pairing=pairing, actor=mentee, text="Pass the interview")
    client.force_login(mentee)
    response = client.post(reverse("goal_status", args=[pairing.pk, goal.pk]), {"status": "won"})
    assert response.status_code == 400
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(reverse("goal_progress", args=[pairing.pk, goal.pk]), {"date": tomorrow, "note": "x"})
    assert response.status_code == 400 and "today or an earlier day" in response.content.decode()
    goal.refresh_from_db()
    assert goal.status == PairingGoal.Status.NOT_STARTED and not GoalProgress.objects.exists()


def test_another_pairings_goal_is_not_found(client, pairing, mentee, mentor):
    goal = agreement.goal_add(pairing=pairing, actor=mentee, text="Pass the interview")
    other = Pairing.objects.create(
        scheme=pairing.scheme, mentor=mentee, mentee=mentor, network=pairing.network
    )  # the same people the other way round: the goal still belongs to the first pairing
    client.force_login(mentee)
    response = client.post(reverse("goal_status", args=[other.pk, goal.pk]), {"status": "achieved"})
    assert response.status_code == 404


def test_an_ended_pairings_goals_are_read_only(client, pairing, mentee):
    goal = agreement.goal_add(pairing=pairing, actor=mentee, text="Pass the interview")
    Pairing.objects.filter(pk=pairing.pk).update(status=Pairing.Status.ENDED, ended_at=timezone.now())
    client.force_login(mentee)
    html = client.get(reverse("goals_list", args=[pairing.pk])).content.decode()
    assert "can be read but no longer changed" in html and "Add goal" not in html
    response = client.post(reverse("goal_status", args=[pairing.pk, goal.pk]), {"status": "achieved"})
    assert response.status_code == 400 and "This pairing has ended" in response.content.decode()
    assert client.post(reverse("goals_list", args=[pairing.pk]), {"text": "More"}).status_code == 400
    assert PairingGoal.objects.filter(pairing=pairing).count() == 1


def test_the_goals_partial_reads_in_two_queries(pairing, mentee, django_assert_max_num_queries):
    for n in range(3):
        goal = agreement.goal_add(pairing=pairing, actor=mentee, text=f"Goal {n}")
        agreement.goal_progress_add(
            pairing=pairing, actor=mentee, goal_id=goal.pk, date=timezone.localdate(), note="Step"
        )
    with django_assert_max_num_queries(2):
        assert all(len(g.progress.all()) == 1 for g in agreement.goals_for_pairing(pairing))


def test_the_goals_partial_lists_each_goal_with_its_status(pairing, mentor, mentee):
    goal = agreement.goal_add(pairing=pairing, actor=mentee, text="Pass the interview")
    agreement.goal_update_status(pairing=pairing, actor=mentor, goal_id=goal.pk, status="achieved")
    agreement.goal_progress_add(pairing=pairing, actor=mentee, goal_id=goal.pk, date=timezone.localdate(), note="Done")
    html = render_to_string(
        "mentoring/_pairing_goals.html",
        {"pairing": pairing, "goals": agreement.goals_for_pairing(pairing), "user": mentor},
    )
    assert "Pass the interview: achieved (last progress" in html
    assert reverse("session_notes", args=[pairing.pk]) in html  # the mentor's own notes, linked for them only
    html = render_to_string(
        "mentoring/_pairing_goals.html",
        {"pairing": pairing, "goals": agreement.goals_for_pairing(pairing), "user": mentee},
    )
    assert reverse("session_notes", args=[pairing.pk]) not in html
