# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The Safeguarding Lead suspends a member at once, and lifts it (R-SAFE-2): memberships suspended, pairings paused,
messages refused on the page and the socket, the profile unlisted, the member and partners told in neutral words,
every step audited; lifting restores each. Tried from the side of those who must not: coordinators, staff, the
member, the partner."""

import datetime
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from matching.models import MentorProfile
from mentoring import meetings, services, suspension
from mentoring.messages import message_send
from mentoring.models import Meeting, Pairing, Role, SchemeMembership
from messaging.models import Message, Notification
from messaging.routing import websocket_urlpatterns
from messaging.services import message_post
from safeguarding import concerns, eligibility
from safeguarding.models import AuditEvent, Concern, ConcernNote, SuspendedMembership, Suspension
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401


@pytest.fixture
def concern(started, safeguarding_lead):
    """Amara's concern about her mentor David, from the concern form."""
    return concerns.concern_raise(
        reporter=started.mentee,
        what_happened="He asked me to keep our meetings secret.",
        immediate_risk=True,
        person=started.mentor,
    )


@pytest.fixture
def searcher(scheme, network):
    """Another mentee of the scheme, who searches for mentors."""
    return factories.eligible_mentee(scheme, network, first_name="Zoe")


def suspend(concern, lead):
    return suspension.member_suspend(member=concern.person, actor=lead, concern=concern)


def listed(client, searcher, mentor) -> bool:
    client.force_login(searcher)
    shown = [p.mentor_id for p in client.get(reverse("mentor_list")).context["page"]]
    return mentor.pk in shown


def test_a_suspension_suspends_every_membership_and_remembers_what_each_was(started, concern, safeguarding_lead):
    # R-SAFE-2: suspended at once; the earlier states are kept to restore
    mentor = started.mentor
    other_scheme = factories.SchemeFactory(name="Registration Mentoring", slug="registration")
    paused = factories.MembershipFactory(
        user=mentor, scheme=other_scheme, network=started.network, role=Role.MENTEE, status="paused"
    )
    withdrawn = factories.MembershipFactory(
        user=mentor,
        scheme=factories.SchemeFactory(name="Old", slug="old"),
        network=started.network,
        role=Role.MENTOR,
        status="withdrawn",
    )
    record = suspend(concern, safeguarding_lead)
    statuses = dict(mentor.memberships.values_list("pk", "status"))
    assert statuses[paused.pk] == "suspended"  # a paused member could otherwise resume themselves
    assert statuses[withdrawn.pk] == "withdrawn"
    assert set(statuses.values()) == {"suspended", "withdrawn"}
    kept = dict(SuspendedMembership.objects.filter(suspension=record).values_list("membership_id", "previous_status"))
    assert kept == {mentor.memberships.get(scheme=started.scheme).pk: "active", paused.pk: "paused"}
    assert (record.member, record.concern, record.suspended_by, record.lifted_at) == (
        mentor,
        concern,
        safeguarding_lead,
        None,
    )


def test_the_mentors_profile_leaves_search_and_its_page_is_not_found(
    client, started, concern, safeguarding_lead, searcher
):
    # R-SAFE-2: profile unlisted, through the eligibility engine
    profile = MentorProfile.objects.get(user=started.mentor)
    assert listed(client, searcher, started.mentor)
    suspend(concern, safeguarding_lead)
    assert not eligibility.check(started.mentor, started.scheme, Role.MENTOR).ok
    assert not listed(client, searcher, started.mentor)
    assert client.get(reverse("mentor_detail", args=[profile.pk])).status_code == 404
    assert client.get(reverse("request_create", args=[profile.pk])).status_code == 404


