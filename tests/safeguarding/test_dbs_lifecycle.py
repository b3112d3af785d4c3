"""DBS checks: requested, submitted, cleared, expired or refused, through one service (R-SAFE-3, R-ELIG-4)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import local_today
from mentoring import ending
from mentoring.models import EndOfPairing, Pairing, Role, SchemeMembership
from messaging.models import Notification
from safeguarding import dbs, eligibility
from safeguarding.models import AuditEvent, DBSCheck
from tests import factories

Status = DBSCheck.Status
REASON = "Mentoring adults is not regulated activity: basic check."


@pytest.fixture
def dbs_mentor(documents, dbs_scheme, network):
    """A trained mentor in the scheme that asks for a DBS check, with none yet."""
    user = factories.UserFactory(first_name="Priya", last_name="Patel")
    factories.accept_current_documents(user)
    factories.train(user)
    factories.MembershipFactory(
        user=user, scheme=dbs_scheme, network=network, role=Role.MENTOR, status=SchemeMembership.Status.PENDING
    )
    factories.MentorProfileFactory(user=user)
    return user


def request_check(mentor, actor, **extra):
    return dbs.dbs_check_request(user=mentor, level=DBSCheck.Level.BASIC, level_reason=REASON, actor=actor, **extra)


def move(check, status, actor, **extra):
    return dbs.dbs_check_transition(check_id=check.pk, status=status, actor=actor, **extra)


def today_of(user) -> datetime.date:
    return local_today(user.time_zone)


def test_staff_request_a_check_with_its_level_and_reason_and_the_mentor_is_told(dbs_mentor, scheme_staff):
    # R-SAFE-3: the level is stored with the reason the role is eligible for it
    check = request_check(dbs_mentor, scheme_staff)
    assert (check.status, check.level, check.level_reason) == (Status.REQUESTED, "basic", REASON)
    assert check.requested_on == today_of(scheme_staff)
    note = Notification.objects.get(user=dbs_mentor, kind="dbs_requested")
    assert note.email_wanted
    assert AuditEvent.objects.filter(action="dbs.requested", target_user=dbs_mentor, actor=scheme_staff).exists()


def test_the_safeguarding_lead_may_request_a_check_and_a_coordinator_may_not(
    dbs_mentor, safeguarding_lead, coordinator
):
    # R-SAFE-3: staff and the Safeguarding Lead only, never coordinators
    with pytest.raises(PermissionDenied):
        request_check(dbs_mentor, coordinator)
    assert not DBSCheck.objects.exists()
    request_check(dbs_mentor, safeguarding_lead)
    assert DBSCheck.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_request_without_a_reason_for_the_level_is_refused(dbs_mentor, scheme_staff, reason):
    with pytest.raises(ValidationError) as refused:
        dbs.dbs_check_request(user=dbs_mentor, level="enhanced", level_reason=reason, actor=scheme_staff)
    assert "why the role is eligible" in str(refused.value)
    assert not DBSCheck.objects.exists()


def test_only_mentors_are_asked_and_only_one_check_at_a_time(dbs_mentor, mentee, scheme_staff):
    with pytest.raises(ValidationError, match="not a mentor"):
        request_check(mentee, scheme_staff)
    request_check(dbs_mentor, scheme_staff)
    with pytest.raises(ValidationError, match="already has a DBS check in progress"):
        request_check(dbs_mentor, scheme_staff)
    assert DBSCheck.objects.count() == 1


def test_a_check_goes_requested_submitted_cleared_expired(dbs_mentor, dbs_scheme, scheme_staff):
    # R-SAFE-3, R-ELIG-4: the lifecycle; cleared makes the mentor eligible, and onboarding completes
    check = request_check(dbs_mentor, scheme_staff)
    assert not eligibility.check(dbs_mentor, dbs_scheme, Role.MENTOR).ok
    check = move(check, Status.SUBMITTED, scheme_staff)
    assert check.submitted_on == today_of(scheme_staff)
    issued = today_of(scheme_staff) - datetime.timedelta(days=3)
    check = move(check, Status.CLEARED, scheme_staff, certificate_number="001234567890", issued_on=issued)
    assert (check.cleared_on, check.certificate_number) == (issued, "001234567890")
    assert eligibility.check(dbs_mentor, dbs_scheme, Role.MENTOR).ok
    assert SchemeMembership.objects.get(user=dbs_mentor).status == SchemeMembership.Status.ACTIVE
    check = move(check, Status.EXPIRED, scheme_staff)
    assert check.status == Status.EXPIRED
    assert not eligibility.check(dbs_mentor, dbs_scheme, Role.MENTOR).ok
    statuses = list(
        AuditEvent.objects.filter(action="dbs.status", target_user=dbs_mentor)
        .order_by("pk")
        .values_list("detail__status", flat=True)
    )
    assert statuses == ["submitted", "cleared", "expired"]
    assert Notification.objects.filter(user=dbs_mentor, kind="dbs_updated").count() == 3


@pytest.mark.parametrize(
    ("path", "illegal", "words"),
    [
        ((), Status.CLEARED, "A requested check can only become submitted or refused, not cleared."),
        ((), Status.EXPIRED, "can only become submitted or refused, not expired"),
        ((Status.SUBMITTED,), Status.REQUESTED, "A submitted check can only become cleared or refused"),
        ((Status.SUBMITTED,), Status.SUBMITTED, "This check is already submitted."),
        ((Status.REFUSED,), Status.SUBMITTED, "A refused check is final: request a new check instead."),
        ((Status.SUBMITTED, Status.CLEARED), Status.REFUSED, "A cleared check can only become expired"),
        ((Status.SUBMITTED, Status.CLEARED, Status.EXPIRED), Status.CLEARED, "An expired check is final"),
        ((), "approved", "is not a state of a DBS check"),
    ],
)
def test_an_illegal_move_is_refused_with_a_clear_message_and_changes_nothing(
    dbs_mentor, scheme_staff, path, illegal, words
):
    check = request_check(dbs_mentor, scheme_staff)
    certificate = {"certificate_number": "001234567890", "issued_on": today_of(scheme_staff)}
    for status in path:
        check = move(check, status, scheme_staff, **(certificate if status == Status.CLEARED else {}))
    before = DBSCheck.objects.filter(pk=check.pk).values().get()
    with pytest.raises(ValidationError) as refused:
        move(check, illegal, scheme_staff, **certificate)
    assert words in " ".join(refused.value.messages)
    assert DBSCheck.objects.filter(pk=check.pk).values().get() == before


def test_a_certificate_dated_in_the_future_is_refused_in_plain_words(dbs_mentor, scheme_staff):
    # Issue 9, bad input: a DBS certificate date in the future
    check = move(request_check(dbs_mentor, scheme_staff), Status.SUBMITTED, scheme_staff)
    tomorrow = today_of(scheme_staff) + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        move(check, Status.CLEARED, scheme_staff, certificate_number="001234567890", issued_on=tomorrow)
    assert refused.value.message_dict["cleared_on"] == [
        "The certificate date cannot be in the future: enter the date printed on it."
    ]
    check.refresh_from_db()
    assert (check.status, check.cleared_on, check.certificate_number) == (Status.SUBMITTED, None, "")


def test_a_certificate_in_the_issuers_today_is_not_the_future_wherever_the_server_is(dbs_mentor, scheme_staff):
    # Staff far east of UTC clear a check dated their own today, which is still tomorrow in UTC for part of the day.
    scheme_staff.time_zone = "Pacific/Kiritimati"
    scheme_staff.save(update_fields=["time_zone"])
    check = move(request_check(dbs_mentor, scheme_staff), Status.SUBMITTED, scheme_staff)
    their_today = local_today("Pacific/Kiritimati")
    move(check, Status.CLEARED, scheme_staff, certificate_number="001234567890", issued_on=their_today)


@pytest.mark.parametrize(
    ("number", "issued_on", "field", "words"),
    [
        ("", 0, "certificate_number", "Enter the certificate number."),
        ("12 34", 0, "certificate_number", "letters and digits"),
        ("1" * 21, 0, "certificate_number", "letters and digits"),
        ("001234567890", None, "cleared_on", "Enter the date the certificate was issued."),
        ("001234567890", 3 * 366, "cleared_on", "has already expired under the recheck interval of 3 years"),
    ],
)
def test_clearing_needs_a_certificate_number_and_a_current_date(
    dbs_mentor, scheme_staff, number, issued_on, field, words
):
    check = move(request_check(dbs_mentor, scheme_staff), Status.SUBMITTED, scheme_staff)
    when = None if issued_on is None else today_of(scheme_staff) - datetime.timedelta(days=issued_on)
    with pytest.raises(ValidationError) as refused:
        move(check, Status.CLEARED, scheme_staff, certificate_number=number, issued_on=when)
    assert words in " ".join(refused.value.message_dict[field])
    assert DBSCheck.objects.get(pk=check.pk).status == Status.SUBMITTED


def test_the_expiry_is_the_certificate_date_plus_the_schemes_recheck_interval(dbs_mentor, dbs_scheme, scheme_staff):
    # R-SAFE-3: the recheck interval is a scheme setting (default 3 years), counted from the certificate's date
    issued = datetime.date(2024, 2, 29)
    check = factories.DBSCheckFactory(user=dbs_mentor, cleared_on=issued)
    assert dbs_scheme.dbs_recheck_years == 3
    assert dbs.expiry_of(check) == dbs.Expiry(datetime.date(2027, 2, 28), datetime.date(2027, 2, 28))
    assert dbs.expiry_of(check).first == eligibility.dbs_expires_on(issued, 3)
    dbs_scheme.dbs_recheck_years = 5
    dbs_scheme.save()
    assert dbs.expiry_of(check).first == datetime.date(2029, 2, 28)


def test_a_mentor_in_schemes_with_different_intervals_expires_first_in_the_strictest(dbs_mentor, dbs_scheme, network):
    strict = factories.SchemeFactory(name="Strict", slug="strict", dbs_required=True, dbs_recheck_years=1)
    factories.MembershipFactory(user=dbs_mentor, scheme=strict, network=network, role=Role.MENTOR)
    check = factories.DBSCheckFactory(user=dbs_mentor, cleared_on=datetime.date(2025, 6, 1))
    assert dbs.expiry_of(check) == dbs.Expiry(datetime.date(2026, 6, 1), datetime.date(2028, 6, 1))


def test_a_refused_check_flags_the_mentor_and_tells_staff(dbs_mentor, scheme_staff, safeguarding_lead):
    # R-SAFE-3: refusal flags removal (000 2.6.4)
    check = move(request_check(dbs_mentor, safeguarding_lead), Status.REFUSED, safeguarding_lead)
    assert check.status == Status.REFUSED
    note = Notification.objects.get(kind="dbs_refused")
    assert note.user == scheme_staff
    assert note.url == reverse("admin:safeguarding_dbscheck_change", args=[check.pk])
    result = eligibility.check(dbs_mentor, SchemeMembership.objects.get(user=dbs_mentor).scheme, Role.MENTOR)
    assert "refused" in " ".join(c.reason for c in result.unmet)


def test_staff_withdraw_a_refused_mentor_from_every_scheme_in_neutral_words(
    dbs_mentor, dbs_scheme, scheme, network, scheme_staff, mentee
):
    # R-ELIG-4: refusal may remove the mentor; pairings end, partners told, nothing names the DBS check
    career = factories.MembershipFactory(user=dbs_mentor, scheme=scheme, network=network, role=Role.MENTOR)
    as_mentee = factories.MembershipFactory(user=dbs_mentor, scheme=scheme, network=network, role=Role.MENTEE)
    pairing = Pairing.objects.create(scheme=scheme, mentor=dbs_mentor, mentee=mentee, network=network)
    check = move(request_check(dbs_mentor, scheme_staff), Status.REFUSED, scheme_staff)
    withdrawn = ending.refused_mentor_withdraw(check_id=check.pk, actor=scheme_staff)
    assert {m.pk for m in withdrawn} == {career.pk, SchemeMembership.objects.get(user=dbs_mentor, scheme=dbs_scheme).pk}
    assert SchemeMembership.objects.get(pk=as_mentee.pk).status == SchemeMembership.Status.ACTIVE  # mentee role kept
    pairing.refresh_from_db()
    assert pairing.status == Pairing.Status.ENDED
    told = Notification.objects.filter(user__in=[dbs_mentor, mentee]).exclude(kind__startswith="dbs")
    text = " ".join(f"{n.title} {n.body}" for n in told) + EndOfPairing.objects.get(pairing=pairing).comments
    assert "DBS" not in text and "refused" not in text.lower()
    assert AuditEvent.objects.filter(action="dbs.mentor_withdrawn", target_user=dbs_mentor).exists()
    with pytest.raises(ValidationError, match="withdrawn as a mentor already"):
        ending.refused_mentor_withdraw(check_id=check.pk, actor=scheme_staff)


def test_only_staff_withdraw_and_only_after_a_refusal(dbs_mentor, scheme_staff, safeguarding_lead, coordinator):
    check = request_check(dbs_mentor, scheme_staff)
    with pytest.raises(ValidationError, match="refused"):
        ending.refused_mentor_withdraw(check_id=check.pk, actor=scheme_staff)
    move(check, Status.REFUSED, scheme_staff)
    for actor in (safeguarding_lead, coordinator, dbs_mentor):
        with pytest.raises(PermissionDenied):
            ending.refused_mentor_withdraw(check_id=check.pk, actor=actor)
    assert SchemeMembership.objects.get(user=dbs_mentor).status != SchemeMembership.Status.WITHDRAWN


def test_nothing_is_deleted_and_each_step_is_dated(dbs_mentor, scheme_staff):
    check = request_check(dbs_mentor, scheme_staff)
    before = check.status_changed_at
    check = move(check, Status.SUBMITTED, scheme_staff)
    assert check.status_changed_at >= before
    assert check.recorded_by == scheme_staff
    assert DBSCheck.objects.count() == 1
    assert timezone.now() - check.status_changed_at < datetime.timedelta(minutes=1)
