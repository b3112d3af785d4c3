"""A rule is judged on the member's own date, whoever asks (R-ELIG-1)."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import local_today
from mentoring.models import Role
from safeguarding import eligibility
from tests import factories

# 23:30 UTC on 14 January 2027: already 15 January in Kolkata (05:00), still the 14th in UTC and Los Angeles.
EVE = datetime.datetime(2027, 1, 14, 23, 30, tzinfo=datetime.UTC)
EIGHTEENTH_BIRTHDAY_TOMORROW_IN_UTC = datetime.date(2009, 1, 15)


def frozen_at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_local_today_is_the_date_in_the_named_zone():
    assert local_today("Asia/Kolkata", at=EVE) == datetime.date(2027, 1, 15)
    assert local_today("UTC", at=EVE) == datetime.date(2027, 1, 14)
    assert local_today("America/Los_Angeles", at=EVE) == datetime.date(2027, 1, 14)


def test_an_unknown_zone_reads_as_the_sites_zone():
    assert local_today("Mars/Olympus_Mons", at=EVE) == timezone.localdate(EVE, timezone.get_default_timezone())


@pytest.mark.parametrize(
    ("member_zone", "adult"),
    [("Asia/Kolkata", True), ("UTC", False), ("America/Los_Angeles", False)],
)
@pytest.mark.parametrize("asker_zone", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def test_the_check_judges_the_age_on_the_members_date_not_the_askers(mentee, scheme, member_zone, adult, asker_zone):
    # R-ELIG-1: a coordinator in another zone, or a Celery task in UTC, gets the member's answer
    mentee.date_of_birth = EIGHTEENTH_BIRTHDAY_TOMORROW_IN_UTC
    mentee.time_zone = member_zone
    mentee.save()
    with frozen_at(EVE), timezone.override(asker_zone):
        assert eligibility.judged_on(mentee) == local_today(member_zone, at=EVE)
        result = eligibility.check(mentee, scheme, Role.MENTEE)
        listed = eligibility.eligible_users(scheme, Role.MENTEE).filter(pk=mentee.pk).exists()
    assert ("age" not in {c.code for c in result.unmet}) is adult
    assert result.ok is adult
    assert listed is adult


def test_the_listing_judges_members_in_different_zones_each_on_their_own_date(mentee, scheme, network):
    # R-ELIG-1: one query, members on two different dates
    others = []
    for zone in ("Asia/Kolkata", "America/Los_Angeles"):
        user = factories.UserFactory(date_of_birth=EIGHTEENTH_BIRTHDAY_TOMORROW_IN_UTC, time_zone=zone)
        factories.accept_current_documents(user)
        factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTEE)
        others.append(user)
    with frozen_at(EVE):
        listed = set(eligibility.eligible_users(scheme, Role.MENTEE).values_list("pk", flat=True))
        checked = {u.pk for u in [mentee, *others] if eligibility.check(u, scheme, Role.MENTEE).ok}
    assert listed == checked == {mentee.pk, others[0].pk}