def test_the_pairing_is_paused_and_upcoming_meetings_are_cancelled(started, concern, safeguarding_lead):
    # R-SAFE-2: pairings paused, not ended
    soon = Meeting.objects.create(
        pairing=started,
        proposed_by=started.mentee,
        starts_at=timezone.now() + datetime.timedelta(days=2),
        duration_minutes=60,
        status=Meeting.Status.ACCEPTED,
    )
    record = suspend(concern, safeguarding_lead)
    started.refresh_from_db()
    assert started.status == Pairing.Status.ACTIVE and started.is_paused
    assert list(record.paused_pairings.all()) == [started]
    soon.refresh_from_db()
    assert soon.status == Meeting.Status.CANCELLED


def test_the_member_and_the_partner_are_told_in_neutral_words(started, concern, safeguarding_lead):
    # R-SAFE-2: "member told in neutral words"; the partner is told the mentoring is paused, never why
    suspend(concern, safeguarding_lead)
    to_member = Notification.objects.get(user=started.mentor, kind="participation_suspended")
    to_partner = Notification.objects.get(user=started.mentee, kind="pairing_paused")
    assert to_partner.title == "Your mentoring is paused for now"
    assert "the scheme will be in touch" in to_partner.body
    for note in (to_member, to_partner):
        words = f"{note.title} {note.body}".lower()
        for telling in ("concern", "safeguarding", "suspend", "allegation", "report", started.mentee.first_name):
            assert telling.lower() not in words, (note.kind, telling)
        assert note.email_wanted  # told by email too


def test_the_suspended_member_cannot_send_on_the_page(client, started, concern, safeguarding_lead):
    # R-SAFE-2: messaging blocked
    suspend(concern, safeguarding_lead)
    client.force_login(started.mentor)
    response = client.post(started.conversation.get_absolute_url(), {"body": "Please don't tell anyone."})
    assert response.status_code == 400
    assert "so you cannot send messages" in response.content.decode()
    assert not Message.objects.exists()


def test_the_partner_cannot_send_in_the_paused_pairing_either(client, started, concern, safeguarding_lead):
    # R-SAFE-2: a paused pairing carries no messages either way; the page says so without saying why
    suspend(concern, safeguarding_lead)
    client.force_login(started.mentee)
    page = client.get(started.conversation.get_absolute_url()).content.decode()
    assert "Your mentoring is paused for now" in page and 'id="conversation-composer"' not in page
    with pytest.raises(ValidationError, match="paused"):
        message_send(conversation_id=started.conversation.pk, sender=started.mentee, body="Are you there?")
    assert not Message.objects.exists()


