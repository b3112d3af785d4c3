"""`seed_demo --large` (issue 11, item 6): the bulk path at a tiny size makes the rows asked for, and they hold
together as the platform's own writes would leave them."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from matching import listing
from matching.models import MentorListing, MentorProfile, MentorshipRequest
from mentoring.management.demo_large import EMAIL_DOMAIN
from mentoring.models import EndOfPairing, Feedback, LocalNetwork, Meeting, Pairing, Role, Scheme, SchemeMembership
from messaging.models import Conversation, HeldMessage, Message

MEMBERS, PAIRINGS, MESSAGES = 200, 400, 2000


@pytest.fixture
def large(db):
    out = io.StringIO()
    call_command(
        "seed_demo", large=True, members=MEMBERS, pairings=PAIRINGS, messages=MESSAGES, stdout=out, verbosity=0
    )
    return out.getvalue()


def large_pairings():
    return Pairing.objects.filter(mentee__email__endswith=EMAIL_DOMAIN)


def test_the_large_path_makes_the_sizes_asked_for_and_says_how_long_each_part_took(large):
    # issue 11 item 6: members, pairings and messages in bulk, with timings printed
    assert User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).count() == MEMBERS
    assert large_pairings().count() == PAIRINGS
    assert Message.objects.filter(conversation__pairing__in=large_pairings()).count() == MESSAGES
    assert LocalNetwork.objects.count() >= 12
    assert set(User.objects.filter(email__endswith=EMAIL_DOMAIN).values_list("country", flat=True)) >= {"GB", "IN"}
    for kind in (Meeting, Feedback, EndOfPairing, MentorshipRequest, MentorProfile):
        assert kind.objects.exists(), kind
    assert large_pairings().filter(status=Pairing.Status.ACTIVE).exists()
    assert large_pairings().filter(status=Pairing.Status.ENDED).exists()
    assert "200 members:" in large and "400 pairings:" in large and "Large data set ready in" in large
    # Running it again adds nothing.
    counts = (User.objects.count(), Pairing.objects.count(), Message.objects.count())
    out = io.StringIO()
    call_command("seed_demo", large=True, members=MEMBERS, stdout=out)
    assert (User.objects.count(), Pairing.objects.count(), Message.objects.count()) == counts
    assert "already here" in out.getvalue()


def test_the_data_holds_together_as_the_platforms_own_writes_would_leave_it(large):
    """Pairings between members of their scheme in the mentee's network (R-MATCH-2, R-SCHEME-2); no mentor
    over capacity, one mentor per mentee (R-MATCH-1); messages in their pairing's conversation and life
    (R-MSG-1); meetings, feedback and requests that fit their pairings (R-PAIR-2, R-PAIR-4); the listing
    rebuilt after the bulk inserts, which send no signals (R-PROFILE-3)."""
    # R-MATCH-2, R-SCHEME-2: a pairing's members are the scheme's, in those roles; the network is the mentee's
    memberships = {(m.user_id, m.scheme_id, m.role): m.network_id for m in SchemeMembership.objects.all()}
    for p in large_pairings():
        assert (p.mentor_id, p.scheme_id, Role.MENTOR) in memberships, p.pk
        assert memberships[(p.mentee_id, p.scheme_id, Role.MENTEE)] == p.network_id, p.pk
        assert p.mentor_id != p.mentee_id
        if p.status == Pairing.Status.ENDED:
            assert p.ended_at is not None and p.end_reason and p.started_at < p.ended_at <= timezone.now()
        else:
            assert p.ended_at is None and not p.end_reason

    # R-MATCH-1: a mentor's active mentees never exceed the places on their profile; one mentor per mentee
    over = (
        MentorProfile.objects.annotate(
            active=Count("user__pairings_as_mentor", filter=Q(user__pairings_as_mentor__status=Pairing.Status.ACTIVE))
        )
        .filter(active__gt=F("capacity"))
        .count()
    )
    assert over == 0
    twice = Pairing.objects.active().values("mentee", "scheme").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert not twice
    # The active ones' mentors are approved and taking part.
    for p in large_pairings().active():
        assert MentorProfile.objects.get(user_id=p.mentor_id).status == MentorProfile.Status.APPROVED
        membership = SchemeMembership.objects.get(user_id=p.mentor_id, scheme_id=p.scheme_id, role=Role.MENTOR)
        assert membership.status in (SchemeMembership.Status.ACTIVE, SchemeMembership.Status.PENDING)

    # R-MSG-1: one conversation per pairing, between its members, read-only once ended; each message written
    # by one of them while the pairing ran
    assert Conversation.objects.filter(pairing__in=large_pairings()).count() == PAIRINGS
    wrong_people = Conversation.objects.filter(pairing__in=large_pairings()).exclude(
        first_member=F("pairing__mentor"), second_member=F("pairing__mentee")
    )
    assert not wrong_people.exists()
    assert not Conversation.objects.filter(pairing__status=Pairing.Status.ENDED, read_only=False).exists()
    messages = Message.objects.filter(conversation__pairing__in=large_pairings())
    assert not messages.exclude(
        Q(sender=F("conversation__first_member")) | Q(sender=F("conversation__second_member"))
    ).exists()
    assert not messages.filter(created_at__lt=F("conversation__pairing__started_at")).exists()
    assert not messages.filter(created_at__gt=F("conversation__pairing__ended_at")).exists()
    assert not messages.filter(created_at__gt=timezone.now()).exists()
    held = HeldMessage.objects.all()
    assert all(h.message.status == Message.Status.HELD for h in held)

    # R-PAIR-2, R-PAIR-4, R-MATCH-2
    assert not Meeting.objects.exclude(
        Q(proposed_by=F("pairing__mentor")) | Q(proposed_by=F("pairing__mentee"))
    ).exists()
    assert not Meeting.objects.filter(starts_at__lt=F("pairing__started_at")).exists()
    assert not Feedback.objects.exclude(Q(member=F("pairing__mentor")) | Q(member=F("pairing__mentee"))).exists()
    assert not Feedback.objects.filter(rating__lt=1).exists() and not Feedback.objects.filter(rating__gt=5).exists()
    accepted = MentorshipRequest.objects.filter(status=MentorshipRequest.Status.ACCEPTED, pairing__isnull=False)
    assert not accepted.exclude(mentor=F("pairing__mentor"), mentee=F("pairing__mentee")).exists()
    assert EndOfPairing.objects.count() == large_pairings().filter(status=Pairing.Status.ENDED).count()

    # Bulk inserts send no signals: the listing is rebuilt at the end and agrees with the engine (R-PROFILE-3)
    for scheme in Scheme.objects.all():
        expected = set(listing.listed_profiles(scheme).values_list("pk", flat=True))
        assert set(MentorListing.objects.filter(scheme=scheme).values_list("profile_id", flat=True)) == expected
    assert MentorListing.objects.filter(mentor__email__endswith=EMAIL_DOMAIN).exists()
