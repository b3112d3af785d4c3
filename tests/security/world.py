"""A realistic two-network world for the security suite: what a coordinator of network A must see, and must not.

Everything of network B carries "Bravo" in its visible text, so a page that
leaks it can be caught by a plain text search as well as by primary keys.
Two members cross the line on purpose: `dual` is a mentee in A and a mentor
in B; `dual2` is a mentor in A and a mentee in B. The coordinator of A sees
each of them only in the role they hold in A (R-COORD-1).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from matching.models import (
    ConflictBlock,
    ConflictDeclaration,
    MenteeProfile,
    MentorProfile,
    MentorshipRequest,
    PairingProposal,
    ProfileReport,
)
from mentoring.models import (
    Agreement,
    DocumentKind,
    EndOfPairing,
    Feedback,
    LocalNetwork,
    Meeting,
    Pairing,
    PairingGoal,
    Role,
    Scheme,
    SchemeMembership,
    TermsAcceptance,
    WaitingMentee,
)
from messaging.models import (
    ConversationAccessGrant,
    ConversationAccessLog,
    ConversationRead,
    HeldMessage,
    Message,
    Notification,
)
from messaging.services import conversation_open
from safeguarding.models import AuditEvent, Complaint, Concern, DBSCheck, TrainingBooking, TrainingRecord
from tests import factories

B_MARKER = "Bravo"
PRIVATE_BODY = "Private request text: my manager is making my life hard"


def model_named(name: str):
    """A model by class name, wherever it lives: issue 6 moves RematchRequest from matching to mentoring."""
    return next(model for model in apps.get_models() if model.__name__ == name)


@dataclass
class World:
    scheme: Scheme
    network_a: LocalNetwork
    network_b: LocalNetwork
    people: dict[str, User] = field(default_factory=dict)
    things: dict[str, object] = field(default_factory=dict)
    # Model -> primary keys the coordinator of A must see (a), must never see (b).
    a: dict[type, set] = field(default_factory=lambda: defaultdict(set))
    b: dict[type, set] = field(default_factory=lambda: defaultdict(set))

    def __getattr__(self, name):
        for store in ("people", "things"):
            found = self.__dict__.get(store, {})
            if name in found:
                return found[name]
        raise AttributeError(name)

    def side(self, network: LocalNetwork) -> dict[type, set]:
        return self.a if network == self.network_a else self.b

    def add(self, network: LocalNetwork, obj) -> None:
        self.side(network)[type(obj)].add(obj.pk)


def _member(world: World, key: str, first_name: str, last_name: str) -> User:
    user = factories.UserFactory(
        first_name=first_name, last_name=last_name, email=f"{key.replace('_', '-')}@example.org"
    )
    factories.accept_current_documents(user)
    world.people[key] = user
    return user


def _join(world: World, user: User, network: LocalNetwork, role: str) -> SchemeMembership:
    membership = factories.MembershipFactory(user=user, scheme=world.scheme, network=network, role=role)
    world.add(network, membership)
    if role == Role.MENTEE:
        world.side(network)[WaitingMentee].add(membership.pk)
    return membership


def _mentor_profile(world: World, user: User, network: LocalNetwork, *, status="approved", text="") -> MentorProfile:
    factories.train(user)
    profile = factories.MentorProfileFactory(
        user=user,
        expertise=[factories.ExpertiseAreaFactory(name="Power systems")],
        status=status,
        role_title=f"{text}Principal engineer",
        work_history=f"{text}Twenty years in power systems.",
        submitted_at=timezone.now(),
    )
    world.add(network, profile)
    return profile


def _goals(world: World, user: User, network: LocalNetwork, text="") -> MenteeProfile:
    profile = factories.MenteeProfileFactory(
        user=user,
        expertise=[factories.ExpertiseAreaFactory(name="Power systems")],
        goals=f"{text}Prepare for chartership within a year.",
    )
    world.add(network, profile)
    return profile


def _request(world, key, network, *, mentee, mentor, status="pending", text="") -> MentorshipRequest:
    now = timezone.now()
    request = MentorshipRequest.objects.create(
        scheme=world.scheme,
        mentee=mentee,
        mentor=mentor,
        message=f"{text}Would you mentor me towards chartership?",
        status=status,
        decline_reason=f"{text}My places are full." if status == "declined" else "",
        expires_at=now + datetime.timedelta(days=14),
    )
    declaration = ConflictDeclaration.objects.create(request=request, declared_by=mentee, details=f"{text}none")
    world.add(network, request)
    world.add(network, declaration)
    world.things[key] = request
    return request


def _pairing(world, key, network, *, mentor, mentee, ended=False, text="") -> Pairing:
    pairing = Pairing.objects.create(
        scheme=world.scheme,
        mentor=mentor,
        mentee=mentee,
        network=network,
        status=Pairing.Status.ENDED if ended else Pairing.Status.ACTIVE,
        ended_at=timezone.now() if ended else None,
        end_reason=Pairing.EndReason.DIFFERENCES if ended else "",
    )
    world.add(network, pairing)
    world.things[key] = pairing
    if ended:
        rematch = model_named("RematchRequest").objects.create(
            mentee=mentee, pairing=pairing, note=f"{text}We did not click."
        )
        world.add(network, rematch)
        world.things[f"rematch_{key}"] = rematch
        # Issue 7 (ending, feedback): the End of Pairing record and the mentee's end feedback.
        end = EndOfPairing.objects.create(
            pairing=pairing, ended_by=mentee, reason=pairing.end_reason, comments=f"{text}We did not click."
        )
        feedback = Feedback.objects.create(
            pairing=pairing, member=mentee, stage="end", rating=2, comments=f"{text}Too few meetings."
        )
        world.add(network, end)
        world.add(network, feedback)
        world.things[f"end_{key}"] = end
        world.things[f"feedback_{key}"] = feedback
    return pairing


def _confidential(world: World) -> None:
    """Issue 8 (R-MSG-5, R-MSG-6): a reported message in each network's dual pairing, a complaint about it in A
    and a concern in B, and a read of each conversation under a grant, written to the access log."""
    p = world.people
    now = timezone.now()
    for key, network, pairing, reader, text in (
        ("a", world.network_a, world.pairing_a_dual, p["staff"], ""),
        ("b", world.network_b, world.pairing_b_dual, p["safeguarding_lead"], f"{B_MARKER} "),
    ):
        conversation = conversation_open(pairing=pairing, members=[pairing.mentor, pairing.mentee])
        # Written directly: message_post is durable and the world is built inside one transaction.
        message = Message.objects.create(
            conversation=conversation, sender=pairing.mentor, body=f"{text}A message that was reported."
        )
        # Both have read it, so opening the conversation page writes no read mark (a GET changes nothing).
        for member in (pairing.mentor, pairing.mentee):
            ConversationRead.objects.create(conversation=conversation, user=member, last_read_id=message.pk)
        if key == "a":
            matter = {
                "complaint": Complaint.objects.create(
                    complainant=pairing.mentee,
                    about=Complaint.About.PERSON,
                    person=pairing.mentor,
                    pairing=pairing,
                    message=message,
                    text="A rude message.",
                )
            }
        else:
            matter = {
                "concern": Concern.objects.create(
                    reporter=pairing.mentee,
                    source=Concern.Source.MESSAGE,
                    person=pairing.mentor,
                    pairing=pairing,
                    message=message,
                    what_happened=f"{text}A worrying message.",
                    immediate_risk=False,
                )
            }
        grant = ConversationAccessGrant.objects.create(
            reader=reader,
            conversation=conversation,
            reason=f"{text}Looking into what was reported.",
            created_at=now,
            expires_at=now + datetime.timedelta(hours=24),
            **matter,
        )
        read = ConversationAccessLog.objects.create(
            reader=reader, conversation=conversation, grant=grant, reason=grant.reason
        )
        world.add(network, read)
        world.things[f"reported_message_{key}"] = message
        world.things[f"access_grant_{key}"] = grant
        world.things.update({f"{kind}_{key}_message": obj for kind, obj in matter.items()})


def role_user(group_name: str | None, **fields) -> User:
    """Someone who uses the admin, with TOTP two-factor set up as the admin requires."""
    user = factories.UserFactory(is_staff=True, **fields)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    TOTP.activate(user, generate_totp_secret())
    return user


def build_world() -> World:
    """Documents, a scheme, networks A (London) and B (Scotland) with their coordinators, staff, the
    Safeguarding Lead, a superuser; members, memberships, profiles, requests, pairings, reports,
    training, acceptances, notifications and audit events in both networks."""
    for kind in DocumentKind:
        factories.TermsVersionFactory(kind=kind, version="2026.1")
    scheme = factories.SchemeFactory(name="Career Mentoring", slug="career")
    network_a = factories.LocalNetworkFactory(name="London", slug="london")
    network_b = factories.LocalNetworkFactory(name="Scotland", slug="scotland")
    world = World(scheme=scheme, network_a=network_a, network_b=network_b)
    coordinator_a = role_user(settings.GROUP_COORDINATORS, first_name="Grace", last_name="Coordinator")
    coordinator_b = role_user(settings.GROUP_COORDINATORS, first_name=B_MARKER, last_name="Coordinator")
    network_a.coordinators.add(coordinator_a)
    network_b.coordinators.add(coordinator_b)
    world.people.update(
        coordinator_a=coordinator_a,
        coordinator_b=coordinator_b,
        staff=role_user(settings.GROUP_STAFF, first_name="Sam", last_name="Staff"),
        safeguarding_lead=role_user(settings.GROUP_SAFEGUARDING_LEAD, first_name="Morgan", last_name="Lead"),
        superuser=role_user(None, first_name="Root", last_name="Super", is_superuser=True),
    )
    world.add(network_a, network_a)
    world.add(network_b, network_b)
    world.b[User].add(coordinator_b.pk)

    a, b = network_a, network_b
    bravo = f"{B_MARKER} "
    # Network A.
    for key, first in (("mentee_a", "Alpha"), ("other_mentee_a", "Alana")):
        user = _member(world, key, first, f"{first}son")
        _join(world, user, a, Role.MENTEE)
        _goals(world, user, a)
        world.a[User].add(user.pk)
    for key, first, status in (
        ("mentor_a", "Arthur", "approved"),
        ("other_mentor_a", "Annie", "approved"),
        ("submitted_mentor_a", "Abel", "submitted"),
    ):
        user = _member(world, key, first, f"{first}son")
        _join(world, user, a, Role.MENTOR)
        world.things[f"profile_{key}"] = _mentor_profile(world, user, a, status=status)
        world.a[User].add(user.pk)
    # Network B: every visible text carries the marker.
    for key in ("mentee_b", "waiting_b"):
        user = _member(world, key, B_MARKER, f"{B_MARKER}son-{key}")
        _join(world, user, b, Role.MENTEE)
        _goals(world, user, b, bravo)
        world.b[User].add(user.pk)
    for key, status in (("mentor_b", "approved"), ("submitted_mentor_b", "submitted")):
        user = _member(world, key, B_MARKER, f"{B_MARKER}son-{key}")
        _join(world, user, b, Role.MENTOR)
        world.things[f"profile_{key}"] = _mentor_profile(world, user, b, status=status, text=bravo)
        world.b[User].add(user.pk)
    # Across the line.
    dual = _member(world, "dual", "Dana", "Dualson")
    _join(world, dual, a, Role.MENTEE)
    _goals(world, dual, a)
    _join(world, dual, b, Role.MENTOR)
    world.things["profile_dual"] = _mentor_profile(world, dual, b, text=bravo)
    dual2 = _member(world, "dual2", "Duncan", "Dualson")
    _join(world, dual2, a, Role.MENTOR)
    world.things["profile_dual2"] = _mentor_profile(world, dual2, a)
    _join(world, dual2, b, Role.MENTEE)
    _goals(world, dual2, b, bravo)
    world.a[User].update({dual.pk, dual2.pk})
    # A mentee of another scheme only: mentors of the career scheme are not listed for them.
    elsewhere = _member(world, "mentee_elsewhere", "Elsa", "Elsewhere")
    other_scheme = factories.SchemeFactory(name="Registration Mentoring", slug="registration")
    membership = factories.MembershipFactory(user=elsewhere, scheme=other_scheme, network=a, role=Role.MENTEE)
    world.add(a, membership)
    world.a[WaitingMentee].add(membership.pk)
    world.a[User].add(elsewhere.pk)

    p = world.people
    # A request and a pairing belong to the network of the mentee's membership in the scheme.
    _request(world, "request_a", a, mentee=p["mentee_a"], mentor=p["mentor_a"])
    _request(world, "request_a_dual", a, mentee=dual, mentor=dual2)
    _request(world, "request_b", b, mentee=p["mentee_b"], mentor=p["mentor_b"], text=bravo)
    _request(world, "request_b_to_dual", b, mentee=p["waiting_b"], mentor=dual, text=bravo)
    _request(world, "request_b_from_dual2", b, mentee=dual2, mentor=p["mentor_b"], status="declined", text=bravo)
    _pairing(world, "pairing_a", a, mentor=p["mentor_a"], mentee=p["mentee_a"], ended=True)
    _pairing(world, "pairing_a_dual", a, mentor=dual2, mentee=dual)
    _pairing(world, "pairing_b", b, mentor=p["mentor_b"], mentee=p["mentee_b"], ended=True, text=bravo)
    _pairing(world, "pairing_b_dual", b, mentor=dual, mentee=p["mentee_b"])
    _pairing(world, "pairing_b_dual2", b, mentor=p["mentor_b"], mentee=dual2)
    # Meetings belong to their pairing's network.
    for key, network, pairing, text in (
        ("meeting_a", a, world.pairing_a_dual, ""),
        ("meeting_b", b, world.pairing_b_dual, bravo),
    ):
        meeting = Meeting.objects.create(
            pairing=pairing,
            proposed_by=pairing.mentor,
            starts_at=timezone.now() + datetime.timedelta(days=7),
            duration_minutes=60,
            note=f"{text}Bring your CV.",
        )
        world.add(network, meeting)
        world.things[key] = meeting
    # An agreement and a goal belong to their pairing's network.
    for key, network, pairing, text in (("a", a, world.pairing_a, ""), ("b", b, world.pairing_b, bravo)):
        agreement = Agreement.objects.create(pairing=pairing)
        goal = PairingGoal.objects.create(pairing=pairing, text=f"{text}Pass the chartership interview")
        world.add(network, agreement)
        world.add(network, goal)
        world.things[f"agreement_{key}"] = agreement
        world.things[f"goal_{key}"] = goal
    # A blocked pairing belongs to the network of the mentee's membership in the scheme.
    for key, network, mentee, mentor, text in (
        ("block_a", a, p["mentee_a"], p["mentor_a"], ""),
        ("block_b", b, p["mentee_b"], p["mentor_b"], bravo),
        ("block_b_dual2", b, dual2, p["mentor_b"], bravo),
    ):
        block = ConflictBlock.objects.create(
            scheme=world.scheme,
            mentee=mentee,
            mentor=mentor,
            declared_by=mentee,
            kind=ConflictDeclaration.Kind.LINE_MANAGER,
            details=f"{text}One manages the other.",
        )
        world.add(network, block)
        world.things[key] = block
    # A proposed pairing (issue 11) belongs to the network of the mentee's membership in the scheme.
    for key, network, mentee, mentor in (
        ("proposal_a", a, p["other_mentee_a"], p["other_mentor_a"]),
        ("proposal_b", b, p["waiting_b"], p["mentor_b"]),
    ):
        proposal = PairingProposal.objects.create(
            scheme=world.scheme,
            network=network,
            mentee=mentee,
            mentor=mentor,
            origin=PairingProposal.Origin.MANUAL,
            reasons=["same sector"],
        )
        world.add(network, proposal)
        world.things[key] = proposal
    # A report belongs to the network of the reported profile.
    for key, network, profile, reporter, text in (
        ("report_a", a, world.profile_mentor_a, p["mentee_a"], ""),
        ("report_b", b, world.profile_mentor_b, p["mentee_b"], bravo),
        ("report_b_dual", b, world.profile_dual, p["mentee_b"], bravo),
    ):
        report = ProfileReport.objects.create(profile=profile, reporter=reporter, reason=f"{text}Claims too much.")
        world.add(network, report)
        world.things[key] = report

    # A complaint belongs to the networks of the complainant's memberships (R-SAFE-4).
    for key, network, complainant, text in (
        ("complaint_a", a, p["mentee_a"], ""),
        ("complaint_b", b, p["mentee_b"], bravo),
    ):
        complaint = Complaint.objects.create(
            complainant=complainant, about=Complaint.About.SERVICE, text=f"{text}The service let me down."
        )
        world.add(network, complaint)
        world.things[key] = complaint

    _confidential(world)
    # Issue 9: a training event in each network, held yesterday, each with a member's booking.
    for key, network, member, text in (("a", a, p["mentor_a"], ""), ("b", b, p["mentor_b"], bravo)):
        starts = timezone.now() - datetime.timedelta(days=1)
        event = factories.TrainingEventFactory(
            network=network, starts_at=starts, ends_at=starts + datetime.timedelta(hours=3), place=f"{text}Hall"
        )
        booking = TrainingBooking.objects.create(event=event, member=member)
        world.add(network, event)
        world.add(network, booking)
        world.things[f"training_event_{key}"] = event
        world.things[f"training_booking_{key}"] = booking

    # Records that follow the member: A's coordinator sees those of anyone in A.
    a_users, b_users = world.a[User], world.b[User] - {coordinator_b.pk}
    for user_ids, side in ((a_users, world.a), (b_users, world.b)):
        side[TrainingRecord].update(TrainingRecord.objects.filter(user__in=user_ids).values_list("pk", flat=True))
        side[TermsAcceptance].update(TermsAcceptance.objects.filter(user__in=user_ids).values_list("pk", flat=True))
        side[EmailAddress].update(EmailAddress.objects.filter(user__in=user_ids).values_list("pk", flat=True))
    for user in User.objects.filter(pk__in=a_users | b_users):
        side = world.a if user.pk in a_users else world.b
        text = bravo if side is world.b else ""
        check = factories.DBSCheckFactory(user=user)
        side[DBSCheck].add(check.pk)
        note = Notification.objects.create(
            user=user, kind="request_received", title=f"{text}Someone asks you", body=f"{text}{PRIVATE_BODY}"
        )
        side[Notification].add(note.pk)
        event = AuditEvent.objects.create(
            actor=coordinator_a if side is world.a else coordinator_b,
            action="membership.scheme_status",
            target_user=user,
            object_repr=f"{text}{user}",
        )
        side[AuditEvent].add(event.pk)

    # A message held for carrying contact details (R-MSG-7) belongs to its pairing's network.
    for key, network, pairing, text in (
        ("held_a", a, world.pairing_a_dual, ""),
        ("held_b", b, world.pairing_b_dual, bravo),
    ):
        conversation = conversation_open(pairing=pairing, members=[pairing.mentor, pairing.mentee])
        message = Message.objects.create(
            conversation=conversation,
            sender=pairing.mentee,
            body=f"{text}Email me at someone@example.org",
            status=Message.Status.HELD,
        )
        held = HeldMessage.objects.create(message=message, reasons="email")
        # As message_post leaves it: the sender has read what they wrote.
        ConversationRead.objects.update_or_create(
            conversation=conversation, user=pairing.mentee, defaults={"last_read_id": message.pk}
        )
        world.add(network, held)
        world.things[key] = held
    return world
