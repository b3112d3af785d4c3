# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The Safeguarding Lead's own pages (R-SAFE-2): the queue by urgency and age, with its filters and counts; the case
page with the people, the pairing, the message and the way to the audited conversation; triage along the allowed
moves only, notes, actions and an outcome to close; suspend and lift. Every step audited. Nobody outside the Lead
group sees any of it (coordinators and staff: 404, the admin lists nothing), and the pages need two-factor."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from mentoring import suspension
from messaging.models import Notification
from messaging.services import message_post
from safeguarding import concerns
from safeguarding.models import AuditEvent, Concern, ConcernNote, Suspension
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401


@pytest.fixture
def concern(started, safeguarding_lead):
    """Amara reports a message from her mentor David as a concern."""
    message = message_post(conversation_id=started.conversation.pk, sender=started.mentor, body="Come alone.")
    return concerns.concern_raise(
        reporter=started.mentee, what_happened="He wants to meet alone.", immediate_risk=True, message=message
    )


def post_as(client, user, name, concern, data):
    client.force_login(user)
    return client.post(reverse(name, args=[concern.pk]), data)


NOTE = {"note-text": "Called the mentee; she is safe at home."}
ACTION = {"action-text": "Spoke to the mentor's employer."}
SUSPEND = {"suspend-confirm": "on"}
LIFT = {"lift-confirm": "on"}


def move(status, outcome=""):
    return {"move-status": status, "move-outcome": outcome}


def test_the_queue_puts_open_before_closed_urgent_first_then_the_oldest_and_counts_each(
    client, started, safeguarding_lead
):
    # R-SAFE-2: a queue by urgency and age; a filter by state with counts
    def raise_(risk, days_ago, status="new"):
        c = concerns.concern_raise(
            reporter=started.mentee, what_happened="x", immediate_risk=risk, person=started.mentor
        )
        Concern.objects.filter(pk=c.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=days_ago),
            status=status,
            outcome="Done." if status == "closed" else "",
        )
        return c.pk

    calm, old_closed_urgent, urgent, old_calm_triaged = (
        raise_(False, 1),
        raise_(True, 30, "closed"),
        raise_(True, 2),
        raise_(False, 9, "triaged"),
    )
    client.force_login(safeguarding_lead)
    response = client.get(reverse("concern_list"))
    assert [c.pk for c in response.context["page"]] == [urgent, old_calm_triaged, calm]
    counts = {key: count for key, _, count in response.context["filters"]}
    assert counts == {"open": 3, "new": 2, "triaged": 1, "action_taken": 0, "closed": 1, "all": 4}
    assert response.context["urgent_open"] == 1
    everything = client.get(reverse("concern_list") + "?status=all").context["page"]
    assert [c.pk for c in everything] == [urgent, old_calm_triaged, calm, old_closed_urgent]
    closed = client.get(reverse("concern_list") + "?status=closed").context["page"]
    assert [c.pk for c in closed] == [old_closed_urgent]
    odd = client.get(reverse("concern_list") + "?status=<script>&page=abc")
    assert odd.status_code == 200 and odd.context["status"] == "open"


def test_the_case_page_shows_the_people_the_pairing_the_message_and_the_way_to_the_conversation(
    client, started, concern, safeguarding_lead
):
    client.force_login(safeguarding_lead)
    html = client.get(concern.get_absolute_url()).content.decode()
    assert started.mentee.email in html and started.mentor.email in html
    assert f"{started.mentor.get_full_name()} mentoring {started.mentee.get_full_name()}" in html
    assert "Reported message" in html and "From David" in html
    assert "Come alone." not in html  # the message itself only through the audited access
    assert f"{reverse('conversation_access', args=[started.conversation.pk])}?concern={concern.pk}" in html
    for name in ("concern_note_add", "concern_action_add", "concern_status_set", "member_suspend"):
        assert reverse(name, args=[concern.pk]) in html
    assert AuditEvent.objects.filter(action="concern.viewed", actor=safeguarding_lead).count() == 1


def test_a_concern_moves_only_along_the_allowed_transitions(client, concern, safeguarding_lead):
    # R-SAFE-2 and DESIGN: new -> triaged -> action_taken -> closed
    for status in ("action_taken", "closed", "new", "nonsense"):
        response = post_as(client, safeguarding_lead, "concern_status_set", concern, move(status, "Outcome."))
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    concern.refresh_from_db()
    assert concern.status == "new"
    assert post_as(client, safeguarding_lead, "concern_status_set", concern, move("triaged")).status_code == 302
    concern.refresh_from_db()
    assert concern.status == "triaged"
    event = AuditEvent.objects.get(action="concern.status_changed")
    assert (event.actor, event.detail) == (safeguarding_lead, {"previous": "new", "status": "triaged"})


