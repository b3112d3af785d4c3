"""Every route that takes an object id, tried as each person who must not reach the object (DESIGN: object
access through scoped querysets; STYLE: ownership tests everywhere).

ACCESS_MATRIX maps each route name to one or more cases. A case builds an object
owned by someone, names the people who must get 404 (signed out: the sign-in
page) and the owners who must get the page, so the matrix cannot pass by
refusing everyone. A route that takes an id and has no entry fails
`test_every_route_that_takes_an_id_is_in_the_matrix`: add it here when you add
the route. The admin and allauth's account pages are covered by their own tests.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from matching.models import PairingProposal
from mentoring import agreement, suspension
from mentoring.models import AgreementVersion, CalendarFeed, Meeting, PairingGoal
from messaging.models import ConversationAccessGrant, Notification
from messaging.services import conversation_open
from safeguarding.models import TrainingBooking
from tests import factories
from tests.mentoring.agreement_world import agreement_fields, as_post

SIGNED_OUT = "signed out"
# Who never reaches another member's requests, pairings or notifications.
STRANGERS = ("other_mentee_a", "other_mentor_a", "coordinator_b", SIGNED_OUT)
# Plus the roles who may not read a member's private correspondence outside the audited route.
CONFIDENTIAL = (*STRANGERS, "staff", "safeguarding_lead", "coordinator_a")


@dataclass
class Built:
    kwargs: dict
    owners: dict  # person name -> the status they get (200, or 302 where the route redirects on success)
    obj: object = None


@dataclass(frozen=True)
class Case:
    build: Callable
    forbidden: tuple = ()
    methods: tuple = ("GET",)
    public: bool = False
    data: dict = field(default_factory=dict)


def listed_profile(world) -> Built:
    profile = world.profile_mentor_a
    return Built({"pk": profile.pk}, {"mentor_a": 200, "mentee_a": 200, "mentee_b": 200}, profile)


def unlisted_profile(world) -> Built:
    profile = world.profile_submitted_mentor_a
    return Built({"pk": profile.pk}, {"submitted_mentor_a": 200}, profile)


def unlisted_profile_nobody_may_ask(world) -> Built:
    # Its author is no mentee, so no one may ask; the listed case above shows the route works.
    profile = world.profile_submitted_mentor_a
    return Built({"pk": profile.pk}, {}, profile)


def profile_for(owner_status: dict):
    def build(world) -> Built:
        profile = world.profile_mentor_a
        return Built({"pk": profile.pk}, owner_status, profile)

    return build


def request_seen_by(owners: dict):
    def build(world) -> Built:
        return Built({"pk": world.request_a.pk}, owners, world.request_a)

    return build


def proposal_seen_by(owners: dict):
    def build(world) -> Built:
        # A coordinator's proposal of mentor_a for mentee_a in network A (issue 11, R-MATCH-3), made fresh each time.
        PairingProposal.objects.filter(mentee=world.mentee_a, mentor=world.mentor_a).delete()
        proposal = PairingProposal.objects.create(
            scheme=world.scheme,
            network=world.network_a,
            mentee=world.mentee_a,
            mentor=world.mentor_a,
            origin=PairingProposal.Origin.MANUAL,
            proposed_by=world.coordinator_a,
        )
        return Built({"pk": proposal.pk}, owners, proposal)

    return build


def pairing_seen_by(owners: dict):
    def build(world) -> Built:
        return Built({"pk": world.pairing_a.pk}, owners, world.pairing_a)

    return build


def active_pairing_seen_by(owners: dict):
    def build(world) -> Built:
        return Built({"pk": world.pairing_a_dual.pk}, owners, world.pairing_a_dual)

    return build


def feedback_of(owners: dict):
    def build(world) -> Built:
        return Built({"pk": world.pairing_a.pk, "stage": "end"}, owners, world.pairing_a)

    return build


def own_membership(owners: dict):
    def build(world) -> Built:
        membership = world.mentee_a.memberships.get(scheme=world.scheme)
        return Built({"pk": membership.pk}, owners, membership)

    return build


def own_notification(world) -> Built:
    note = Notification.objects.create(user=world.mentee_a, kind="welcome", title="Welcome", url="/onboarding/")
    return Built({"pk": note.pk}, {"mentee_a": 302}, note)


def own_complaint(world) -> Built:
    return Built({"pk": world.complaint_a.pk}, {"mentee_a": 200}, world.complaint_a)


def a_document(world) -> Built:
    return Built({"kind": "terms"}, {SIGNED_OUT: 200, "mentee_a": 200})


def agreement_version_of(owners: dict, *, with_number: bool = True):
    def build(world) -> Built:
        # Each build writes a new version (a draft identical to the latest one is refused).
        fields = agreement_fields(frequency=f"Version {AgreementVersion.objects.count() + 1}")
        version = agreement.agreement_draft(pairing=world.pairing_a_dual, actor=world.dual, fields=fields)
        kwargs = {"pk": world.pairing_a_dual.pk} | ({"number": version.number} if with_number else {})
        return Built(kwargs, owners, version)

    return build


def a_meeting(owners: dict, *, status: str = "proposed", days: int = 7, proposed_by: str = "dual2"):
    """A fresh meeting of pairing_a_dual (dual2 mentors dual), so an owner's POST changes only its own."""

    def build(world) -> Built:
        meeting = Meeting.objects.create(
            pairing=world.pairing_a_dual,
            proposed_by=world.people[proposed_by],
            starts_at=timezone.now() + datetime.timedelta(days=days),
            duration_minutes=60,
            status=status,
        )
        return Built({"pk": meeting.pk}, owners, meeting)

    return build


