"""The table of eligible memberships: derived from the one eligibility engine and kept in line by every write it
depends on (issue 11 item 6: the dashboards count it; R-ELIG-1 to R-ELIG-6, R-REPORT-1)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mentoring.models import Role, Scheme, SchemeMembership, TermsAcceptance
from safeguarding import eligible_table, tasks
from safeguarding.eligibility import check, eligible_memberships, eligible_users
from safeguarding.models import DBSCheck, EligibleMembership, TrainingRecord
from tests import factories


def table() -> set[int]:
    return set(EligibleMembership.objects.values_list("membership_id", flat=True))


def engine() -> set[int]:
    """What the engine says, computed afresh: memberships whose member is eligible in their scheme and role."""
    schemes = list(Scheme.objects.order_by("pk"))
    return set(SchemeMembership.objects.filter(eligible_memberships(schemes)).values_list("pk", flat=True))


def by_users() -> set[int]:
    """The same from `eligible_users`, one scheme and role at a time (the engine's other form)."""
    rows = set()
    for scheme in Scheme.objects.all():
        for role in Role.values:
            users = eligible_users(scheme, role)
            rows |= set(
                SchemeMembership.objects.filter(scheme=scheme, role=role, user__in=users).values_list("pk", flat=True)
            )
    return rows


def assert_agrees():
    assert table() == engine() == by_users()


def save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


@pytest.fixture
def people(documents, scheme, dbs_scheme, network):
    mentors = [factories.listed_mentor(scheme, network) for _ in range(3)]
    factories.MembershipFactory(user=mentors[0], scheme=dbs_scheme, network=network, role=Role.MENTOR)
    factories.DBSCheckFactory(user=mentors[0])
    mentees = [factories.eligible_mentee(scheme, network) for _ in range(2)]
    return mentors, mentees


def test_every_kind_of_write_keeps_the_table_in_line_with_the_engine(people, scheme, dbs_scheme, network):
    mentors, mentees = people
    first, second, third = mentors
    assert_agrees()
    assert len(table()) == 6  # three mentors, one of them in the DBS scheme too, and two mentees
    steps = [
        lambda: save(SchemeMembership.objects.get(user=third, scheme=scheme), status="paused"),
        lambda: save(SchemeMembership.objects.get(user=third, scheme=scheme), status="active"),
        lambda: save(mentees[0], membership_status="lapsed"),
        lambda: save(mentees[0], membership_status="active"),
        lambda: save(mentees[1], date_of_birth=timezone.localdate() - datetime.timedelta(days=365 * 17)),
        lambda: save(second, time_zone="Pacific/Kiritimati"),
        lambda: TrainingRecord.objects.filter(user=second).first().delete(),
        lambda: factories.TrainingRecordFactory(user=second, kind=TrainingRecord.objects.filter(user=third)[0].kind),
        lambda: DBSCheck.objects.filter(user=first).first().delete(),
        lambda: factories.DBSCheckFactory(user=first),
        lambda: save(dbs_scheme, dbs_recheck_years=1),
        lambda: TermsAcceptance.objects.filter(user=mentees[0]).first().delete(),
        lambda: factories.accept_current_documents(mentees[0]),
        lambda: factories.TermsVersionFactory(kind="terms", version="2027.1"),  # nobody has accepted it yet
        lambda: factories.accept_current_documents(first),
        lambda: SchemeMembership.objects.get(user=first, scheme=dbs_scheme).delete(),
    ]
    for step in steps:
        step()
        assert_agrees()
    # Only `first` accepted the new terms; their DBS-scheme membership is gone.
    assert table() == set(SchemeMembership.objects.filter(user=first).values_list("pk", flat=True))


def test_a_save_of_one_member_judges_that_members_rows_only(people):
    mentors, _ = people
    before = table()
    with CaptureQueriesContext(connection) as captured:
        save(mentors[1], membership_status="lapsed")
    writes = [q["sql"] for q in captured.captured_queries if "safeguarding_eligiblemembership" in q["sql"]]
    assert writes and all("DELETE" in sql or "SELECT" in sql for sql in writes)
    assert before - table() == set(SchemeMembership.objects.filter(user=mentors[1]).values_list("pk", flat=True))
    assert eligible_table.refresh_all() == 0  # the signal already wrote everything there was


def test_a_sign_in_judges_nobody(people):
    mentors, _ = people
    mentors[0].last_login = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        mentors[0].save(update_fields=["last_login"])
    assert not [q for q in captured.captured_queries if "safeguarding_eligiblemembership" in q["sql"]]


def test_saves_inside_a_batch_refresh_once_at_its_end(people, scheme, network):
    mentors, _ = people
    with eligible_table.batched():
        save(mentors[1], membership_status="lapsed")
        newcomer = factories.eligible_mentee(scheme, network)
        assert SchemeMembership.objects.get(user=mentors[1]).pk in table()  # not yet
        assert not EligibleMembership.objects.filter(membership__user=newcomer).exists()
    assert_agrees()
    assert EligibleMembership.objects.filter(membership__user=newcomer).exists()


def test_a_batch_that_fails_refreshes_nothing(people):
    mentors, _ = people
    with pytest.raises(RuntimeError), eligible_table.batched():
        save(mentors[1], membership_status="lapsed")
        raise RuntimeError("the import failed")
    assert table() != engine()  # left to the transaction (rolled back in real use) and the scheduled job
    assert not eligible_table._batch.open()  # later saves refresh at once again
    mentors[1].save()
    assert_agrees()


def test_what_only_the_date_changes_is_caught_by_the_scheduled_refresh(people):
    mentors, _ = people
    lapsed = mentors[2]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    TrainingRecord.objects.filter(user=lapsed).update(expires_on=yesterday)  # as if the date had passed
    assert table() != engine()
    assert tasks.refresh_eligible_memberships() == 1  # the job the scheduler runs every 15 minutes
    assert_agrees()
    assert not EligibleMembership.objects.filter(membership__user=lapsed).exists()


def test_the_scheduled_refresh_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-eligible-memberships"]
    assert entry["task"] == "safeguarding.tasks.refresh_eligible_memberships"
    assert entry["schedule"] <= 900


def test_a_schemes_new_rules_judge_that_schemes_memberships_only(people, scheme, dbs_scheme):
    mentors, _ = people
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    DBSCheck.objects.filter(user=mentors[0]).update(cleared_on=timezone.localdate() - datetime.timedelta(days=400))
    TrainingRecord.objects.filter(user=mentors[2]).update(expires_on=yesterday)  # lapsed by date, in `scheme`
    save(dbs_scheme, dbs_recheck_years=1)  # the check, cleared 400 days ago, is now out of date
    assert not EligibleMembership.objects.filter(membership__scheme=dbs_scheme).exists()
    # The other scheme was not judged again: its lapsed mentor waits for the scheduled job.
    assert EligibleMembership.objects.filter(membership__user=mentors[2], membership__scheme=scheme).exists()
    assert eligible_table.refresh_all() == 1
    assert_agrees()
    with eligible_table.batched():
        save(dbs_scheme, dbs_recheck_years=3)
        assert not EligibleMembership.objects.filter(membership__scheme=dbs_scheme).exists()  # not yet
    assert_agrees()
    assert EligibleMembership.objects.filter(membership__scheme=dbs_scheme).count() == 1


def test_a_page_reads_eligible_from_the_table_and_the_engines_reasons_otherwise(documents, scheme, network):
    # Find a mentor (issue 10) asks only whether anything is unmet: an eligible member costs no query, and a
    # member the table does not hold gets the engine's own check, every reason with its fix.
    ready = factories.eligible_mentee(scheme, network)
    unready = factories.UserFactory()
    factories.MembershipFactory(user=unready, scheme=scheme, network=network, role=Role.MENTEE)

    def fetched(user):
        return SchemeMembership.objects.select_related("scheme", "eligible_row", "user").get(user=user)

    membership = fetched(ready)
    with CaptureQueriesContext(connection) as queries:
        result = eligible_table.check_membership(membership)
    assert result.ok and result.unmet == [] and len(queries) == 0
    assert check(ready, scheme, Role.MENTEE).ok

    result = eligible_table.check_membership(fetched(unready))
    expected = check(unready, scheme, Role.MENTEE)
    assert not result.ok and [c.reason for c in result.unmet] == [c.reason for c in expected.unmet] != []

    # A lapse the table has not judged yet (a date passing; the job runs every 15 minutes): the page still
    # reads eligible until then, and the engine, which the services ask, already refuses.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    type(ready).objects.filter(pk=ready.pk).update(membership_expires_on=yesterday)  # as if the day had passed
    ready.refresh_from_db()
    assert eligible_table.check_membership(fetched(ready)).ok
    assert not check(ready, scheme, Role.MENTEE).ok