def test_action_taken_needs_an_action_recorded_and_closing_needs_the_outcome(client, concern, safeguarding_lead):
    # R-SAFE-2: actions taken and an outcome (required to close)
    post_as(client, safeguarding_lead, "concern_status_set", concern, move("triaged"))
    response = post_as(client, safeguarding_lead, "concern_status_set", concern, move("action_taken"))
    assert response.status_code == 400 and "Record the action you took" in response.content.decode()
    assert post_as(client, safeguarding_lead, "concern_action_add", concern, ACTION).status_code == 302
    assert post_as(client, safeguarding_lead, "concern_status_set", concern, move("action_taken")).status_code == 302
    response = post_as(client, safeguarding_lead, "concern_status_set", concern, move("closed", "   "))
    assert (
        response.status_code == 400 and "Write the outcome before you close the concern." in response.content.decode()
    )
    outcome = "Mentor spoken to; mentee supported; no further risk."
    assert post_as(client, safeguarding_lead, "concern_status_set", concern, move("closed", outcome)).status_code == 302
    concern.refresh_from_db()
    assert (concern.status, concern.outcome) == ("closed", outcome)
    response = post_as(client, safeguarding_lead, "concern_status_set", concern, move("triaged"))
    assert response.status_code == 400
    concern.refresh_from_db()
    assert concern.status == "closed"
    actions = [e.action for e in AuditEvent.objects.filter(action__startswith="concern.").order_by("pk")]
    assert actions == [
        "concern.raised",
        "concern.status_changed",
        "concern.action_recorded",
        "concern.status_changed",
        "concern.status_changed",
    ]


def test_notes_are_appended_and_shown_in_order_never_edited(client, concern, safeguarding_lead):
    # R-SAFE-2: notes (append-only)
    post_as(client, safeguarding_lead, "concern_note_add", concern, NOTE)
    post_as(client, safeguarding_lead, "concern_note_add", concern, {"note-text": "Second note."})
    notes = list(concern.notes.values_list("kind", "text", "author"))
    assert notes == [
        ("note", NOTE["note-text"], safeguarding_lead.pk),
        ("note", "Second note.", safeguarding_lead.pk),
    ]
    html = client.get(concern.get_absolute_url()).content.decode()
    assert html.index(NOTE["note-text"]) < html.index("Second note.")
    event = AuditEvent.objects.filter(action="concern.note_added").first()
    assert NOTE["note-text"] not in str(event.detail)  # the audit says a note was added, not what it says
    response = post_as(client, safeguarding_lead, "concern_note_add", concern, {"note-text": "  "})
    assert response.status_code == 400 and "Write your note." in response.content.decode()
    assert ConcernNote.objects.count() == 2


def test_the_lead_suspends_from_the_case_page_and_lifts(client, started, concern, safeguarding_lead):
    # R-SAFE-2: suspend a member at once, and lift it
    response = post_as(client, safeguarding_lead, "member_suspend", concern, {})
    assert response.status_code == 400 and "Tick the box to confirm" in response.content.decode()
    assert not Suspension.objects.exists()
    response = post_as(client, safeguarding_lead, "member_suspend", concern, SUSPEND)
    assert response.status_code == 302
    record = Suspension.objects.get()
    assert (record.member, record.concern, record.suspended_by) == (started.mentor, concern, safeguarding_lead)
    html = client.get(concern.get_absolute_url()).content.decode()
    assert "Suspended" in html and reverse("suspension_lift", args=[concern.pk]) in html
    assert "paused since" in html
    again = post_as(client, safeguarding_lead, "member_suspend", concern, SUSPEND)
    assert again.status_code == 400 and "suspended already" in again.content.decode()
    assert post_as(client, safeguarding_lead, "suspension_lift", concern, LIFT).status_code == 302
    record.refresh_from_db()
    assert record.lifted_by == safeguarding_lead
    assert started.mentor.memberships.get(scheme=started.scheme).status == "active"


def test_a_concern_with_nobody_on_the_platform_has_no_one_to_suspend(client, mentee, safeguarding_lead):
    concern = concerns.concern_raise(
        reporter=mentee, what_happened="A stranger.", immediate_risk=False, person_name="A man"
    )
    client.force_login(safeguarding_lead)
    assert reverse("member_suspend", args=[concern.pk]) not in client.get(concern.get_absolute_url()).content.decode()
    response = post_as(client, safeguarding_lead, "member_suspend", concern, SUSPEND)
    assert response.status_code == 400 and "no one to suspend" in response.content.decode()


LEAD_POSTS = [
    ("concern_note_add", NOTE),
    ("concern_action_add", ACTION),
    ("concern_status_set", move("triaged")),
    ("member_suspend", SUSPEND),
    ("suspension_lift", LIFT),
]


def everything() -> tuple:
    return (
        Concern.objects.values_list("status").first(),
        ConcernNote.objects.count(),
        Suspension.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        LogEntry.objects.count(),
    )


