"""Fixtures shared by the ending, withdrawal and feedback tests (imported by each of those files)."""

import pytest
from django.conf import settings

from mentoring.models import Pairing, Role, SchemeMembership
from tests import factories
from tests.conftest import _role_user


@pytest.fixture
def pair(documents, scheme, network):
    """An active pairing of a listed mentor (two places) and an eligible mentee, both in `network`."""
    mentor = factories.listed_mentor(scheme, network, capacity=2)
    mentor.first_name = "David"
    mentor.save(update_fields=["first_name"])
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    SchemeMembership.objects.filter(user__in=[mentor, mentee]).update(status=SchemeMembership.Status.ACTIVE)
    return Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)


@pytest.fixture
def other_coordinator(db, other_network):
    user = _role_user(settings.GROUP_COORDINATORS, first_name="Olive")
    other_network.coordinators.add(user)
    return user


def membership(user, scheme, role=Role.MENTEE) -> SchemeMembership:
    return SchemeMembership.objects.get(user=user, scheme=scheme, role=role)
