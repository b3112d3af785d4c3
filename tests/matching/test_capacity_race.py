"""Capacity holds when two accepts race for a mentor's last place (R-MATCH-2), on PostgreSQL row locks."""

import threading
import time

import pytest
from django.db import connection, connections

from matching import services
from matching.models import PairingProposal
from mentoring.models import Pairing
from safeguarding import eligibility
from tests import factories

NO_CONFLICT = {"kind": "none", "details": "", "manageable": True}


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        # Not a debt: CI's second pass runs the whole suite on PostgreSQL, where this runs.
        pytest.skip("row locks need PostgreSQL: CI runs this in its PostgreSQL pass (DATABASE_URL)")


def test_two_accepts_for_the_last_place_give_one_pairing(
    postgres, transactional_db, documents, scheme, network, monkeypatch
):
    mentor = factories.listed_mentor(scheme, network, capacity=1)
    first, second = (factories.eligible_mentee(scheme, network) for _ in range(2))
    scheme.max_pending_requests_per_mentee = 1
    scheme.save()
    requests = [
        services.request_send(
            mentee=m, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )
        for m in (first, second)
    ]
    # Widen the window between reading the mentor's pairings and writing the new
    # one, so that without the row lock both accepts would see a free place.
    slow_check = eligibility.check

    def check(*args, **kwargs):
        time.sleep(0.3)
        return slow_check(*args, **kwargs)

    monkeypatch.setattr(eligibility, "check", check)
    barrier = threading.Barrier(2)
    outcomes = {}

    def accept(request_id):
        try:
            barrier.wait(timeout=10)
            services.request_accept(request_id=request_id, mentor=mentor, declaration=NO_CONFLICT)
            outcomes[request_id] = "paired"
        except services.RequestRefused as refused:
            outcomes[request_id] = refused.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(r.pk,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Pairing.objects.filter(mentor=mentor, status="active").count() == 1
    assert sorted(outcomes) == sorted(r.pk for r in requests)
    assert list(outcomes.values()).count("paired") == 1
    (message,) = [v for v in outcomes.values() if v != "paired"]
    assert "the most they have offered to take" in message


def test_two_proposals_confirmed_at_once_for_the_last_place_give_one_pairing(
    postgres, transactional_db, documents, scheme, network, coordinator, monkeypatch
):
    # R-MATCH-2, R-MATCH-3: a coordinator's proposals start through the same locked start as requests
    mentor = factories.listed_mentor(scheme, network, capacity=1)
    mentees = [factories.eligible_mentee(scheme, network) for _ in range(2)]
    proposals = [
        services.proposal_create(scheme=scheme, mentee=mentee, mentor=mentor, actor=coordinator) for mentee in mentees
    ]
    for proposal, mentee in zip(proposals, mentees, strict=True):
        services.proposal_confirm(proposal_id=proposal.pk, member=mentee, declaration=NO_CONFLICT)
    slow_check = eligibility.check

    def check(*args, **kwargs):
        time.sleep(0.3)
        return slow_check(*args, **kwargs)

    monkeypatch.setattr(eligibility, "check", check)
    barrier = threading.Barrier(2)

    def confirm(proposal_id):
        try:
            barrier.wait(timeout=10)
            services.proposal_confirm(proposal_id=proposal_id, member=mentor, declaration=NO_CONFLICT)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(p.pk,)) for p in proposals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Pairing.objects.filter(mentor=mentor, status="active").count() == 1
    statuses = sorted(PairingProposal.objects.values_list("status", flat=True))
    assert statuses == ["lapsed", "started"]
    assert "the most they have offered to take" in PairingProposal.objects.get(status="lapsed").outcome