def a_goal_seen_by(owners: dict):
    def build(world) -> Built:
        goal = PairingGoal.objects.create(pairing=world.pairing_a_dual, text="Pass the interview")
        return Built({"pk": world.pairing_a_dual.pk, "goal_pk": goal.pk}, owners, goal)

    return build


def conversation_of_pairing_a_dual(owners: dict):
    """pairing_a_dual's conversation (world pairings are made directly, not by pairing_start, so open it here)."""

    def build(world) -> Built:
        conversation = conversation_open(pairing=world.pairing_a_dual, members=[world.dual2, world.dual])
        return Built({"pk": conversation.pk}, owners, conversation)

    return build


def message_of_dual2(owners: dict):
    """dual2's reported message in pairing_a_dual's conversation: only dual, its other member, may report it."""

    def build(world) -> Built:
        message = world.reported_message_a
        return Built({"pk": message.conversation_id, "message_pk": message.pk}, owners, message)

    return build


def conversation_for_readers(owners: dict):
    """pairing_a_dual's conversation, which a complaint in the world is about: staff and the Lead may ask."""

    def build(world) -> Built:
        conversation = world.reported_message_a.conversation
        return Built({"pk": conversation.pk}, owners, conversation)

    return build


def access_grant(owners: dict, *, hours_ago: int = 0):
    """A fresh grant of staff to read pairing_a_dual's conversation for the world's complaint (or one that ended)."""

    def build(world) -> Built:
        start = timezone.now() - datetime.timedelta(hours=hours_ago)
        grant = ConversationAccessGrant.objects.create(
            reader=world.staff,
            conversation=world.reported_message_a.conversation,
            complaint=world.complaint_a_message,
            reason="Looking into the complaint.",
            created_at=start,
            expires_at=start + datetime.timedelta(hours=24),
        )
        return Built({"pk": grant.pk}, owners, grant)

    return build


def a_concern(world) -> Built:
    concern = world.concern_b_message
    return Built({"pk": concern.pk}, {"safeguarding_lead": 200, "superuser": 200}, concern)


def concern_handled_by(owners: dict, *, suspended: bool = False):
    """Issue 9: the world's concern (about dual, raised by mentee_b), for the Lead's actions on it; with dual
    suspended already, to lift it."""

    def build(world) -> Built:
        concern = world.concern_b_message
        if suspended:
            suspension.member_suspend(member=world.dual, actor=world.safeguarding_lead, concern=concern)
        return Built({"pk": concern.pk}, owners, concern)

    return build


