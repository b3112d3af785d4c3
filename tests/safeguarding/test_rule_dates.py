"""The dates the rules are judged against: each derived from one definition (R-ELIG-1, R-ELIG-4)."""

import datetime

import pytest

from accounts.models import age_on
from mentoring.models import Role, Scheme
from safeguarding import eligibility
from safeguarding.eligibility import Criteria, dbs_expires_on
from tests import factories

# Four years of days: every position in the leap-year cycle.
DAYS = [datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(4 * 366)]
NEAR = [datetime.timedelta(days=n) for n in range(-3, 4)]


def criteria_on(today, recheck_years=3):
    return Criteria.on(today, Scheme(dbs_required=True, dbs_recheck_years=recheck_years), Role.MENTOR, documents=())


@pytest.mark.parametrize(
    ("cleared_on", "years", "last_day"),
    [
        (datetime.date(2025, 2, 28), 3, datetime.date(2028, 2, 28)),
        (datetime.date(2024, 2, 29), 3, datetime.date(2027, 2, 28)),  # no 29 February in 2027
        (datetime.date(2024, 2, 29), 4, datetime.date(2028, 2, 29)),
        (datetime.date(2025, 3, 1), 3, datetime.date(2028, 3, 1)),
    ],
)
def test_a_dbs_check_is_current_up_to_its_recheck_anniversary(cleared_on, years, last_day):
    # R-ELIG-4
    assert dbs_expires_on(cleared_on, years) == last_day


@pytest.mark.parametrize("years", [1, 2, 3, 4, 5])
def test_the_cleared_since_cutoff_of_the_query_is_the_expiry_date_turned_round(years):
    # R-ELIG-4: the query's "cleared on or after" and the check's "expires on" are one rule
    for today in DAYS:
        cutoff = criteria_on(today, years).dbs_cleared_since
        for offset in NEAR:
            cleared_on = cutoff + offset
            assert (cleared_on >= cutoff) == (dbs_expires_on(cleared_on, years) >= today), (today, cleared_on)


def test_the_adult_cutoff_of_the_query_is_the_age_rule_turned_round():
    # R-ELIG-1: born on or before the cutoff exactly when 18 or over by age_on
    for today in DAYS:
        cutoff = criteria_on(today).adult_born_by
        for offset in NEAR:
            born = cutoff + offset
            assert (born <= cutoff) == (age_on(born, today) >= eligibility.ADULT_AGE), (today, born)


def test_on_29_february_a_leap_day_birthday_18_years_ago_does_not_exist_so_28_february_is_the_cutoff():
    # R-ELIG-1: 18 years before 29 February 2028 is 2010, which has no 29 February
    assert criteria_on(datetime.date(2028, 2, 29)).adult_born_by == datetime.date(2010, 2, 28)
    assert criteria_on(datetime.date(2026, 2, 28)).adult_born_by == datetime.date(2008, 2, 28)
    assert criteria_on(datetime.date(2026, 3, 1)).adult_born_by == datetime.date(2008, 3, 1)


@pytest.fixture
def dbs_mentor(mentor, dbs_scheme, network):
    """A mentor whose only dated evidence is a DBS check cleared on 28 February 2025."""
    factories.MembershipFactory(user=mentor, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    mentor.membership_expires_on = None
    mentor.save()
    mentor.training_records.update(expires_on=None)
    factories.DBSCheckFactory(user=mentor, cleared_on=datetime.date(2025, 2, 28))
    return mentor


@pytest.mark.parametrize(
    ("today", "current"),
    [(datetime.date(2028, 2, 28), True), (datetime.date(2028, 2, 29), False), (datetime.date(2028, 3, 1), False)],
)
def test_a_check_cleared_on_28_february_2025_is_judged_alike_by_the_check_and_the_listing(
    dbs_mentor, dbs_scheme, today, current
):
    # R-ELIG-4: it used to be expired for check() and current for the listing on 29 February 2028,
    # so the mentor was listed, asked, then refused at accept.
    result = eligibility.check(dbs_mentor, dbs_scheme, Role.MENTOR, today=today)
    listed = eligibility.eligible_users(dbs_scheme, Role.MENTOR, today=today).filter(pk=dbs_mentor.pk).exists()
    assert result.ok is current
    assert listed is current
