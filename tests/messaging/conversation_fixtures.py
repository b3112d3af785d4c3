"""A pairing started the way the product starts one, with its conversation (shared by the conversation tests)."""

import pytest

from mentoring import services
from mentoring.models import Pairing, SchemeMembership
from tests import factories


@pytest.fixture
def started(documents, scheme, network):
    """An active pairing of David (mentor) and Amara (mentee), started by pairing_start."""
    mentor = factories.listed_mentor(scheme, network, capacity=2)
    mentor.first_name = "David"
    mentor.save(update_fields=["first_name"])
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    SchemeMembership.objects.filter(user__in=[mentor, mentee]).update(status=SchemeMembership.Status.ACTIVE)
    pairing = services.pairing_start(mentor=mentor, mentee=mentee, scheme=scheme, origin=Pairing.Origin.MANUAL)
    assert pairing.conversation  # loaded now, so async tests can read it without a query
    return pairing