def pairing_a_dual(owners: dict):
    def build(world) -> Built:
        return Built({"pk": world.pairing_a_dual.pk}, owners, world.pairing_a_dual)

    return build


def training_event_in_a(owners: dict):
    """A fresh upcoming event of network A: its members may book it, no one outside A reaches it."""

    def build(world) -> Built:
        event = factories.TrainingEventFactory(network=world.network_a)
        return Built({"pk": event.pk}, owners, event)

    return build


def training_booking_of_mentor_a(world) -> Built:
    event = factories.TrainingEventFactory(network=world.network_a)
    booking = TrainingBooking.objects.create(event=event, member=world.mentor_a)
    return Built({"pk": booking.pk}, {"mentor_a": 302}, booking)


# Issue 9: who is not a member of network A (and so never sees its training events).
OUTSIDE_NETWORK_A = ("mentee_b", "mentor_b", "waiting_b", "coordinator_a", "coordinator_b", "staff", SIGNED_OUT)
TRAINING_ROUTES = {
    "training_event_book": (
        Case(training_event_in_a({"mentor_a": 302}), forbidden=OUTSIDE_NETWORK_A, methods=("POST",)),
    ),
    # A booking is its member's alone, even to the others of the network.
    "training_booking_cancel": (
        Case(
            training_booking_of_mentor_a,
            forbidden=(*OUTSIDE_NETWORK_A, "other_mentor_a", "mentee_a", "safeguarding_lead"),
            methods=("POST",),
        ),
    ),
}


def reports_of(owners: dict, **kwargs):
    """Issue 11: the staff dashboards, whole scheme for staff, their own networks for a coordinator."""

    def build(world) -> Built:
        return Built(kwargs, owners)

    return build


# Issue 11 (R-REPORT-1, R-REPORT-2, R-COORD-2): staff and coordinators only; members, the Safeguarding Lead
# and the signed out never. A coordinator of another network gets 404 on network A's figures:
# tests/security/test_reports_access.py asks each route with ?network=A, /reports/ itself (no id) included.
NOT_REPORT_READERS = (
    "mentee_a",
    "mentor_a",
    "other_mentee_a",
    "other_mentor_a",
    "dual",
    "safeguarding_lead",
    SIGNED_OUT,
)
REPORT_READERS = {"staff": 200, "coordinator_a": 200, "coordinator_b": 200, "superuser": 200}
REPORT_ROUTES = {
    "reports_csv": (
        Case(reports_of(REPORT_READERS, table="members-by-role"), forbidden=NOT_REPORT_READERS),
        # The scheme-wide counts of concerns and complaints are staff's alone.
        Case(
            reports_of({"staff": 200, "superuser": 200}, table="safeguarding"),
            forbidden=(*NOT_REPORT_READERS, "coordinator_a", "coordinator_b"),
        ),
    ),
}


# Issue 7, agreement part: a member of the pair and nobody else; the mentor's session notes, the mentor alone.
PAIR_A_DUAL = {"dual": 200, "dual2": 200}
NOT_THE_PAIR = (*CONFIDENTIAL, "mentee_a", "mentor_a", "superuser")
AGREEMENT_ROUTES = {
    "agreement_detail": (
        Case(active_pairing_seen_by(PAIR_A_DUAL), forbidden=NOT_THE_PAIR),
        Case(
            active_pairing_seen_by({"dual": 302}),
            forbidden=NOT_THE_PAIR,
            methods=("POST",),
            data=as_post(agreement_fields()),
        ),
    ),
    "agreement_confirm": (
        Case(
            agreement_version_of({"dual2": 302}, with_number=False),
            forbidden=NOT_THE_PAIR,
            methods=("POST",),
            data={"number": "1"},
        ),
    ),
    "agreement_version": (Case(agreement_version_of(PAIR_A_DUAL), forbidden=NOT_THE_PAIR),),
    "goals_list": (
        Case(active_pairing_seen_by(PAIR_A_DUAL), forbidden=NOT_THE_PAIR),
        Case(active_pairing_seen_by({"dual": 302}), forbidden=NOT_THE_PAIR, methods=("POST",), data={"text": "x"}),
    ),
    "goal_status": (
        Case(a_goal_seen_by({"dual2": 302}), forbidden=NOT_THE_PAIR, methods=("POST",), data={"status": "achieved"}),
    ),
    "goal_progress": (
        Case(
            a_goal_seen_by({"dual": 302}),
            forbidden=NOT_THE_PAIR,
            methods=("POST",),
            data={"date": "2020-01-01", "note": "x"},
        ),
    ),
    # R-PAIR-8: the mentee partner is refused like everyone else.
    "session_notes": (
        Case(active_pairing_seen_by({"dual2": 200}), forbidden=(*NOT_THE_PAIR, "dual")),
        Case(
            active_pairing_seen_by({"dual2": 302}),
            forbidden=(*NOT_THE_PAIR, "dual"),
            methods=("POST",),
            data={"date": "2020-01-01", "text": "x"},
        ),
        Case(pairing_seen_by({"mentor_a": 200}), forbidden=(*CONFIDENTIAL, "mentee_a", "superuser")),
    ),
}


