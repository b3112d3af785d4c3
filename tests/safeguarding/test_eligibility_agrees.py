"""check() and eligible_users() agree on every member, role, scheme and day (R-ELIG-1 to R-ELIG-6).

A mentor listed by the query but refused by the check is listed, asked, then
refused at accept; one the query leaves out is never found. Hypothesis builds
members whose dates sit on the boundaries the rules draw around a day (18th
birthdays, 29 February ones too; membership and training expiry; DBS recheck
anniversaries) and compares the two on that day, the day before and the day
after, so 28 February, 29 February and 1 March of leap and non-leap years are
all judged.
"""

import datetime
from unittest import mock

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import MembershipStatus
from mentoring.models import DocumentKind, Role, SchemeMembership, TermsAcceptance
from safeguarding import eligibility
from safeguarding.models import DBSCheck, TrainingKind
from tests import factories

DJANGO = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ONE_DAY = datetime.timedelta(days=1)

# Days around the end of February, in leap years (2028, 2032) and not (2027, 2029).
FEBRUARY_ENDS = [
    datetime.date(2028, 2, 29),
    datetime.date(2028, 2, 28),
    datetime.date(2028, 3, 1),
    datetime.date(2027, 2, 28),
    datetime.date(2027, 3, 1),
    datetime.date(2029, 2, 28),
    datetime.date(2032, 2, 29),
]
# Two parts in three from the end of February, where the rules' dates are hardest.
anchor_days = st.one_of(
    st.sampled_from(FEBRUARY_ENDS),
    st.sampled_from(FEBRUARY_ENDS),
    st.dates(datetime.date(2026, 1, 1), datetime.date(2032, 12, 31)),
)
ACCEPTED = [DocumentKind.TERMS, DocumentKind.CODE_OF_CONDUCT, DocumentKind.PRIVACY_NOTICE]
# The zones furthest ahead and behind, one with a half hour, and the site's own.
ZONES = ["Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata", "America/New_York", "UTC"]
# What may be wrong with a member besides their dates: mostly nothing, so the dates decide.
SPOILS = [None] * 8 + [
    "no date of birth",
    "no number",
    "unverified",
    "lapsed",
    "not joined",
    "not accepted",
    "no training",
    "no cleared DBS check",
]


