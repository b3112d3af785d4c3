"""The coordinator's workbench on the admin home page (R-COORD-2, issue 11 item 1): each queue's count, scoped to
the viewer's networks (staff: the whole scheme), each count's link listing exactly the counted rows, the viewer's
notifications, and a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from matching import services as matching_services
from matching.models import ApprovedProfileText, MentorProfile, MentorshipRequest, ProfileReport, Sector
from mentoring import ending
from mentoring.meetings import inactive_pairings, inactivity_nudges_send
from mentoring.models import EndOfPairing, Feedback, InactivityNudge, Pairing, Role, SchemeMembership
from messaging.models import Conversation, HeldMessage, Message, Notification
from reports import workbench
from safeguarding.models import Complaint, TrainingEvent
from tests import factories
from tests.security.world import role_user

DAY = datetime.timedelta(days=1)
QUEUE_KEYS = [spec.key for spec in workbench.QUEUES]
HOME_QUERIES = 25


@dataclass
class Filled:
    """Per queue, the primary keys that must count."""

    rows: dict[str, set[int]]


def fill(scheme, network, n: int, tag: str) -> Filled:
    """n rows of every queue in `network`, written in bulk (so 200 rows take a moment), plus one row beside each
    queue that must not count: an approved profile, a resolved report, a fresh request, a lively pairing, a form
    read, feedback rated 4, a released message, a resolved complaint, an event that is over."""
    now = timezone.now()
    sector = Sector.objects.get_or_create(name="Energy")[0]
    users = User.objects.bulk_create(
        [
            User(email=f"{tag}-{kind}-{i}@example.org", first_name=f"{kind.title()}{i}", last_name=f"{tag}-{i}")
            for i in range(n + 1)
            for kind in ("mentor", "mentee", "ended", "waiting")
        ]
    )
    people = [
        dict(zip(("mentor", "mentee", "ended", "waiting"), users[i * 4 : i * 4 + 4], strict=True)) for i in range(n + 1)
    ]
    SchemeMembership.objects.bulk_create(
        [
            SchemeMembership(user=p[kind], scheme=scheme, network=network, role=role, joined_at=now - 40 * DAY)
            for p in people
            for kind, role in (
                ("mentor", Role.MENTOR),
                ("mentee", Role.MENTEE),
                ("ended", Role.MENTEE),
                ("waiting", Role.MENTEE),
            )
        ]
    )
    profiles = MentorProfile.objects.bulk_create(
        [
            MentorProfile(
                user=p["mentor"],
                role_title="Engineer",
                work_history="Years of it.",
                sector=sector,
                country="GB",
                status=MentorProfile.Status.SUBMITTED if i < n else MentorProfile.Status.APPROVED,
                submitted_at=now,
            )
            for i, p in enumerate(people)
        ]
    )
    reports = ProfileReport.objects.bulk_create(
        [
            ProfileReport(
                profile=profile,
                reporter=p["waiting"],
                reason="Claims too much.",
                status=ProfileReport.Status.OPEN if i < n else ProfileReport.Status.RESOLVED,
            )
            for i, (p, profile) in enumerate(zip(people, profiles, strict=True))
        ]
    )
    requests = MentorshipRequest.objects.bulk_create(
        [
            MentorshipRequest(
                scheme=scheme,
                mentee=p["waiting"],
                mentor=p["mentor"],
                message="Would you mentor me?",
                created_at=now - (10 if i < n else 2) * DAY,
                expires_at=now + 4 * DAY,
            )
            for i, p in enumerate(people)
        ]
    )
    running = Pairing.objects.bulk_create(
        [
            Pairing(
                scheme=scheme,
                mentor=p["mentor"],
                mentee=p["mentee"],
                network=network,
                started_at=now - (100 if i < n else 1) * DAY,
            )
            for i, p in enumerate(people)
        ]
    )
    ended = Pairing.objects.bulk_create(
        [
            Pairing(
                scheme=scheme,
                mentor=p["mentor"],
                mentee=p["ended"],
                network=network,
                status=Pairing.Status.ENDED,
                started_at=now - 200 * DAY,
                ended_at=now - DAY,
                end_reason=Pairing.EndReason.DIFFERENCES,
            )
            for p in people
        ]
    )
    ends = EndOfPairing.objects.bulk_create(
        [
            EndOfPairing(pairing=pairing, reason=pairing.end_reason, read_at=None if i < n else now)
            for i, pairing in enumerate(ended)
        ]
    )
    feedback = Feedback.objects.bulk_create(
        [
            Feedback(pairing=pairing, member=pairing.mentee, stage="end", rating=1 if i < n else 4)
            for i, pairing in enumerate(ended)
        ]
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(pairing=pairing, first_member=pairing.mentor, second_member=pairing.mentee)
            for pairing in running
        ]
    )
    messages = Message.objects.bulk_create(
        [Message(conversation=c, sender=c.first_member, body="Mail me at a@example.org") for c in conversations]
    )
    held = HeldMessage.objects.bulk_create(
        [
            HeldMessage(
                message=message,
                reasons="email",
                decision=HeldMessage.Decision.PENDING if i < n else HeldMessage.Decision.RELEASED,
                decided_at=None if i < n else now,
            )
            for i, message in enumerate(messages)
        ]
    )
    complaints = Complaint.objects.bulk_create(
        [
            Complaint(
                complainant=p["waiting"],
                about=Complaint.About.SERVICE,
                text="The service let me down.",
                status=Complaint.Status.RECEIVED if i < n else Complaint.Status.RESOLVED,
                outcome="" if i < n else "Apologised.",
            )
            for i, p in enumerate(people)
        ]
    )
    course = factories.TrainingCourseFactory()
    events = TrainingEvent.objects.bulk_create(
        [
            TrainingEvent(
                course=course,
                network=network,
                starts_at=now + (3 if i < n else -3) * DAY,
                ends_at=now + (3 if i < n else -3) * DAY + datetime.timedelta(hours=2),
                place="Savoy Place",
                capacity=10,
            )
            for i in range(n + 1)
        ]
    )
    waiting = SchemeMembership.objects.filter(
        network=network, role=Role.MENTEE, user__in=[p[k] for p in people for k in ("ended", "waiting")]
    )

    def counted(objs) -> set[int]:
        return {obj.pk for obj in objs[:n]}

    return Filled(
        {
            "profiles_to_approve": counted(profiles),
            "reported_profiles": counted(reports),
            "requests_waiting": counted(requests),
            "unmatched_mentees": set(waiting.values_list("pk", flat=True)),
            "inactive_pairings": counted(running),
            "end_forms_to_read": counted(ends),
            "low_feedback": counted(feedback),
            "held_messages": counted(held),
            "open_complaints": counted(complaints),
            "training_coming_up": counted(events),
        }
    )


@pytest.fixture
def two_networks(documents, scheme, network, other_network, coordinator):
    """London (the `coordinator`'s) with 3 rows of each queue, Scotland with 2, and Scotland's coordinator."""
    london = fill(scheme, network, 3, "london")
    scotland = fill(scheme, other_network, 2, "scotland")
    coordinator_b = role_user(settings.GROUP_COORDINATORS, first_name="Brodie")
    other_network.coordinators.add(coordinator_b)
    return london, scotland, coordinator_b


def request_of(user):
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=user.pk)  # fresh: no cached networks
    return request


def counts(user) -> dict[str, int]:
    return {queue.key: queue.count for queue in workbench.queues_for(request_of(user))}


def test_a_coordinator_counts_each_queue_of_their_own_network(two_networks, coordinator):
    # R-COORD-2: every queue, with rows beside it that must not count
    london, _, _ = two_networks
    assert counts(coordinator) == {key: len(pks) for key, pks in london.rows.items()}
    # Each of the four people sets has a mentee still waiting and one whose pairing ended.
    assert counts(coordinator)["unmatched_mentees"] == 8


def test_a_coordinator_of_another_network_counts_none_of_londons_rows(two_networks):
    # R-COORD-2, R-COORD-1: from the side of the one who must not see: Scotland's coordinator counts only Scotland
    london, scotland, coordinator_b = two_networks
    assert counts(coordinator_b) == {key: len(pks) for key, pks in scotland.rows.items()}
    for spec in workbench.QUEUES:
        model_admin = admin.site._registry[spec.model]
        seen = set(
            workbench.queue_rows(model_admin, request_of(coordinator_b), spec.params).values_list("pk", flat=True)
        )
        assert not seen & london.rows[spec.key], spec.key


def test_staff_count_the_whole_scheme(two_networks, scheme_staff):
    # R-COORD-2: staff get the same queues for the whole scheme
    london, scotland, _ = two_networks
    assert counts(scheme_staff) == {key: len(london.rows[key]) + len(scotland.rows[key]) for key in QUEUE_KEYS}


@pytest.mark.parametrize("key", QUEUE_KEYS)
def test_each_link_lists_exactly_the_rows_counted(client, two_networks, coordinator, key):
    # R-COORD-2: the count links to the admin's list filtered to the same rows
    london, _, _ = two_networks
    queue = next(q for q in workbench.queues_for(request_of(coordinator)) if q.key == key)
    client.force_login(coordinator)
    response = client.get(queue.url)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == queue.count
    assert {obj.pk for obj in changelist.result_list} == london.rows[key]


def test_the_admin_home_shows_the_workbench_with_links_and_notifications(client, two_networks, coordinator):
    # R-COORD-2: counts that link to the lists, and the coordinator's own unread notifications
    Notification.objects.create(
        user=coordinator, kind="profile_submitted", title="A profile waits for you", url="/admin/"
    )
    Notification.objects.create(
        user=coordinator, kind="profile_submitted", title="Read already", url="/admin/", read_at=timezone.now()
    )
    client.force_login(coordinator)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Your workbench: London" in page
    assert 'href="/admin/matching/mentorprofile/?status__exact=submitted"' in page
    assert "Mentor profiles to approve" in page
    assert "A profile waits for you" in page
    assert "Read already" not in page
    assert "Scotland" not in page
    assert "DBS" not in page.split("Everything in the admin")[0]  # no DBS queue for a coordinator (R-SAFE-3)


def test_the_safeguarding_lead_keeps_the_stock_home(client, two_networks, safeguarding_lead):
    client.force_login(safeguarding_lead)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["workbench"] is None


def test_members_cannot_reach_the_workbench(client, two_networks, mentor):
    # R-COORD-2: the admin home is for coordinators and staff only
    client.force_login(mentor)
    assert client.get(reverse("admin:index"), follow=True).status_code == 403


def _queries_for_home(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["coordinator", "scheme_staff"])
def test_the_home_takes_the_same_queries_at_10_and_200_rows(
    client, documents, scheme, network, coordinator, scheme_staff, who, django_assert_max_num_queries
):
    # R-COORD-2: a fixed number of queries whatever the number of rows
    viewer = {"coordinator": coordinator, "scheme_staff": scheme_staff}[who]
    fill(scheme, network, 10, "small")
    small = _queries_for_home(client, viewer)
    assert small <= HOME_QUERIES  # one per queue, the notifications, and the admin's own page
    fill(scheme, network, 190, "large")
    assert counts(viewer)["profiles_to_approve"] == 200
    with django_assert_max_num_queries(small):
        client.get(reverse("admin:index"))
    assert _queries_for_home(client, viewer) == small


def test_the_waiting_list_shows_goals_eligibility_and_referral_in_fixed_queries(
    client, documents, scheme, network, coordinator, mentor
):
    # R-COORD-2, R-MATCH-4: goals, the engine's verdict and "referred back", for the whole page at once
    referred = factories.eligible_mentee(scheme, network, first_name="Referred")
    MentorshipRequest.objects.create(
        scheme=scheme,
        mentee=referred,
        mentor=mentor,
        message="Please?",
        status=MentorshipRequest.Status.DECLINED,
        referred_to_coordinator=True,
        responded_at=timezone.now(),
        expires_at=timezone.now() + DAY,
    )
    not_eligible = factories.UserFactory(first_name="Unready")  # has accepted no documents
    factories.MembershipFactory(user=not_eligible, scheme=scheme, network=network, role=Role.MENTEE)
    client.force_login(coordinator)
    url = reverse("admin:mentoring_waitingmentee_changelist")
    response = client.get(url)
    rows = {m.user_id: m.waiting_facts for m in response.context["cl"].result_list}
    assert rows[referred.pk].eligible and rows[referred.pk].referred_back
    assert rows[referred.pk].goals == "Prepare for chartership within a year."
    assert not rows[not_eligible.pk].eligible and not rows[not_eligible.pk].referred_back
    assert "Prepare for chartership within a year." in response.content.decode()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(20):
        factories.eligible_mentee(scheme, network)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_a_changed_profile_shows_its_last_approved_text_beside_the_new(
    client, documents, scheme, network, coordinator, mentor
):
    # R-COORD-2: the change since the last approved text, side by side
    profile = factories.MentorProfileFactory(
        user=mentor, status=MentorProfile.Status.SUBMITTED, work_history="Ten years in power systems."
    )
    client.force_login(coordinator)
    url = reverse("admin:matching_mentorprofile_change", args=[profile.pk])
    assert "First submission" in client.get(url).content.decode()
    matching_services.mentor_profile_review(profile_id=profile.pk, approve=True, note="", actor=coordinator)
    profile.refresh_from_db()
    profile.work_history = "Twenty years in power systems and rail."
    matching_services.mentor_profile_save(profile=profile, expertise=[], languages=[])
    page = client.get(url).content.decode()
    assert "<del>Ten</del>" in page
    assert "<ins>Twenty</ins>" in page
    assert "<ins>and rail.</ins>" in page or "<ins>systems and rail.</ins>" in page
    assert "Summary of work history (changed)" in page
    assert "Current role (changed)" not in page


def test_marking_end_forms_read_takes_them_off_the_queue(two_networks, coordinator):
    # R-COORD-2: End of Pairing forms to read; another network's forms are refused
    london, scotland, coordinator_b = two_networks
    some = sorted(london.rows["end_forms_to_read"])[:2]
    with pytest.raises(PermissionDenied):
        ending.end_of_pairing_mark_read(record_ids=some, actor=coordinator_b)
    assert ending.end_of_pairing_mark_read(record_ids=some, actor=coordinator) == 2
    assert ending.end_of_pairing_mark_read(record_ids=some, actor=coordinator) == 0  # read once
    assert counts(coordinator)["end_forms_to_read"] == len(london.rows["end_forms_to_read"]) - 2
    assert counts(coordinator_b)["end_forms_to_read"] == len(scotland.rows["end_forms_to_read"])


def test_a_form_is_marked_read_from_its_own_page(client, two_networks, coordinator):
    # R-COORD-2: the change page's "Mark as read" posts the action for that one form
    london, _, coordinator_b = two_networks
    record = min(london.rows["end_forms_to_read"])
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_endofpairing_change", args=[record])).content.decode()
    assert "Mark as read" in page
    response = client.post(
        reverse("admin:mentoring_endofpairing_changelist") + "?read=no",
        {"action": "mark_read", "index": "0", "_selected_action": [str(record)]},
    )
    assert response.status_code == 302
    assert EndOfPairing.objects.get(pk=record).read_by == coordinator
    assert (
        "Mark as read" not in client.get(reverse("admin:mentoring_endofpairing_change", args=[record])).content.decode()
    )
    client.force_login(coordinator_b)
    assert client.get(reverse("admin:mentoring_endofpairing_change", args=[record])).status_code == 404


def test_profiles_approved_before_the_migration_keep_their_text_as_approved(documents, scheme, network, mentor):
    # R-COORD-2: the migration copies each approved profile's text, so its next change has something to compare
    approved = factories.MentorProfileFactory(user=mentor, role_title="Chief engineer")
    waiting = factories.MentorProfileFactory(status=MentorProfile.Status.SUBMITTED)
    import_module("matching.migrations.0006_approved_profile_text").keep_approved_texts(django_apps, None)
    assert ApprovedProfileText.objects.get(profile=approved).role_title == "Chief engineer"
    assert not ApprovedProfileText.objects.filter(profile=waiting).exists()


def test_inactive_pairings_are_the_ones_the_nudge_job_nudges(documents, scheme, network, mentor):
    # R-COORD-2, R-PAIR-6: one rule for "inactive", in SQL for the queue and in the daily job
    other_scheme = factories.SchemeFactory(inactivity_days=10)
    now = timezone.now()
    pairings = []
    for days_quiet, pairing_scheme in ((29, scheme), (30, scheme), (31, scheme), (9, other_scheme), (11, other_scheme)):
        mentee = factories.UserFactory()
        pairings.append(
            Pairing.objects.create(
                scheme=pairing_scheme, mentor=mentor, mentee=mentee, network=network, started_at=now - days_quiet * DAY
            )
        )
    found = set(inactive_pairings(Pairing.objects.all(), now=now).values_list("pk", flat=True))
    inactivity_nudges_send(now=now)
    nudged = set(
        InactivityNudge.objects.filter(level=InactivityNudge.Level.MEMBERS).values_list("pairing_id", flat=True)
    )
    assert found == nudged == {pairings[1].pk, pairings[2].pk, pairings[4].pk}
