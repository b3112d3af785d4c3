"""Scheme closure (R-SCHEME-3): a close date two weeks ahead, a notice to each participant exactly once,
and on the date no more requests, pairings ended and a banner."""

import datetime
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from matching import services as matching_services
from matching.models import MentorshipRequest
from matching.services import RequestRefused
from mentoring import closure, services
from mentoring.models import Pairing, Role, SchemeClosureNotice, SchemeMembership
from mentoring.services import PairingRefused
from messaging.models import Notification
from safeguarding.models import AuditEvent
from tests import factories

NO_CONFLICT = {"kind": "none", "details": "", "manageable": True}


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def participants(scheme, network, n=3):
    """Active, paused and onboarding members, who are all told; and a withdrawn one, who is not."""
    statuses = [SchemeMembership.Status.ACTIVE, SchemeMembership.Status.PAUSED, SchemeMembership.Status.PENDING]
    members = [
        factories.MembershipFactory(scheme=scheme, network=network, status=statuses[i % 3]).user for i in range(n)
    ]
    factories.MembershipFactory(scheme=scheme, network=network, status=SchemeMembership.Status.WITHDRAWN)
    return members


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run the notices job as its own transactions would: the emails go after commit."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return closure.scheme_closure_notices_send()

    return run


def notices_of(user) -> int:
    return Notification.objects.filter(user=user, kind="scheme_closing").count()


# R-SCHEME-3: staff set the close date, at least 14 days ahead.
def test_staff_set_a_close_date_two_weeks_ahead_and_it_is_audited(scheme, scheme_staff):
    closure.scheme_close_set(scheme_id=scheme.pk, closes_on=days(14), actor=scheme_staff)
    scheme.refresh_from_db()
    assert scheme.closes_on == days(14)
    assert AuditEvent.objects.filter(action="scheme.close_date_set", actor=scheme_staff).exists()


def test_a_close_date_less_than_two_weeks_ahead_is_refused_and_nothing_changes(scheme, scheme_staff):
    with pytest.raises(ValidationError) as refused:
        closure.scheme_close_set(scheme_id=scheme.pk, closes_on=days(13), actor=scheme_staff)
    assert "at least 14 days ahead" in str(refused.value)
    scheme.refresh_from_db()
    assert scheme.closes_on is None
    assert not AuditEvent.objects.filter(action="scheme.close_date_set").exists()


def test_only_staff_set_a_close_date(scheme, coordinator):
    with pytest.raises(PermissionDenied):
        closure.scheme_close_set(scheme_id=scheme.pk, closes_on=days(30), actor=coordinator)