def a_calendar_feed(world) -> Built:
    # The token is the key: whoever holds it reads the feed, signed in or not (a calendar app is not).
    feed = CalendarFeed.objects.create(user=world.dual)
    return Built({"token": feed.token}, {SIGNED_OUT: 200, "mentee_a": 200}, feed)


# Everyone but the staff member a grant belongs to, the Safeguarding Lead and a superuser included.
NOT_THE_READER = (*STRANGERS, "coordinator_a", "safeguarding_lead", "superuser", "dual", "dual2", "mentee_a")

# Who never reaches the world's concern: all but the Safeguarding Lead group, its reporter (mentee_b) and the person
# it is about (dual) included.
NOT_THE_LEAD = (*STRANGERS, "staff", "coordinator_a", "dual", "mentee_b")

# Everyone outside pairing_a_dual (dual2 mentoring dual).
NOT_IN_DUAL_PAIRING = (*CONFIDENTIAL, "mentee_a", "mentor_a")
MEETING_TIME = {"starts_local": "2030-01-07T10:00", "duration_minutes": "60"}

# Profiles are listed to the mentees of the scheme; no one else browses them.
NOT_MENTEES = ("other_mentor_a", "mentee_elsewhere", "coordinator_b", "staff", SIGNED_OUT)

ACCESS_MATRIX: dict[str, tuple[Case, ...]] = {
    "document_detail": (Case(a_document, public=True),),
    "mentor_detail": (
        Case(listed_profile, forbidden=NOT_MENTEES),
        # Not yet approved: no mentee sees it, only its author.
        Case(unlisted_profile, forbidden=(*NOT_MENTEES, "mentee_a", "mentee_b")),
    ),
    "profile_report": (
        Case(profile_for({"mentee_a": 200}), forbidden=NOT_MENTEES, methods=("GET", "POST"), data={"reason": "x"}),
        Case(unlisted_profile, forbidden=(*NOT_MENTEES, "mentee_a"), methods=("GET", "POST"), data={"reason": "x"}),
    ),
    "request_create": (
        Case(
            profile_for({"mentee_a": 200}),
            forbidden=(*NOT_MENTEES, "mentor_a"),
            methods=("GET", "POST"),
            data={"message": "Please mentor me.", "conflict_kind": "none"},
        ),
        Case(
            unlisted_profile_nobody_may_ask,
            forbidden=(*NOT_MENTEES, "mentee_a", "submitted_mentor_a"),
            methods=("GET", "POST"),
        ),
    ),
    "request_detail": (Case(request_seen_by({"mentee_a": 200, "mentor_a": 200}), forbidden=CONFIDENTIAL),),
    # Only the mentor asked answers; the mentee who asked cannot accept for them.
    "request_accept": (
        Case(request_seen_by({"mentor_a": 302}), forbidden=(*CONFIDENTIAL, "mentee_a"), methods=("POST",)),
    ),
    "request_decline": (
        Case(
            request_seen_by({"mentor_a": 302}),
            forbidden=(*CONFIDENTIAL, "mentee_a"),
            methods=("POST",),
            data={"reason": "No places."},
        ),
    ),
    "request_withdraw": (
        Case(request_seen_by({"mentee_a": 302}), forbidden=(*CONFIDENTIAL, "mentor_a"), methods=("POST",)),
    ),
    # Issue 11: a coordinator's proposed pairing is for its two members only (staff answer it nowhere).
    "proposal_detail": (Case(proposal_seen_by({"mentee_a": 200, "mentor_a": 200}), forbidden=CONFIDENTIAL),),
    "proposal_confirm": (
        Case(
            proposal_seen_by({"mentee_a": 302, "mentor_a": 302}),
            forbidden=CONFIDENTIAL,
            methods=("POST",),
            data={"conflict_kind": "none"},
        ),
    ),
    "proposal_decline": (
        Case(
            proposal_seen_by({"mentor_a": 302}),
            forbidden=CONFIDENTIAL,
            methods=("POST",),
            data={"reason": "No time this term."},
        ),
    ),
    "pairing_detail": (Case(pairing_seen_by({"mentee_a": 200, "mentor_a": 200}), forbidden=CONFIDENTIAL),),
    "pairing_rematch": (
        Case(pairing_seen_by({"mentee_a": 302}), forbidden=(*CONFIDENTIAL, "mentor_a"), methods=("POST",)),
    ),
    # Issue 7: ending, feedback, pause and withdrawal: the pairing's or the membership's own members only.
    "pairing_end": (
        Case(
            active_pairing_seen_by({"dual": 200, "dual2": 200}),
            forbidden=(*CONFIDENTIAL, "mentee_a", "mentor_a"),
            methods=("GET", "POST"),
            data={"reason": "other", "confirm": "on"},
        ),
    ),
    "pairing_feedback": (
        Case(
            feedback_of({"mentee_a": 200, "mentor_a": 200}),
            forbidden=(*CONFIDENTIAL, "dual"),
            methods=("GET", "POST"),
            data={"rating": "1", "comments": "x"},
        ),
    ),
    "membership_pause": (
        Case(own_membership({"mentee_a": 302}), forbidden=(*CONFIDENTIAL, "mentor_a", "dual"), methods=("POST",)),
    ),
    "membership_resume": (
        Case(own_membership({"mentee_a": 302}), forbidden=(*CONFIDENTIAL, "mentor_a", "dual"), methods=("POST",)),
    ),
    "membership_withdraw": (
        Case(
            own_membership({"mentee_a": 200}),
            forbidden=(*CONFIDENTIAL, "mentor_a", "dual"),
            methods=("GET", "POST"),
            data={"confirm": "on"},
        ),
    ),
    "notification_open": (Case(own_notification, forbidden=(*CONFIDENTIAL, "mentor_a"), methods=("POST",)),),
    **AGREEMENT_ROUTES,
    **TRAINING_ROUTES,
    **REPORT_ROUTES,
    # Issue 7, meetings: only the pairing's two members; answering is for the one who did not propose.
    "meeting_propose": (
        Case(
            pairing_a_dual({"dual": 200, "dual2": 200}),
            forbidden=NOT_IN_DUAL_PAIRING,
            methods=("GET", "POST"),
            data=MEETING_TIME,
        ),
    ),
    "meeting_accept": (Case(a_meeting({"dual": 302}), forbidden=NOT_IN_DUAL_PAIRING, methods=("POST",)),),
    "meeting_decline": (Case(a_meeting({"dual": 302}), forbidden=NOT_IN_DUAL_PAIRING, methods=("POST",)),),
    "meeting_cancel": (
        Case(a_meeting({"dual2": 302}, status="accepted"), forbidden=NOT_IN_DUAL_PAIRING, methods=("POST",)),
    ),
    "meeting_held": (
        Case(a_meeting({"dual": 302}, status="accepted", days=-1), forbidden=NOT_IN_DUAL_PAIRING, methods=("POST",)),
    ),
    "meeting_missed": (
        Case(a_meeting({"dual2": 302}, status="accepted", days=-1), forbidden=NOT_IN_DUAL_PAIRING, methods=("POST",)),
    ),
    "meeting_reschedule": (
        Case(
            a_meeting({"dual": 200, "dual2": 200}),
            forbidden=NOT_IN_DUAL_PAIRING,
            methods=("GET", "POST"),
            data=MEETING_TIME,
        ),
    ),
    "meeting_ics": (Case(a_meeting({"dual": 200, "dual2": 200}), forbidden=NOT_IN_DUAL_PAIRING),),
    "calendar_feed": (Case(a_calendar_feed, public=True),),
    # A complaint is read on the site by its complainant alone; coordinators and staff handle it in the admin.
    "complaint_detail": (Case(own_complaint, forbidden=(*CONFIDENTIAL, "mentor_a")),),
    # Issue 8: the pair's conversation, its two members only; staff read it only through the audited route.
    "conversation_detail": (
        Case(conversation_of_pairing_a_dual(PAIR_A_DUAL), forbidden=NOT_THE_PAIR),
        Case(
            conversation_of_pairing_a_dual({"dual": 302}),
            forbidden=NOT_THE_PAIR,
            methods=("POST",),
            data={"body": "Hello"},
        ),
    ),
    # Issue 8, reporting (R-MSG-6): the other member of the pair only; the sender cannot report their own message.
    "message_report": (
        Case(
            message_of_dual2({"dual": 200}),
            forbidden=(*NOT_THE_PAIR, "dual2"),
            methods=("GET", "POST"),
            data={"kind": "concern", "what_happened": "It worried me.", "immediate_risk": "no"},
        ),
    ),
    # Issue 8, confidential access (R-MSG-5): staff and the Safeguarding Lead ask; nobody else gets that far,
    # the pair included. A grant is its reader's alone, and one that has ended is not found even by them.
    "conversation_access": (
        Case(
            conversation_for_readers({"staff": 200, "safeguarding_lead": 200, "superuser": 200}),
            forbidden=(*STRANGERS, "coordinator_a", "dual", "dual2", "mentee_a", "mentor_a"),
            methods=("GET", "POST"),
            data={"purpose": "complaint-0", "reason": "Looking into the complaint.", "hours": "24"},
        ),
    ),
    "conversation_read": (
        Case(access_grant({"staff": 200}), forbidden=NOT_THE_READER),
        Case(access_grant({}, hours_ago=25), forbidden=(*NOT_THE_READER, "staff")),
    ),
    # A concern is read by the Safeguarding Lead group only (R-SAFE-1, R-SAFE-2); staff, coordinators, its
    # reporter and the person it is about get 404.
    "concern_detail": (Case(a_concern, forbidden=NOT_THE_LEAD),),
    # Issue 9, the Lead's own pages (R-SAFE-2): the same people get 404, and nothing is written.
    "concern_note_add": (
        Case(
            concern_handled_by({"safeguarding_lead": 302}),
            forbidden=NOT_THE_LEAD,
            methods=("POST",),
            data={"note-text": "Spoke to the reporter."},
        ),
    ),
    "concern_action_add": (
        Case(
            concern_handled_by({"safeguarding_lead": 302}),
            forbidden=NOT_THE_LEAD,
            methods=("POST",),
            data={"action-text": "Told the police."},
        ),
    ),
    "concern_status_set": (
        Case(
            concern_handled_by({"safeguarding_lead": 302}),
            forbidden=NOT_THE_LEAD,
            methods=("POST",),
            data={"move-status": "triaged"},
        ),
    ),
    "member_suspend": (
        Case(
            concern_handled_by({"safeguarding_lead": 302}),
            forbidden=NOT_THE_LEAD,
            methods=("POST",),
            data={"suspend-confirm": "on"},
        ),
    ),
    "suspension_lift": (
        Case(
            concern_handled_by({"safeguarding_lead": 302}, suspended=True),
            forbidden=NOT_THE_LEAD,
            methods=("POST",),
            data={"lift-confirm": "on"},
        ),
    ),
    # Issue 9 (R-SAFE-1): a concern about a profile's mentor, from whoever may read the profile; not its mentor.
    "profile_concern": (
        Case(
            profile_for({"mentee_a": 200}),
            forbidden=(*NOT_MENTEES, "mentor_a"),
            methods=("GET", "POST"),
            data={"what_happened": "It worried me.", "immediate_risk": "no"},
        ),
        Case(
            unlisted_profile_nobody_may_ask,
            forbidden=(*NOT_MENTEES, "mentee_a", "submitted_mentor_a"),
            methods=("GET", "POST"),
            data={"what_happened": "It worried me.", "immediate_risk": "no"},
        ),
    ),
}


