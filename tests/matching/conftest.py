import pytest

from tests import factories


@pytest.fixture
def listed(documents, scheme, network):
    """A listed mentor with two places (their User)."""
    return factories.listed_mentor(scheme, network, capacity=2)


@pytest.fixture
def seeker(documents, scheme, network):
    """An eligible mentee with goals set."""
    return factories.eligible_mentee(scheme, network, first_name="Amara")


NO_CONFLICT = {"kind": "none", "details": "", "manageable": True}


@pytest.fixture
def no_conflict():
    return dict(NO_CONFLICT)
