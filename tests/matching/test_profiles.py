"""Mentor profiles and mentee goals: approval, special-category warning, reports, bad input (R-PROFILE-*, R-MSG-4)."""

import pytest
from django.urls import reverse

from accounts.models import Language
from matching.models import MenteeProfile, MentorProfile, ProfileReport
from mentoring.models import Role
from messaging.models import Notification
from tests import factories


@pytest.fixture
def new_mentor(documents, scheme, network):
    user = factories.UserFactory(first_name="Priya")
    factories.accept_current_documents(user)
    factories.train(user)
    factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTOR)
    return user


@pytest.fixture
def sector(db):
    return factories.SectorFactory(name="Energy")


def profile_data(sector, **overrides):
    data = {
        "role_title": "Protection engineer",
        "work_history": "Fifteen years designing substations.",
        "sector": sector.pk,
        "expertise": [factories.ExpertiseAreaFactory(name="Substations").pk],
        "languages": [Language.objects.get(code="en").pk],
        "country": "GB",
        "capacity": "2",
        "availability": "accepting",
    }
    data.update(overrides)
    return data


def test_a_new_profile_waits_for_approval_and_the_coordinator_is_told(client, new_mentor, sector, coordinator):
    # R-PROFILE-1, R-PROFILE-3
    client.force_login(new_mentor)
    response = client.post(reverse("mentor_profile_edit"), profile_data(sector))
    assert response.status_code == 302
    profile = MentorProfile.objects.get(user=new_mentor)
    assert profile.status == "submitted"
    assert Notification.objects.filter(user=coordinator, kind="profile_submitted").exists()


def test_an_approved_profile_goes_back_for_approval_when_its_text_changes(client, new_mentor, sector):
    # R-PROFILE-3
    client.force_login(new_mentor)
    client.post(reverse("mentor_profile_edit"), profile_data(sector))
    MentorProfile.objects.filter(user=new_mentor).update(status="approved")
    client.post(reverse("mentor_profile_edit"), profile_data(sector, capacity="3"))
    assert MentorProfile.objects.get(user=new_mentor).status == "approved"  # capacity needs no approval
    client.post(reverse("mentor_profile_edit"), profile_data(sector, work_history="Now with a bold new claim."))
    assert MentorProfile.objects.get(user=new_mentor).status == "submitted"


@pytest.mark.parametrize("capacity", ["0", "500", "-1", "two", ""])
def test_a_capacity_outside_1_to_10_is_refused(client, new_mentor, sector, capacity):
    client.force_login(new_mentor)
    response = client.post(reverse("mentor_profile_edit"), profile_data(sector, capacity=capacity))
    assert response.status_code == 200
    assert "capacity" in response.context["form"].errors
    assert not MentorProfile.objects.exists()


def test_a_member_who_is_not_a_mentor_cannot_write_a_profile(client, mentee, sector):
    client.force_login(mentee)
    response = client.post(reverse("mentor_profile_edit"), profile_data(sector))
    assert response.status_code == 200
    assert "Join a scheme as a mentor" in response.content.decode()
    assert not MentorProfile.objects.exists()


def test_special_category_text_is_warned_about_before_it_is_saved(client, new_mentor, sector):
    # R-MSG-4: warn, then let the writer decide
    client.force_login(new_mentor)
    text = "I was diagnosed with dyslexia and mentor others with it."
    response = client.post(reverse("mentor_profile_edit"), profile_data(sector, work_history=text))
    assert response.status_code == 200
    body = response.content.decode()
    assert "special-category personal data" in body and "health" in body
    assert 'type="checkbox" name="confirm_special"' in body
    assert not MentorProfile.objects.exists()
    response = client.post(
        reverse("mentor_profile_edit"), profile_data(sector, work_history=text, confirm_special="on")
    )
    assert response.status_code == 302
    assert MentorProfile.objects.get().work_history == text


def test_goals_are_checked_for_special_category_data_too(client, mentee):
    # R-MSG-4, R-PROFILE-5
    client.force_login(mentee)
    response = client.post(reverse("mentee_goals_edit"), {"goals": "Return to work after cancer treatment."})
    assert "special-category" in response.content.decode()
    assert not MenteeProfile.objects.exists()


def test_a_mentee_sets_goals_and_preferences(client, mentee, sector):
    # R-PROFILE-5
    client.force_login(mentee)
    area = factories.ExpertiseAreaFactory(name="Chartership")
    response = client.post(
        reverse("mentee_goals_edit"),
        {
            "goals": "Become chartered within 18 months.",
            "sector": sector.pk,
            "expertise": [area.pk],
            "country": "GB",
        },
    )
    assert response.status_code == 302
    goals = MenteeProfile.objects.get(user=mentee)
    assert goals.sector == sector and list(goals.expertise.all()) == [area]


def test_empty_goals_are_refused(client, mentee):
    client.force_login(mentee)
    response = client.post(reverse("mentee_goals_edit"), {"goals": ""})
    assert response.status_code == 200 and "goals" in response.context["form"].errors


def test_anyone_who_can_see_a_profile_can_report_it(client, seeker, listed, coordinator):
    # R-PROFILE-3: the report lands in the coordinator's queue
    client.force_login(seeker)
    url = reverse("profile_report", args=[listed.mentor_profile.pk])
    response = client.post(url, {"reason": "Uses the institution's logo and claims to be a Fellow."})
    assert response.status_code == 302
    report = ProfileReport.objects.get()
    assert (report.reporter, report.status) == (seeker, "open")
    assert Notification.objects.filter(user=coordinator, kind="profile_reported").exists()


def test_an_empty_report_is_refused(client, seeker, listed):
    client.force_login(seeker)
    response = client.post(reverse("profile_report", args=[listed.mentor_profile.pk]), {"reason": ""})
    assert response.status_code == 400
    assert not ProfileReport.objects.exists()


def test_a_coordinator_approves_from_the_admin_queue(client, coordinator, new_mentor, sector):
    # R-PROFILE-3, R-COORD-2
    profile = factories.MentorProfileFactory(user=new_mentor, status="submitted", sector=sector)
    client.force_login(coordinator)
    queue = client.get(reverse("admin:matching_mentorprofile_changelist"), {"status__exact": "submitted"})
    assert new_mentor.email in queue.content.decode() or str(new_mentor) in queue.content.decode()
    client.post(
        reverse("admin:matching_mentorprofile_changelist"), {"action": "approve", "_selected_action": [profile.pk]}
    )
    profile.refresh_from_db()
    assert profile.status == "approved" and profile.reviewed_by == coordinator
    assert Notification.objects.filter(user=new_mentor, kind="profile_reviewed").exists()


def test_a_coordinator_cannot_approve_another_networks_mentor(client, coordinator, documents, scheme, other_network):
    outsider = factories.listed_mentor(scheme, other_network, status="submitted")
    client.force_login(coordinator)
    client.post(
        reverse("admin:matching_mentorprofile_changelist"),
        {"action": "approve", "_selected_action": [outsider.mentor_profile.pk]},
    )
    assert MentorProfile.objects.get(user=outsider).status == "submitted"
    url = reverse("admin:matching_mentorprofile_change", args=[outsider.mentor_profile.pk])
    assert client.get(url).status_code == 404