def routes_with_parameters() -> dict[str, str]:
    """Route name -> its path, for every route that takes a parameter, outside the admin and allauth."""
    found = {}

    def walk(patterns, prefix: str, namespace: str | None, has_parameter: bool):
        for pattern in patterns:
            takes = (
                has_parameter
                or bool(getattr(pattern.pattern, "converters", None))
                or bool(getattr(getattr(pattern.pattern, "regex", None), "groups", 0))
            )
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                module = getattr(pattern.urlconf_module, "__name__", str(pattern.urlconf_name))
                if pattern.app_name == "admin" or module.startswith("allauth"):
                    continue
                inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
                walk(pattern.url_patterns, route, inner, takes)
            elif isinstance(pattern, URLPattern) and route.startswith("admin/"):
                continue  # the admin's own routes (view on site included): tests/security/test_admin_scoping.py
            elif isinstance(pattern, URLPattern) and takes:
                name = ":".join(filter(None, [namespace, pattern.name]))
                found[name or route] = route

    walk(get_resolver().url_patterns, "", None, False)
    return found


def test_every_route_that_takes_an_id_is_in_the_matrix():
    routes = routes_with_parameters()
    missing = sorted(set(routes) - set(ACCESS_MATRIX))
    assert not missing, "\n".join(
        f"add {name} ({routes[name]}) to tests/security/test_access_matrix.py" for name in missing
    )
    stale = sorted(set(ACCESS_MATRIX) - set(routes))
    assert not stale, f"remove {stale} from ACCESS_MATRIX: no such route takes an id any more"


