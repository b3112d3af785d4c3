"""The eligibility engine: one answer, every reason (R-ELIG-1 to R-ELIG-6)."""

import copy
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import MembershipStatus
from mentoring.models import Role, SchemeMembership
from safeguarding import eligibility
from safeguarding.models import DBSCheck, TrainingKind
from tests import factories


def unmet_codes(result):
    return {c.code for c in result.unmet}


def test_an_eligible_mentor_meets_every_condition(mentor, scheme):
    result = eligibility.check(mentor, scheme, Role.MENTOR)
    assert result.ok, result.unmet
    assert {c.code for c in result.conditions} >= {"joined", "age", "membership", "documents"}


@pytest.mark.parametrize(
    ("born", "today", "ok"),
    [
        (datetime.date(2008, 11, 22), datetime.date(2026, 11, 22), True),  # 18th birthday today
        (datetime.date(2008, 11, 23), datetime.date(2026, 11, 22), False),  # 18 tomorrow
        # A 29 February birthday turns 18 on 1 March in a non-leap year.
        (datetime.date(2008, 2, 29), datetime.date(2026, 2, 28), False),
        (datetime.date(2008, 2, 29), datetime.date(2026, 3, 1), True),
    ],
)
def test_a_member_is_18_or_over_on_the_day_of_the_check(mentee, scheme, born, today, ok):
    # R-ELIG-1
    mentee.date_of_birth = born
    mentee.membership_expires_on = today + datetime.timedelta(days=30)
    result = eligibility.check(mentee, scheme, Role.MENTEE, today=today)
    assert ("age" not in unmet_codes(result)) is ok


def test_a_leap_day_birthday_is_not_18_on_28_february(mentee, scheme):
    # R-ELIG-1: 18 years after a leap year is never a leap year, so 1 March is the day
    mentee.date_of_birth = datetime.date(2012, 2, 29)
    assert "age" in unmet_codes(eligibility.check(mentee, scheme, Role.MENTEE, today=datetime.date(2030, 2, 28)))
    assert "age" not in unmet_codes(eligibility.check(mentee, scheme, Role.MENTEE, today=datetime.date(2030, 3, 1)))


def test_a_missing_date_of_birth_is_asked_for(mentee, scheme):
    # R-ELIG-1, R-ELIG-6
    mentee.date_of_birth = None
    (condition,) = [c for c in eligibility.check(mentee, scheme, Role.MENTEE).unmet if c.code == "age"]
    assert "date of birth" in condition.reason
    assert condition.fix_url == "/accounts/details/"


@pytest.mark.parametrize(
    ("status", "expires_in_days", "ok"),
    [
        (MembershipStatus.ACTIVE, 30, True),
        (MembershipStatus.ACTIVE, 0, True),  # expires today: still valid today
        (MembershipStatus.ACTIVE, -1, False),  # expired yesterday: lapsed
        (MembershipStatus.LAPSED, 30, False),
        (MembershipStatus.UNVERIFIED, 30, False),
    ],
)
def test_membership_must_be_active_with_an_unexpired_date(mentee, scheme, status, expires_in_days, ok):
    # R-ELIG-2
    today = timezone.localdate()
    mentee.membership_status = status
    mentee.membership_expires_on = today + datetime.timedelta(days=expires_in_days)
    assert ("membership" not in unmet_codes(eligibility.check(mentee, scheme, Role.MENTEE, today=today))) is ok


def test_a_lapsed_membership_says_participation_is_suspended(mentee, scheme):
    # R-ELIG-2
    mentee.membership_expires_on = timezone.localdate() - datetime.timedelta(days=1)
    (condition,) = eligibility.check(mentee, scheme, Role.MENTEE).unmet
    assert "lapsed" in condition.reason and "suspended" in condition.reason
    assert condition.fix


def test_a_mentor_without_training_gets_both_courses_listed(documents, scheme, network):
    # R-ELIG-3, R-ELIG-6: every unmet condition at once, each with a fix
    user = factories.UserFactory()
    factories.accept_current_documents(user)
    factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTOR)
    result = eligibility.check(user, scheme, Role.MENTOR)
    assert unmet_codes(result) == {TrainingKind.SAFEGUARDING_ELEARNING, TrainingKind.MENTOR_TRAINING}
    assert all(c.reason and c.fix for c in result.unmet)


def test_training_is_not_asked_of_mentees(documents, scheme, network):
    # R-ELIG-3 applies to mentors only
    user = factories.UserFactory()
    factories.accept_current_documents(user)
    factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTEE)
    assert eligibility.check(user, scheme, Role.MENTEE).ok


def test_expired_training_no_longer_counts(mentor, scheme):
    # R-ELIG-3: records keep their expiry
    record = mentor.training_records.get(kind=TrainingKind.MENTOR_TRAINING)
    record.completed_on = timezone.localdate() - datetime.timedelta(days=800)
    record.expires_on = timezone.localdate() - datetime.timedelta(days=1)
    record.save()
    (condition,) = eligibility.check(mentor, scheme, Role.MENTOR).unmet
    assert condition.code == TrainingKind.MENTOR_TRAINING
    assert "expired" in condition.reason