def years_after(day: datetime.date, years: int) -> datetime.date:
    """For building data only: the same day `years` later, 29 February falling back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def leap_day_near(year: int) -> datetime.date:
    while year % 4 or (year % 100 == 0 and year % 400):
        year -= 1
    return datetime.date(year, 2, 29)


@st.composite
def members(draw, anchor: datetime.date, recheck_years: int):
    """One member as plain data; each date either safely inside its rule or on the boundary at `anchor`."""
    spoil = draw(st.sampled_from(SPOILS))
    date_of_birth = {
        "adult": datetime.date(1980, 5, 17),
        "18 on the day": years_after(anchor, -18),
        "born on a leap day": leap_day_near(anchor.year - 18 + draw(st.integers(0, 1))),
    }[draw(st.sampled_from(["18 on the day", "born on a leap day", "adult"]))]

    def expiry():
        return {"later": anchor + datetime.timedelta(days=200), "on the day": anchor, "never": None}[
            draw(st.sampled_from(["later", "on the day", "never"]))
        ]

    def cleared_on():
        return {
            "on the recheck anniversary": years_after(anchor, -recheck_years),
            "on a leap day": leap_day_near(anchor.year - recheck_years + draw(st.integers(0, 1))),
            "recently": anchor - datetime.timedelta(days=30),
        }[draw(st.sampled_from(["on the recheck anniversary", "on a leap day", "recently"]))]

    def other_dbs_check():
        status = draw(st.sampled_from(DBSCheck.Status))
        when = cleared_on() if status == DBSCheck.Status.CLEARED else draw(st.sampled_from([None, cleared_on()]))
        return status, when

    dbs = [] if spoil == "no cleared DBS check" else [(DBSCheck.Status.CLEARED, cleared_on())]
    return {
        "date_of_birth": None if spoil == "no date of birth" else date_of_birth,
        "has_number": spoil != "no number",
        "membership_status": {"unverified": MembershipStatus.UNVERIFIED, "lapsed": MembershipStatus.LAPSED}.get(
            spoil, MembershipStatus.ACTIVE
        ),
        "membership_expires_on": expiry(),
        "joined": {
            role: draw(
                st.sampled_from([None, *SchemeMembership.Status])
                if spoil == "not joined"
                else st.sampled_from([SchemeMembership.Status.ACTIVE, SchemeMembership.Status.PENDING])
            )
            for role in Role
        },
        "accepted": draw(st.sets(st.sampled_from(ACCEPTED))) if spoil == "not accepted" else ACCEPTED,
        "training": {
            kind: [expiry() for _ in range(draw(st.sampled_from([0, 1, 2] if spoil == "no training" else [1, 2])))]
            for kind in TrainingKind
        },
        "dbs": dbs + [other_dbs_check() for _ in range(draw(st.sampled_from([0, 1])))],
        "time_zone": draw(st.sampled_from(ZONES)),
    }


@st.composite
def situations(draw):
    """A day, a scheme, and a handful of members built around that day."""
    anchor = draw(anchor_days)
    scheme = {
        "dbs_required": draw(st.sampled_from([True, True, False])),
        "dbs_recheck_years": draw(st.sampled_from([3, 1, 2, 4, 5])),
    }
    people = draw(st.lists(members(anchor, scheme["dbs_recheck_years"]), min_size=1, max_size=5))
    return anchor, scheme, people


def build(scheme_data, people, documents, network):
    scheme = factories.SchemeFactory(**scheme_data)
    users = []
    for n, person in enumerate(people):
        # Built then saved: the email address and languages the factory adds play no part here.
        user = factories.UserFactory.build(
            date_of_birth=person["date_of_birth"],
            membership_number=str(40000000 + n) if person["has_number"] else "",
            membership_status=person["membership_status"],
            membership_expires_on=person["membership_expires_on"],
            time_zone=person["time_zone"],
        )
        user.save()
        for role, status in person["joined"].items():
            if status is not None:
                factories.MembershipFactory(user=user, scheme=scheme, network=network, role=role, status=status)
        for kind in person["accepted"]:
            TermsAcceptance.objects.create(user=user, version=documents[kind])
        for kind, expiries in person["training"].items():
            for expires_on in expiries:
                completed_on = (expires_on or datetime.date(2026, 1, 1)) - datetime.timedelta(days=400)
                factories.TrainingRecordFactory(user=user, kind=kind, completed_on=completed_on, expires_on=expires_on)
        for status, cleared_on in person["dbs"]:
            factories.DBSCheckFactory(user=user, status=status, cleared_on=cleared_on)
        users.append(user)
    return scheme, users


def assert_agree(scheme, users, **when):
    for role in Role:
        listed = set(eligibility.eligible_users(scheme, role, **when).values_list("pk", flat=True))
        for user in users:
            result = eligibility.check(user, scheme, role, **when)
            assert result.ok == (user.pk in listed), (role, when, user.time_zone, [c.reason for c in result.unmet])
        # The dashboards' condition on membership rows (issue 11, item 6) finds the very same members.
        rows = SchemeMembership.objects.filter(eligibility.eligible_memberships([scheme], **when), scheme=scheme)
        assert set(rows.filter(role=role).values_list("user_id", flat=True)) == listed, (role, when)
        # Asked beside a scheme with the other DBS rule, so each rule's subquery applies to some rows only.
        both = [scheme, other_rules_scheme(scheme)]
        rows = SchemeMembership.objects.filter(eligibility.eligible_memberships(both, **when), scheme=scheme)
        assert set(rows.filter(role=role).values_list("user_id", flat=True)) == listed, (role, when, "two schemes")


def other_rules_scheme(scheme):
    return factories.SchemeFactory(
        slug=f"other-rules-{scheme.pk}", dbs_required=not scheme.dbs_required, dbs_recheck_years=1
    )


@DJANGO
@given(situation=situations())
def test_check_and_eligible_users_agree_on_the_day_before_and_after(documents, network, situation):
    # R-ELIG-1 to R-ELIG-6: one set of rules, whether asked of one member or listed for thousands
    anchor, scheme_data, people = situation
    with transaction.atomic():
        scheme, users = build(scheme_data, people, documents, network)
        for today in (anchor - ONE_DAY, anchor, anchor + ONE_DAY):
            assert_agree(scheme, users, today=today)
        transaction.set_rollback(True)


@settings(DJANGO, max_examples=40)
@given(situation=situations(), minutes=st.sampled_from([-90, -31, -1, 0, 1, 29, 31, 90, 600]))
def test_check_and_eligible_users_agree_on_each_members_own_date(documents, network, situation, minutes):
    # With no day given, both judge each member on the date where the member is.
    anchor, scheme_data, people = situation
    # A moment near midnight UTC, when members in different zones are on different dates.
    now = datetime.datetime.combine(anchor, datetime.time(0, 0), tzinfo=datetime.UTC) + datetime.timedelta(
        minutes=minutes
    )
    with transaction.atomic():
        scheme, users = build(scheme_data, people, documents, network)
        with mock.patch("django.utils.timezone.now", return_value=now):
            assert_agree(scheme, users)
        transaction.set_rollback(True)