def socket(user, conversation_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/messages/{conversation_id}/")
    communicator.scope["user"] = user
    return communicator


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_the_socket_refuses_both_members_once_suspended(transactional_db, started, safeguarding_lead):
    # R-SAFE-2: the consumer applies the same rule as the page (mentoring.messages.message_send)
    concern = concerns.concern_raise(
        reporter=started.mentee, what_happened="Worrying.", immediate_risk=False, person=started.mentor
    )
    suspend(concern, safeguarding_lead)

    async def scenario(user):
        communicator = socket(user, started.conversation.pk)
        connected, _ = await communicator.connect()
        await communicator.send_json_to({"action": "send", "body": "Hello"})
        answer = await communicator.receive_json_from(timeout=3)
        await communicator.disconnect()
        return connected, answer

    connected, answer = async_to_sync(scenario)(started.mentor)
    assert connected and "so you cannot send messages" in answer["error"]
    connected, answer = async_to_sync(scenario)(started.mentee)
    assert connected and "paused" in answer["error"]
    assert not Message.objects.exists()


def test_the_suspended_member_cannot_join_another_scheme_or_be_paired(started, concern, safeguarding_lead, network):
    suspend(concern, safeguarding_lead)
    other = factories.SchemeFactory(name="Registration Mentoring", slug="registration")
    with pytest.raises(ValidationError, match="paused for now"):
        services.membership_join(user=started.mentor, scheme=other, role=Role.MENTOR, network=network)
    assert not SchemeMembership.objects.filter(user=started.mentor, scheme=other).exists()
    mentee = factories.eligible_mentee(started.scheme, network)
    with pytest.raises(services.PairingRefused):
        services.pairing_start(mentor=started.mentor, mentee=mentee, scheme=started.scheme, origin="manual")


def test_a_coordinator_cannot_reinstate_a_member_the_lead_suspended(started, concern, safeguarding_lead, coordinator):
    # R-SAFE-2: only the Lead lifts it
    suspend(concern, safeguarding_lead)
    membership = started.mentor.memberships.get(scheme=started.scheme)
    with pytest.raises(ValidationError, match="Only the Safeguarding Lead"):
        services.membership_status_set(
            membership_id=membership.pk, status="active", network=membership.network, actor=coordinator
        )
    membership.refresh_from_db()
    assert membership.status == "suspended"


@pytest.mark.parametrize("who", ["coordinator", "staff", "member", "partner"])
def test_nobody_outside_the_lead_group_suspends_or_lifts(started, concern, who, coordinator, scheme_staff):
    # R-SAFE-2, from the side of those who must not
    actor = {
        "coordinator": coordinator,
        "staff": scheme_staff,
        "member": started.mentor,
        "partner": started.mentee,
    }[who]
    with pytest.raises(PermissionDenied):
        suspension.member_suspend(member=started.mentor, actor=actor, concern=concern)
    assert not Suspension.objects.exists()
    assert started.mentor.memberships.get(scheme=started.scheme).status == "active"


def test_a_lead_the_concern_involves_cannot_suspend(started, concern, safeguarding_lead):
    # R-SAFE-2: nobody acts on a concern about themselves, their pairing, or that they raised
    other = concerns.concern_raise(
        reporter=safeguarding_lead, what_happened="Seen at an event.", immediate_risk=False, person_name="Someone"
    )
    Concern.objects.filter(pk=other.pk).update(person=started.mentor)
    other.refresh_from_db()
    with pytest.raises(PermissionDenied):
        suspension.member_suspend(member=started.mentor, actor=safeguarding_lead, concern=other)
    assert not Suspension.objects.exists()


def test_suspending_twice_or_from_a_closed_concern_or_someone_else_is_refused(
    started, concern, safeguarding_lead, searcher
):
    suspend(concern, safeguarding_lead)
    with pytest.raises(ValidationError, match="suspended already"):
        suspend(concern, safeguarding_lead)
    with pytest.raises(ValidationError, match="the person the concern is about"):
        suspension.member_suspend(member=searcher, actor=safeguarding_lead, concern=concern)
    closed = concerns.concern_raise(
        reporter=started.mentor, what_happened="x", immediate_risk=False, person=started.mentee
    )
    Concern.objects.filter(pk=closed.pk).update(status="closed", outcome="Nothing to do.")
    closed.refresh_from_db()
    with pytest.raises(ValidationError, match="closed"):
        suspension.member_suspend(member=started.mentee, actor=safeguarding_lead, concern=closed)
    assert Suspension.objects.count() == 1


def test_a_suspension_is_all_or_nothing(started, concern, safeguarding_lead):
    # One transaction: a failure half-way leaves the member as they were
    with (
        mock.patch("mentoring.suspension.notify", side_effect=RuntimeError("mail server down")),
        pytest.raises(RuntimeError),
    ):
        suspend(concern, safeguarding_lead)
    assert not Suspension.objects.exists()
    assert started.mentor.memberships.get(scheme=started.scheme).status == "active"
    started.refresh_from_db()
    assert not started.is_paused
    assert not AuditEvent.objects.filter(action__startswith="concern.member").exists()


def test_each_step_is_audited_as_concern_business_and_recorded_on_the_concern(started, concern, safeguarding_lead):
    # R-SAFE-2: every step audited; the admin lists "concern." events to the Lead group only
    record = suspend(concern, safeguarding_lead)
    event = AuditEvent.objects.get(action="concern.member_suspended")
    assert (event.actor, event.target_user) == (safeguarding_lead, started.mentor)
    assert event.detail["concern"] == concern.pk and event.detail["pairings_paused"] == [started.pk]
    suspension.member_suspension_lift(member=started.mentor, actor=safeguarding_lead)
    lifted = AuditEvent.objects.get(action="concern.suspension_lifted")
    assert lifted.detail["pairings_resumed"] == [started.pk]
    actions = list(concern.notes.values_list("kind", flat=True))
    assert actions == [ConcernNote.Kind.ACTION, ConcernNote.Kind.ACTION]
    record.refresh_from_db()
    assert record.lifted_by == safeguarding_lead and record.lifted_at is not None


def test_lifting_restores_memberships_pairings_listing_and_messages(
    client, started, concern, safeguarding_lead, searcher
):
    # R-SAFE-2: lift restores what the suspension changed
    suspend(concern, safeguarding_lead)
    suspension.member_suspension_lift(member=started.mentor, actor=safeguarding_lead)
    assert started.mentor.memberships.get(scheme=started.scheme).status == "active"
    started.refresh_from_db()
    assert not started.is_paused
    assert listed(client, searcher, started.mentor)
    message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="Hello again")
    assert Notification.objects.filter(user=started.mentee, kind="pairing_resumed").count() == 1
    assert Notification.objects.filter(user=started.mentor, kind="participation_resumed").count() == 1
    with pytest.raises(ValidationError, match="not suspended"):
        suspension.member_suspension_lift(member=started.mentor, actor=safeguarding_lead)