def state(obj) -> tuple:
    """How many rows each model has (sessions aside: signing in writes one) and the object's own row."""
    counts = tuple(
        (model._meta.label, model._default_manager.count()) for model in apps.get_models() if model is not Session
    )
    row = type(obj)._default_manager.filter(pk=obj.pk).values().first() if obj is not None else None
    return counts, row


def ask(client, world, who: str, method: str, url: str, data: dict):
    client.logout()
    if who != SIGNED_OUT:
        client.force_login(world.people[who])
    return client.post(url, data) if method == "POST" else client.get(url)


@pytest.mark.parametrize("name", sorted(ACCESS_MATRIX))
def test_only_the_owners_reach_an_object(client, world, name):
    login_url = resolve_url(settings.LOGIN_URL)
    for case in ACCESS_MATRIX[name]:
        built = case.build(world)
        url = reverse(name, kwargs=built.kwargs)
        # Public on purpose, or closed to anyone signed out: the matrix says which.
        assert SIGNED_OUT in (built.owners if case.public else case.forbidden), (
            f"{name}: say who may read it signed out"
        )
        before = state(built.obj)
        for who in case.forbidden:
            for method in case.methods:
                response = ask(client, world, who, method, url, case.data)
                if who == SIGNED_OUT:
                    assert response.status_code == 302 and response["Location"].startswith(login_url), (
                        f"{method} {url} signed out gave {response.status_code}"
                    )
                else:
                    assert response.status_code == 404, f"{method} {url} as {who} gave {response.status_code}"
        assert state(built.obj) == before, f"a refused request to {url} changed the database"
        # Owners last: their POST may change the object.
        for who, status in built.owners.items():
            response = ask(client, world, who, case.methods[0], url, case.data)
            assert response.status_code == status, (
                f"{case.methods[0]} {url} as its owner {who} gave {response.status_code}"
            )


def test_a_public_document_with_an_unknown_kind_is_not_found(client, world):
    assert client.get(reverse("document_detail", args=["no-such-document"])).status_code == 404
