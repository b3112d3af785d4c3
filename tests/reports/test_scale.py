"""Queries that do not grow with rows (issue 11, item 6): the dashboard and each of the coordinators' and staff's
admin lists ask as many queries with 10 rows of everything as with 500. A count that grows is a query per row."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from matching.models import MenteeProfile, MentorProfile, MentorshipRequest
from mentoring.models import Feedback, Meeting, Pairing, Role, SchemeMembership
from tests import factories

DAY = datetime.timedelta(days=1)

CHANGELISTS = [
    "accounts_user",  # members
    "mentoring_schememembership",
    "mentoring_pairing",
    "matching_mentorshiprequest",
    "mentoring_meeting",
    "mentoring_feedback",
    "matching_mentorprofile",
    "matching_menteeprofile",
    "mentoring_waitingmentee",
]


@pytest.fixture
def grow(documents, scheme, network, other_network):
    """A function adding `n` mentors, `n` mentees and between them `n` pairings (every other one ended, so its
    mentee waits again), each with a request, a meeting and feedback; in both networks, by bulk inserts."""
    sector = factories.SectorFactory()
    made = {"n": 0}

    def add(n: int) -> None:
        start = 2 * made["n"]  # two members per step
        made["n"] += n
        now = timezone.now()
        users = User.objects.bulk_create(
            User(
                email=f"scale{start + i}@example.org",
                first_name=f"Member{start + i}",
                last_name="Scale",
                country="GB" if i % 3 else "FR",
            )
            for i in range(2 * n)
        )
        mentors, mentees = users[0::2], users[1::2]
        nets = [network, other_network]
        SchemeMembership.objects.bulk_create(
            SchemeMembership(
                user=u,
                scheme=scheme,
                network=nets[i % 2],
                role=role,
                status=SchemeMembership.Status.ACTIVE,
                joined_at=now - (i % 90) * DAY,
            )
            for people, role in ((mentors, Role.MENTOR), (mentees, Role.MENTEE))
            for i, u in enumerate(people)
        )
        MentorProfile.objects.bulk_create(
            MentorProfile(user=u, role_title="Engineer", work_history="x", sector=sector, country="GB") for u in mentors
        )
        MenteeProfile.objects.bulk_create(MenteeProfile(user=u, goals="Chartership") for u in mentees)
        pairings = Pairing.objects.bulk_create(
            Pairing(
                scheme=scheme,
                network=nets[i % 2],
                mentor=mentor,
                mentee=mentee,
                status=Pairing.Status.ENDED if i % 2 else Pairing.Status.ACTIVE,
                started_at=now - 60 * DAY,
                ended_at=now - DAY if i % 2 else None,
                end_reason="goals_met" if i % 2 else "",
            )
            for i, (mentor, mentee) in enumerate(zip(mentors, mentees, strict=True))
        )
        MentorshipRequest.objects.bulk_create(
            MentorshipRequest(
                scheme=scheme,
                mentee=p.mentee,
                mentor=p.mentor,
                message="Please",
                status=MentorshipRequest.Status.ACCEPTED,
                pairing=p,
                expires_at=now + 14 * DAY,
            )
            for p in pairings
        )
        Meeting.objects.bulk_create(
            Meeting(
                pairing=p,
                proposed_by=p.mentee,
                starts_at=now - 30 * DAY,
                duration_minutes=60,
                status=Meeting.Status.HELD,
                marked_by=p.mentor,
            )
            for p in pairings
        )
        Feedback.objects.bulk_create(
            Feedback(pairing=p, member=p.mentee, stage=Feedback.Stage.MIDPOINT, rating=1 + i % 5)
            for i, p in enumerate(pairings)
        )

    return add


def query_count(client, url: str, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["coordinator", "scheme_staff"])
@pytest.mark.parametrize("route", CHANGELISTS)
def test_each_admin_list_asks_as_many_queries_with_10_rows_as_with_500(client, grow, request, who, route):
    # R-COORD-4, issue 11 item 6: the coordinator's and staff's lists do not query per row
    client.force_login(request.getfixturevalue(who))
    url = reverse(f"admin:{route}_changelist")
    grow(10)
    query_count(client, url)  # warm what the process caches (the viewer's groups, names)
    small = query_count(client, url)
    grow(490)
    large = query_count(client, url)
    assert small == large, f"{route} as {who}: {small} queries with 10 rows, {large} with 500"


@pytest.mark.parametrize("who", ["coordinator", "scheme_staff"])
@pytest.mark.parametrize(
    "params", [{}, {"date_from": "2000-01-01", "date_to": "2100-01-01"}, {"country": "GB"}], ids=["all", "dates", "GB"]
)
def test_the_dashboard_asks_as_many_queries_with_10_rows_as_with_500(client, grow, request, who, params):
    # R-REPORT-1, issue 11 item 6
    client.force_login(request.getfixturevalue(who))
    url = reverse("reports_dashboard")
    grow(10)
    query_count(client, url, params)
    small = query_count(client, url, params)
    grow(490)
    large = query_count(client, url, params)
    assert small == large, f"the dashboard as {who}: {small} queries with 10 rows, {large} with 500"