@pytest.mark.parametrize("who", ["coordinator", "staff", "reporter", "person", "stranger", "involved lead"])
def test_nobody_outside_the_lead_group_reaches_any_concern_page(
    client, started, concern, who, coordinator, scheme_staff, scheme, network
):
    # R-SAFE-2 (and R-SAFE-1): coordinators and staff get 404 on every concern page; so do the reporter, the person
    # it is about, and a Lead who is part of it; nothing is written
    involved_lead = started.mentee
    involved_lead.is_staff = True
    involved_lead.save(update_fields=["is_staff"])
    involved_lead.groups.add(Group.objects.get(name=settings.GROUP_SAFEGUARDING_LEAD))
    TOTP.activate(involved_lead, generate_totp_secret())
    person = {
        "coordinator": coordinator,
        "staff": scheme_staff,
        "reporter": started.mentee,
        "person": started.mentor,
        "stranger": factories.eligible_mentee(scheme, network),
        "involved lead": involved_lead,
    }[who]
    if who == "reporter":
        involved_lead.groups.clear()
        involved_lead.is_staff = False
        involved_lead.save(update_fields=["is_staff"])
    client.force_login(person)
    before = everything()
    assert client.get(reverse("concern_list")).status_code == (404 if who != "involved lead" else 200)
    assert client.get(concern.get_absolute_url()).status_code == 404
    for name, data in LEAD_POSTS:
        assert client.post(reverse(name, args=[concern.pk]), data).status_code == 404, name
    assert everything() == before
    html = client.get(reverse("mentoring_home"), follow=True).content.decode()
    assert f'href="{reverse("concern_list")}"' not in html or who == "involved lead"


def test_a_lead_the_concern_involves_does_not_see_it_in_the_queue_either(client, started, safeguarding_lead):
    about_the_lead = concerns.concern_raise(
        reporter=started.mentee, what_happened="x", immediate_risk=False, person_name="Morgan"
    )
    Concern.objects.filter(pk=about_the_lead.pk).update(person=safeguarding_lead)
    other = concerns.concern_raise(reporter=started.mentee, what_happened="y", immediate_risk=False, person_name="B")
    client.force_login(safeguarding_lead)
    assert client.get(about_the_lead.get_absolute_url()).status_code == 404
    listing = client.get(reverse("concern_list") + "?status=all")
    assert [c.pk for c in listing.context["page"]] == [other.pk]
    assert {key: count for key, _, count in listing.context["filters"]}["all"] == 1


def test_the_nav_shows_concerns_to_the_lead_group_only(client, mentee, safeguarding_lead, coordinator, scheme_staff):
    # R-SAFE-2: a "Concerns" link in the nav for the Lead group only
    link = f'href="{reverse("concern_list")}"'
    for person, shown in ((safeguarding_lead, True), (coordinator, False), (scheme_staff, False), (mentee, False)):
        client.force_login(person)
        html = client.get(reverse("concern_new")).content.decode()
        nav = html[html.index("<nav") : html.index("</nav>")]
        assert (link in nav) is shown, person


@pytest.mark.parametrize("name", ["concern_list", "concern_detail", *[n for n, _ in LEAD_POSTS]])
def test_every_lead_page_needs_two_factor(client, concern, settings, name):
    # DESIGN (Security): TOTP two-factor for the Safeguarding Lead, like the admin
    settings.MFA_REQUIRED_FOR_STAFF = True
    unprotected = factories.UserFactory(is_staff=True)
    unprotected.groups.add(Group.objects.get(name=settings.GROUP_SAFEGUARDING_LEAD))
    client.force_login(unprotected)
    url = reverse(name) if name == "concern_list" else reverse(name, args=[concern.pk])
    data = dict(LEAD_POSTS).get(name)
    before = everything()
    response = client.post(url, data) if data is not None else client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    assert everything() == before


def test_the_admin_tells_staff_nothing_of_a_suspension(client, started, concern, safeguarding_lead, scheme_staff):
    # R-SAFE-2: the audit events, notifications and change history of a suspension are the Lead group's alone
    suspension.member_suspend(member=started.mentor, actor=safeguarding_lead, concern=concern)
    suspension.member_suspension_lift(member=started.mentor, actor=safeguarding_lead)
    client.force_login(scheme_staff)
    events = client.get(reverse("admin:safeguarding_auditevent_changelist")).context["cl"].result_list
    assert not [e for e in events if "suspen" in e.action or e.action.startswith("concern.")]
    notes = client.get(reverse("admin:messaging_notification_changelist")).context["cl"].result_list
    hidden = set(concerns.NOTIFICATION_KINDS)
    assert {"pairing_paused", "participation_suspended", "pairing_resumed", "participation_resumed"} <= hidden
    assert not [n for n in notes if n.kind in hidden]
    history = client.get(reverse("admin:auditlog_logentry_changelist")).context["cl"].result_list
    models = {entry.content_type.model for entry in history}
    assert not models & {"concern", "concernnote", "suspension"}
    client.force_login(safeguarding_lead)
    history = client.get(reverse("admin:auditlog_logentry_changelist")).context["cl"].result_list
    assert {"concern", "concernnote", "suspension"} <= {entry.content_type.model for entry in history}


def test_concerns_and_suspensions_have_no_admin_pages():
    # R-SAFE-2: the Lead's own pages, not the general admin
    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {"safeguarding.Concern", "safeguarding.ConcernNote", "safeguarding.Suspension"}
