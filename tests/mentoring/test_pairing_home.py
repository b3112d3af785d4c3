""" "My mentoring" lists each pairing with its next step (R-PAIR-1, R-PAIR-2, R-PAIR-4)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from mentoring.models import Meeting, Pairing
from mentoring.pairing_home import pairing_next_step
from tests import factories


def make_pairing(scheme, network):
    mentor = factories.listed_mentor(scheme, network)
    mentee = factories.eligible_mentee(scheme, network)
    return Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)


def test_a_new_pairing_asks_both_to_agree_first(client, documents, scheme, network):
    pairing = make_pairing(scheme, network)
    step = pairing_next_step(pairing, pairing.mentee)
    assert step.text == "Agree how you will work together"
    assert step.url == reverse("agreement_detail", args=[pairing.pk])
    client.force_login(pairing.mentee)
    page = client.get(reverse("mentoring_home")).content.decode()
    assert "Agree how you will work together" in page


def test_a_meeting_proposal_waiting_comes_before_the_agreement(documents, scheme, network):
    pairing = make_pairing(scheme, network)
    Meeting.objects.create(
        pairing=pairing,
        proposed_by=pairing.mentor,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        duration_minutes=60,
    )
    assert pairing_next_step(pairing, pairing.mentee).text == f"Answer {pairing.mentor.first_name}'s proposed meeting"
    # The proposer waits: nothing to answer on their side.
    assert pairing_next_step(pairing, pairing.mentor).text == "Agree how you will work together"


def test_an_ended_pairing_says_so(documents, scheme, network):
    pairing = make_pairing(scheme, network)
    Pairing.objects.filter(pk=pairing.pk).update(status=Pairing.Status.ENDED, ended_at=timezone.now())
    pairing.refresh_from_db()
    assert pairing_next_step(pairing, pairing.mentor).text == "Ended"