def test_the_admin_form_refuses_a_close_date_too_soon_with_a_clear_message(client, scheme, scheme_staff):
    client.force_login(scheme_staff)
    url = reverse("admin:mentoring_scheme_change", args=[scheme.pk])
    data = {
        "name": scheme.name,
        "slug": scheme.slug,
        "kind": scheme.kind,
        "dbs_recheck_years": 3,
        "max_pending_requests_per_mentee": 1,
        "max_mentors_per_mentee": 1,
        "feedback_midpoint_weeks": 12,
        "inactivity_days": 30,
        "request_expiry_days": 14,
        "is_open": "on",
        "careers_advice_in_scope": "on",
        "closes_on": days(3).isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "so members get two weeks&#x27; notice" in response.content.decode()
    scheme.refresh_from_db()
    assert scheme.closes_on is None
    data["closes_on"] = days(20).isoformat()
    assert client.post(url, data).status_code == 302
    scheme.refresh_from_db()
    assert scheme.closes_on == days(20)
    assert AuditEvent.objects.filter(action="scheme.close_date_set", actor=scheme_staff).exists()


# R-SCHEME-3: every participant is told once, in the platform and by email.
def test_every_participant_is_told_once_in_the_platform_and_by_email(send, scheme, network):
    members = participants(scheme, network)
    scheme.closes_on = days(14)
    scheme.save()
    assert send() == 3
    for member in members:
        assert notices_of(member) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
    assert Notification.objects.filter(kind="scheme_closing").count() == 3  # the withdrawn member is not told


def test_a_scheme_closing_later_than_two_weeks_sends_nothing_yet(scheme, network):
    participants(scheme, network)
    scheme.closes_on = days(15)
    scheme.save()
    assert closure.scheme_closure_notices_send() == 0
    assert not SchemeClosureNotice.objects.exists()


def test_the_job_run_twice_tells_each_member_once(send, scheme, network):
    members = participants(scheme, network)
    scheme.closes_on = days(10)
    scheme.save()
    send()
    assert send() == 0
    assert [notices_of(m) for m in members] == [1, 1, 1]
    assert len(mail.outbox) == 3


def test_a_member_who_joins_after_the_notices_is_told_on_the_next_run(scheme, network):
    participants(scheme, network)
    scheme.closes_on = days(10)
    scheme.save()
    closure.scheme_closure_notices_send()
    late = factories.MembershipFactory(scheme=scheme, network=network).user
    assert closure.scheme_closure_notices_send() == 1
    assert notices_of(late) == 1


def test_a_run_that_dies_half_way_is_finished_by_the_next_without_repeats(send, scheme, network, monkeypatch):
    members = participants(scheme, network)
    scheme.closes_on = days(10)
    scheme.save()
    real_notify = closure.notify
    sent = []

    def dies_after_the_first(*args, **kwargs):
        if sent:
            raise RuntimeError("the worker died")
        sent.append(args[0])
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(closure, "notify", dies_after_the_first)
    with pytest.raises(RuntimeError):
        send()
    assert SchemeClosureNotice.objects.filter(sent_at__isnull=False).count() == 1
    monkeypatch.setattr(closure, "notify", real_notify)
    assert send() == 2
    assert [notices_of(m) for m in members] == [1, 1, 1]
    assert len(mail.outbox) == 3


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        # Not a debt: CI's second pass runs the whole suite on PostgreSQL, where this runs.
        pytest.skip("row locks need PostgreSQL: CI runs this in its PostgreSQL pass (DATABASE_URL)")


def test_two_runs_at_once_tell_each_member_once(postgres, transactional_db, scheme, network, monkeypatch):
    members = participants(scheme, network, n=6)
    scheme.closes_on = days(10)
    scheme.save()
    real_send = closure._notice_send
    barrier = threading.Barrier(2, timeout=10)
    started = threading.local()

    def send_together(*args, **kwargs):
        # Both runs have listed the same unsent rows before either sends one: only the claim keeps them apart.
        if not getattr(started, "yes", False):
            started.yes = True
            barrier.wait()
        return real_send(*args, **kwargs)

    monkeypatch.setattr(closure, "_notice_send", send_together)
    told, errors = [], []

    def run():
        try:
            told.append(closure.scheme_closure_notices_send())
        except Exception as error:  # shown by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(told) == 6
    assert [notices_of(m) for m in members] == [1] * 6
    assert SchemeClosureNotice.objects.filter(sent_at__isnull=False).count() == 6


# R-SCHEME-3: on the close date, no more requests and the pairings end.
def test_on_the_close_date_the_scheme_closes_and_its_pairings_end(scheme, network):
    mentor, mentee = factories.UserFactory(), factories.UserFactory()
    pairing = Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
    scheme.closes_on = days(0)
    scheme.save()
    assert closure.schemes_close() == 1
    pairing.refresh_from_db()
    scheme.refresh_from_db()
    assert not scheme.is_open
    assert pairing.status == Pairing.Status.ENDED
    assert pairing.end_reason == Pairing.EndReason.SCHEME_CLOSED
    assert pairing.ended_at is not None
    assert Notification.objects.filter(kind="pairing_ended_scheme_closed").count() == 2
    assert closure.schemes_close() == 0  # run again: nothing more


def test_a_scheme_closing_tomorrow_is_left_alone(scheme, network):
    mentor, mentee = factories.UserFactory(), factories.UserFactory()
    pairing = Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
    scheme.closes_on = days(1)
    scheme.save()
    assert closure.schemes_close() == 0
    pairing.refresh_from_db()
    assert pairing.status == Pairing.Status.ACTIVE


def test_a_closed_scheme_takes_no_more_requests(documents, scheme, network):
    mentor = factories.listed_mentor(scheme, network)
    mentee = factories.eligible_mentee(scheme, network)
    scheme.closes_on = days(0)
    scheme.save()
    with pytest.raises(RequestRefused) as refused:
        matching_services.request_send(
            mentee=mentee, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
        )
    assert "takes no more requests" in str(refused.value)


def test_on_the_close_date_waiting_requests_expire_and_no_pairing_starts(documents, scheme, network):
    mentor = factories.listed_mentor(scheme, network)
    mentee = factories.eligible_mentee(scheme, network)
    request = matching_services.request_send(
        mentee=mentee, profile=mentor.mentor_profile, scheme=scheme, message="Hi", declaration=NO_CONFLICT
    )
    scheme.closes_on = days(0)
    scheme.save()
    with pytest.raises(PairingRefused) as refused:
        services.pairing_start(mentor=mentor, mentee=mentee, scheme=scheme, origin=Pairing.Origin.MANUAL)
    assert "no new pairings start" in str(refused.value)
    closure.schemes_close()
    request.refresh_from_db()
    assert request.status == MentorshipRequest.Status.EXPIRED
    assert Notification.objects.filter(user=mentee, kind="request_expired").count() == 1
    closure.schemes_close()
    assert Notification.objects.filter(user=mentee, kind="request_expired").count() == 1


# R-SCHEME-3: members see a banner from two weeks before.
def test_participants_see_the_closing_banner_two_weeks_before(client, mentee, scheme):
    client.force_login(mentee)
    assert "closes on" not in client.get(reverse("mentoring_home")).content.decode()
    scheme.closes_on = days(14)
    scheme.save()
    page = client.get(reverse("mentoring_home")).content.decode()
    assert f"{scheme.name} closes on" in page


def test_participants_see_that_the_scheme_closed(client, mentee, scheme):
    scheme.closes_on = days(-1)
    scheme.save()
    client.force_login(mentee)
    assert f"{scheme.name} closed on" in client.get(reverse("mentoring_home")).content.decode()


def test_members_of_other_schemes_see_no_banner(client, documents, network, scheme):
    other = factories.MembershipFactory(network=network, role=Role.MENTEE).user
    factories.accept_current_documents(other)
    scheme.closes_on = days(3)
    scheme.save()
    client.force_login(other)
    assert "closes on" not in client.get(reverse("mentoring_home")).content.decode()