def test_lifting_leaves_a_membership_withdrawn_meanwhile_as_it_is(started, concern, safeguarding_lead):
    suspend(concern, safeguarding_lead)
    SchemeMembership.objects.filter(user=started.mentor).update(status="withdrawn")
    suspension.member_suspension_lift(member=started.mentor, actor=safeguarding_lead)
    assert started.mentor.memberships.get(scheme=started.scheme).status == "withdrawn"


def test_a_pairing_stays_paused_while_its_other_member_is_suspended_too(started, concern, safeguarding_lead):
    suspend(concern, safeguarding_lead)
    about_mentee = concerns.concern_raise(
        reporter=started.mentor, what_happened="Threats.", immediate_risk=False, person=started.mentee
    )
    suspension.member_suspend(member=started.mentee, actor=safeguarding_lead, concern=about_mentee)
    suspension.member_suspension_lift(member=started.mentor, actor=safeguarding_lead)
    started.refresh_from_db()
    assert started.is_paused  # still held by the mentee's own suspension
    suspension.member_suspension_lift(member=started.mentee, actor=safeguarding_lead)
    started.refresh_from_db()
    assert not started.is_paused


def test_a_paused_pairing_gets_no_inactivity_nudges_and_no_new_meetings(started, concern, safeguarding_lead):
    suspend(concern, safeguarding_lead)
    Pairing.objects.filter(pk=started.pk).update(started_at=timezone.now() - datetime.timedelta(days=400))
    assert meetings.inactivity_nudges_send() == 0
    with pytest.raises(meetings.MeetingRefused, match="paused"):
        meetings.meeting_propose(
            pairing_id=started.pk,
            actor=started.mentee,
            starts_local=datetime.datetime.now() + datetime.timedelta(days=3),
            duration_minutes=60,
        )


def test_the_pairing_page_shows_the_pause_to_both_members(client, started, concern, safeguarding_lead):
    suspend(concern, safeguarding_lead)
    for member in (started.mentor, started.mentee):
        client.force_login(member)
        page = client.get(started.get_absolute_url()).content.decode()
        assert "Your mentoring is paused for now; the scheme will be in touch." in page
        assert "concern" not in page.split('id="pairing-problem"')[0].lower()


def test_messages_sent_before_the_suspension_stay(started, concern, safeguarding_lead):
    # Nothing deleted: the Lead may read them through the audited access
    message_post(conversation_id=started.conversation.pk, sender=started.mentor, body="Before")
    suspend(concern, safeguarding_lead)
    assert Message.objects.filter(body="Before").exists()
