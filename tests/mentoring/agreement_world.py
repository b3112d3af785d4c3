"""A mentor and a mentee paired in the career scheme, for the agreement, goals, notes and CPD tests."""

import datetime

import pytest
from django.utils import timezone

from mentoring.models import Pairing
from tests import factories

FIELDS = {
    "goals": "Prepare for chartership.",
    "roles": "David listens and asks; Amara leads.",
    "boundaries": "No calls after 9 pm.",
    "frequency": "Every two weeks",
    "session_timing": "Tuesday evenings",
    "session_duration_minutes": 60,
    "confidentiality": "What we say stays between us.",
    "confidentiality_exceptions": "Harm to self or others; illegal activity; safeguarding.",
}


def agreement_fields(**changes) -> dict:
    today = timezone.localdate()
    return {
        **FIELDS,
        "period_start": today,
        "period_end": today + datetime.timedelta(days=180),
        "review_date": today + datetime.timedelta(days=90),
        **changes,
    }


def as_post(fields: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in fields.items()}


@pytest.fixture(name="pairing")
def pairing_fixture(mentor, mentee, scheme, network):
    factories.MenteeProfileFactory(user=mentee, goals="Prepare for chartership.\n- Learn to lead a team\n\n")
    return Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
