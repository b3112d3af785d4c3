"""DBS reminders, each once per check and stage whatever the retries; checks past expiry move to expired (R-SAFE-3)."""

import datetime

import pytest
from django.core.management import call_command

from accounts.models import local_today
from mentoring.models import Role
from messaging.models import Notification
from safeguarding import dbs, eligibility, sweep
from safeguarding.models import AuditEvent, DBSCheck, DBSReminder
from tests import factories

Status = DBSCheck.Status
DAY = datetime.timedelta(days=1)


@pytest.fixture
def dbs_mentor(documents, dbs_scheme, network):
    user = factories.UserFactory(first_name="Priya")
    factories.accept_current_documents(user)
    factories.train(user)
    factories.MembershipFactory(user=user, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    return user


def requested(mentor, days_ago: int, **fields) -> DBSCheck:
    on = local_today(mentor.time_zone) - datetime.timedelta(days=days_ago)
    fields = {"status": Status.REQUESTED, **fields}
    return factories.DBSCheckFactory(user=mentor, cleared_on=None, requested_on=on, **fields)


def kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


@pytest.mark.parametrize(
    ("days", "stage"), [(6, None), (7, "outstanding_7"), (13, "outstanding_7"), (14, "outstanding_14")]
)
def test_the_mentor_is_reminded_of_a_request_7_and_14_days_outstanding(dbs_mentor, days, stage):
    # R-SAFE-3: reminders for outstanding requests
    check = requested(dbs_mentor, days)
    dbs.dbs_reminders_send()
    dbs.dbs_reminders_send()  # run twice: one reminder
    assert kinds(dbs_mentor) == (["dbs_reminder"] if stage else [])
    assert list(DBSReminder.objects.filter(dbs_check=check).values_list("stage", flat=True)) == (
        [stage] if stage else []
    )


def test_each_stage_goes_once_as_the_days_pass(dbs_mentor):
    check = requested(dbs_mentor, 7)
    dbs.dbs_reminders_send()
    DBSCheck.objects.filter(pk=check.pk).update(requested_on=check.requested_on - 7 * DAY)  # a week later
    dbs.dbs_reminders_send()
    dbs.dbs_reminders_send()
    assert kinds(dbs_mentor) == ["dbs_reminder", "dbs_reminder"]
    assert sorted(DBSReminder.objects.values_list("stage", flat=True)) == ["outstanding_14", "outstanding_7"]


def test_a_mentor_first_reminded_late_gets_one_reminder_not_two(dbs_mentor):
    requested(dbs_mentor, 16)
    assert dbs.dbs_reminders_send() == 1
    assert kinds(dbs_mentor) == ["dbs_reminder"]


def test_staff_are_told_when_a_request_is_21_days_outstanding(dbs_mentor, scheme_staff, safeguarding_lead):
    # R-SAFE-3: to staff at 21 days (every member of the Staff group, once)
    other_staff = factories.UserFactory(is_staff=True)
    other_staff.groups.add(scheme_staff.groups.get())
    check = requested(dbs_mentor, 21)
    DBSReminder.objects.create(dbs_check=check, stage=DBSReminder.Stage.OUTSTANDING_14)
    dbs.dbs_reminders_send()
    dbs.dbs_reminders_send()
    assert kinds(scheme_staff) == ["dbs_outstanding_staff"]
    assert kinds(other_staff) == ["dbs_outstanding_staff"]
    assert kinds(safeguarding_lead) == []
    assert kinds(dbs_mentor) == []  # the 14-day reminder went before
    note = Notification.objects.get(user=scheme_staff)
    assert "Priya" in note.body and "21 days" in note.body


def test_a_submitted_or_finished_check_is_not_chased(dbs_mentor, scheme_staff):
    for status in (Status.SUBMITTED, Status.REFUSED):
        requested(dbs_mentor, 30, status=status)
    assert dbs.dbs_reminders_send() == 0
    assert not Notification.objects.exists()


def cleared(mentor, *, expires_in_days: int, years: int = 3) -> DBSCheck:
    """A check whose first expiry is `expires_in_days` from the mentor's today."""
    expires = local_today(mentor.time_zone) + datetime.timedelta(days=expires_in_days)
    return factories.DBSCheckFactory(user=mentor, cleared_on=eligibility.years_after(expires, -years))


@pytest.mark.parametrize(("days", "reminded"), [(31, False), (30, True), (1, True), (0, True), (-1, False)])
def test_the_mentor_is_reminded_30_days_before_the_check_expires(dbs_mentor, days, reminded):
    # R-SAFE-3: reminders before expiry
    check = cleared(dbs_mentor, expires_in_days=days)
    dbs.dbs_reminders_send()
    dbs.dbs_reminders_send()
    assert kinds(dbs_mentor) == (["dbs_expiring"] if reminded else [])
    assert DBSReminder.objects.filter(dbs_check=check, stage="expiry_30").exists() == reminded


def test_no_expiry_reminder_once_a_new_check_is_under_way_or_outside_dbs_schemes(dbs_mentor, mentor):
    cleared(dbs_mentor, expires_in_days=10)
    requested(dbs_mentor, 1)
    cleared(mentor, expires_in_days=10)  # the career scheme asks for no DBS check
    dbs.dbs_reminders_send()
    assert Notification.objects.filter(kind="dbs_expiring").count() == 0


def test_the_sweep_moves_a_check_past_its_expiry_to_expired_once(dbs_mentor, dbs_scheme):
    # Issue 9, item 5: DBS checks past expiry move to expired; nothing deleted
    past = cleared(dbs_mentor, expires_in_days=-1)
    current = cleared(dbs_mentor, expires_in_days=0)
    sweep.eligibility_sweep()
    sweep.eligibility_sweep()
    past.refresh_from_db()
    current.refresh_from_db()
    assert (past.status, current.status) == (Status.EXPIRED, Status.CLEARED)
    assert DBSCheck.objects.count() == 2
    (event,) = AuditEvent.objects.filter(action="dbs.status")
    assert (event.actor, event.detail["status"]) == (None, "expired")
    assert kinds(dbs_mentor) == ["dbs_updated"]
    assert eligibility.check(dbs_mentor, dbs_scheme, Role.MENTOR).ok  # the current check still counts


def test_a_check_is_expired_only_once_it_counts_in_none_of_the_mentors_schemes(dbs_mentor, network):
    lax = factories.SchemeFactory(name="Lax", slug="lax", dbs_required=True, dbs_recheck_years=5)
    factories.MembershipFactory(user=dbs_mentor, scheme=lax, network=network, role=Role.MENTOR)
    check = cleared(dbs_mentor, expires_in_days=-10)  # past three years, within five
    dbs.dbs_checks_expire()
    check.refresh_from_db()
    assert check.status == Status.CLEARED
    assert eligibility.check(dbs_mentor, lax, Role.MENTOR).ok


def test_the_jobs_run_from_run_job(dbs_mentor, capsys):
    requested(dbs_mentor, 7)
    call_command("run_job", "send-dbs-reminders")
    assert "send-dbs-reminders finished: 1" in capsys.readouterr().out