def test_dbs_is_required_only_where_the_scheme_requires_it(mentor, dbs_scheme, scheme, network):
    # R-ELIG-4
    factories.MembershipFactory(user=mentor, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    assert "dbs" in unmet_codes(eligibility.check(mentor, dbs_scheme, Role.MENTOR))
    assert eligibility.check(mentor, scheme, Role.MENTOR).ok
    factories.DBSCheckFactory(user=mentor)
    assert eligibility.check(mentor, dbs_scheme, Role.MENTOR).ok


@pytest.mark.parametrize(
    ("status", "cleared_days_ago", "ok", "words"),
    [
        (DBSCheck.Status.REQUESTED, None, False, "in progress"),
        (DBSCheck.Status.SUBMITTED, None, False, "in progress"),
        (DBSCheck.Status.REFUSED, None, False, "refused"),
        (DBSCheck.Status.CLEARED, 30, True, ""),
        # Past the scheme's three-year recheck interval.
        (DBSCheck.Status.CLEARED, 3 * 366, False, "expired"),
    ],
)
def test_dbs_states(mentor, dbs_scheme, network, status, cleared_days_ago, ok, words):
    # R-ELIG-4, R-SAFE-3
    factories.MembershipFactory(user=mentor, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    cleared_on = timezone.localdate() - datetime.timedelta(days=cleared_days_ago) if cleared_days_ago else None
    factories.DBSCheckFactory(user=mentor, status=status, cleared_on=cleared_on)
    result = eligibility.check(mentor, dbs_scheme, Role.MENTOR)
    assert result.ok is ok
    if not ok:
        (condition,) = result.unmet
        assert words in condition.reason


def test_a_new_terms_version_must_be_accepted(mentee, scheme, documents):
    # R-ELIG-5, R-SCHEME-4
    factories.TermsVersionFactory(kind="terms", version="2027.1")
    (condition,) = eligibility.check(mentee, scheme, Role.MENTEE).unmet
    assert condition.code == "documents"
    assert "2027.1" in condition.reason
    assert condition.fix_url == "/documents/accept/"


def test_an_unpublished_draft_is_not_asked_for(mentee, scheme, documents):
    # R-ELIG-5: only published versions count
    factories.TermsVersionFactory(kind="terms", version="2027.1", published_at=None)
    assert eligibility.check(mentee, scheme, Role.MENTEE).ok


@pytest.mark.parametrize(
    "status",
    [SchemeMembership.Status.SUSPENDED, SchemeMembership.Status.WITHDRAWN, SchemeMembership.Status.PAUSED],
)
def test_suspended_withdrawn_or_paused_members_may_not_act(mentee, scheme, status):
    # R-ELIG-6 (and DESIGN states): not suspended or withdrawn
    SchemeMembership.objects.filter(user=mentee).update(status=status)
    assert unmet_codes(eligibility.check(mentee, scheme, Role.MENTEE)) == {"joined"}


def test_a_member_who_has_not_joined_is_told_to_join(mentee, scheme):
    # R-SCHEME-1: each scheme is joined separately
    (condition,) = eligibility.check(mentee, scheme, Role.MENTOR).unmet[:1]
    assert condition.code == "joined"
    assert condition.fix_url == "/schemes/join/"


def test_every_unmet_condition_is_returned_not_just_the_first(db, documents, dbs_scheme, network):
    # R-ELIG-6
    user = factories.UserFactory(date_of_birth=None, membership_status=MembershipStatus.UNVERIFIED)
    factories.MembershipFactory(user=user, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    result = eligibility.check(user, dbs_scheme, Role.MENTOR)
    assert unmet_codes(result) == {
        "age",
        "membership",
        "documents",
        TrainingKind.SAFEGUARDING_ELEARNING,
        TrainingKind.MENTOR_TRAINING,
        "dbs",
    }


def test_require_raises_with_every_reason(mentee, scheme):
    # R-ELIG-6
    mentee.date_of_birth = None
    mentee.membership_status = MembershipStatus.LAPSED
    with pytest.raises(eligibility.NotEligible) as raised:
        eligibility.require(mentee, scheme, Role.MENTEE)
    assert len(raised.value.eligibility.unmet) == 2


def test_not_eligible_is_a_validation_error_with_a_plain_message(mentee, scheme):
    # R-ELIG-6: a view that catches ValidationError shows each reason; the message reads as plain words
    mentee.date_of_birth = None
    mentee.membership_status = MembershipStatus.LAPSED
    with pytest.raises(ValidationError) as raised:
        eligibility.require(mentee, scheme, Role.MENTEE)
    error = raised.value
    assert isinstance(error, eligibility.NotEligible)
    assert error.messages == [
        "We do not have your date of birth.",
        "Your membership has lapsed; participation is suspended until it is renewed.",
    ]
    assert str(error) == " ".join(error.messages)
    assert [e.code for e in error.error_list] == ["age", "membership"]
    assert copy.deepcopy(error).messages == error.messages


def test_require_returns_the_result_when_every_condition_is_met(mentee, scheme):
    assert eligibility.require(mentee, scheme, Role.MENTEE).ok


def test_the_check_runs_four_queries_at_most(mentor, dbs_scheme, network, django_assert_max_num_queries):
    membership = factories.MembershipFactory(user=mentor, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    for _ in range(5):
        factories.DBSCheckFactory(user=mentor)
    with django_assert_max_num_queries(4):
        eligibility.check(mentor, dbs_scheme, Role.MENTOR)
    with django_assert_max_num_queries(3):
        eligibility.check(mentor, dbs_scheme, Role.MENTOR, membership=membership)
