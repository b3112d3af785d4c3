"""What admin pages show, to every role: no password hash, no requirement ID, no notification body;
and what they cost: the same number of queries for 10 rows as for 500 (issue 6, 1 and 10)."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.hashers import identify_hasher
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from matching.models import MenteeProfile, MentorProfile, MentorshipRequest, Sector
from mentoring.models import Pairing, Role, SchemeMembership, WaitingMentee
from messaging.models import Notification
from safeguarding.models import AuditEvent, TrainingKind, TrainingRecord
from tests.security.world import PRIVATE_BODY

ADMIN_ROLES = ("coordinator_a", "staff", "safeguarding_lead", "superuser")
R_ID = re.compile(r"\bR-[A-Z]+-\d")


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def admin_pages(world, limit_per_model: int = 1):
    """The admin's index, each app's index, and each model's list, add page and change page."""
    yield reverse("admin:index")
    for app_label in sorted({model._meta.app_label for model in admin.site._registry}):
        yield reverse("admin:app_list", args=[app_label])
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        yield admin_url(model, "changelist")
        yield admin_url(model, "add")
        own = sorted(world.a.get(model, ()))[:limit_per_model]
        if not own:
            own = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:limit_per_model])
        for pk in own:
            yield admin_url(model, "change", pk)


def walk(client, world, role):
    client.force_login(world.people[role])
    for url in admin_pages(world):
        response = client.get(url)
        # 404: an app index with nothing this role may see.
        assert response.status_code in (200, 403, 404), f"{role}: {url} gave {response.status_code}"
        if response.status_code == 200:
            yield url, response.content.decode()


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_no_admin_page_shows_a_password_hash(client, world, role):
    # Issue 6, 1: no password hash on the user page, for any role
    hashes = {user.password for user in User.objects.exclude(password="")}
    algorithm = identify_hasher(world.mentee_a.password).algorithm
    client.force_login(world.people[role])
    pages = [admin_url(User, "change", pk) for pk in (world.mentee_a.pk, world.people[role].pk)]
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        html = response.content.decode()
        shown = [h for h in hashes if h in html or h.split("$")[-1][:6] in html]
        assert not shown, f"{url} shows a password hash to {role}"
        summary = re.findall(r"<strong>(algorithm|iterations|salt|hash)</strong>", html)
        assert not summary, f"{url} shows the hash summary ({summary}, {algorithm}) to {role}"


def test_no_admin_page_shows_a_requirement_id(client, world):
    # Issue 6, 1: requirement IDs are for the code, not for the people who read the pages
    found = {}
    for url, html in walk(client, world, "superuser"):
        ids = sorted(set(R_ID.findall(html)))
        if ids:
            found[url] = ids
    assert not found, f"requirement IDs on admin pages: {found}"


@pytest.mark.parametrize("role", ("coordinator_a", "staff", "safeguarding_lead"))
def test_no_admin_page_shows_a_notification_body(client, world, role):
    # Issue 6, 1: a notification body can hold a mentee's private request text
    client.force_login(world.people[role])
    pages = [reverse("admin:index"), admin_url(Notification, "changelist")]
    pages += [
        admin_url(Notification, view, pk) for pk in sorted(world.a[Notification]) for view in ("change", "history")
    ]
    shown = set()
    for url in pages:
        response = client.get(url)
        if response.status_code == 200 and PRIVATE_BODY in response.content.decode():
            shown.add(url)
    searched = client.get(admin_url(Notification, "changelist"), {"q": "manager is making"})
    if searched.status_code == 200:
        assert not searched.context["cl"].result_list, "notifications can be found by the words of their body"
    assert not shown, f"{role} sees notification bodies on {sorted(shown)}"


# --- Query counts -----------------------------------------------------------------------------------------------


def grow(world, start: int, stop: int) -> None:
    """Rows numbered start..stop-1 in network A of every big list: members, memberships, profiles, requests,
    pairings, training records, notifications and audit events, as the admin would meet them."""
    scheme, network, recorder = world.scheme, world.network_a, world.staff
    sector = Sector.objects.first()
    now = timezone.now()
    numbers = range(start, stop)
    mentees = User.objects.bulk_create(
        User(email=f"bulk-mentee-{n}@example.org", first_name=f"Mentee{n}", last_name="Bulk", password="!")
        for n in numbers
    )
    mentors = User.objects.bulk_create(
        User(email=f"bulk-mentor-{n}@example.org", first_name=f"Mentor{n}", last_name="Bulk", password="!")
        for n in numbers
    )
    SchemeMembership.objects.bulk_create(
        [SchemeMembership(user=u, scheme=scheme, network=network, role=Role.MENTEE) for u in mentees]
        + [SchemeMembership(user=u, scheme=scheme, network=network, role=Role.MENTOR) for u in mentors]
    )
    MentorProfile.objects.bulk_create(
        MentorProfile(
            user=u, role_title="Engineer", work_history="Years.", sector=sector, country="GB", reviewed_by=recorder
        )
        for u in mentors
    )
    MenteeProfile.objects.bulk_create(MenteeProfile(user=u, goals="Chartership.", sector=sector) for u in mentees)
    MentorshipRequest.objects.bulk_create(
        MentorshipRequest(scheme=scheme, mentee=a, mentor=b, message="Hello.", expires_at=now)
        for a, b in zip(mentees, mentors, strict=True)
    )
    Pairing.objects.bulk_create(
        Pairing(scheme=scheme, mentee=a, mentor=b, network=network, created_by=recorder)
        for a, b in zip(mentees, mentors, strict=True)
    )
    TrainingRecord.objects.bulk_create(
        TrainingRecord(user=u, kind=TrainingKind.MENTOR_TRAINING, completed_on=now.date(), recorded_by=recorder)
        for u in mentors
    )
    Notification.objects.bulk_create(Notification(user=u, kind="welcome", title="Welcome") for u in mentees)
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=recorder, action="membership.status", target_user=u, object_repr=str(u)) for u in mentees
    )


def changelist_queries(client, model) -> int | None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    if response.status_code != 200:
        return None
    return len(queries)


def test_admin_changelists_cost_the_same_for_10_rows_as_for_500(client, world):
    # Issue 6, 10: a changelist does not query once per row (as staff, and as a coordinator, whose lists are scoped)
    # The lists that grow here; the others cannot differ.
    models = [User, SchemeMembership, WaitingMentee, MentorProfile, MenteeProfile, MentorshipRequest, Pairing]
    models += [TrainingRecord, Notification, AuditEvent]
    grow(world, 0, 10)
    counts = {}
    for role in ("staff", "coordinator_a"):
        client.force_login(world.people[role])
        for model in models:
            changelist_queries(client, model)  # warm the per-process caches (the engine's current documents)
        counts[role] = {m._meta.label: changelist_queries(client, m) for m in models}
    grow(world, 10, 500)
    differ = []
    for role in ("staff", "coordinator_a"):
        client.force_login(world.people[role])
        for model in models:
            small, large = counts[role][model._meta.label], changelist_queries(client, model)
            if small != large:
                differ.append(f"{model._meta.label} as {role}: {small} queries for 10 rows, {large} for 500")
    assert not differ, "\n".join(differ)
    assert apps.get_model("accounts", "User").objects.count() > 1000
