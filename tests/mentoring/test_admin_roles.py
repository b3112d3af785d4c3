"""The admin: signed in through allauth, scoped by role and by Local Network (R-COORD-1, R-SAFE-3)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import MembershipStatus
from mentoring.models import Role, SchemeMembership
from safeguarding.models import AuditEvent, TrainingKind, TrainingRecord
from tests import factories


@pytest.fixture
def london_member(documents, scheme, network):
    user = factories.UserFactory(email="london@example.org", membership_status=MembershipStatus.UNVERIFIED)
    factories.accept_current_documents(user)
    factories.MembershipFactory(
        user=user, scheme=scheme, network=network, role=Role.MENTOR, status=SchemeMembership.Status.PENDING
    )
    return user


@pytest.fixture
def scottish_member(documents, scheme, other_network):
    user = factories.UserFactory(email="scotland@example.org")
    factories.MembershipFactory(user=user, scheme=scheme, network=other_network, role=Role.MENTEE)
    return user


def test_the_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_member_who_is_not_staff_is_refused_the_admin(client, mentee):
    client.force_login(mentee)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403


def test_failed_admin_sign_ins_are_rate_limited(client, coordinator):
    # allauth's login_failed limit (5 per 5 minutes per account) applies to staff too
    pages = [
        client.post(reverse("account_login"), {"login": coordinator.email, "password": "wrong-password"})
        for _ in range(6)
    ]
    assert "Too many failed login attempts" not in pages[0].content.decode()
    assert "Too many failed login attempts" in pages[-1].content.decode()
    # Even the right password is refused while the limit holds.
    right = client.post(reverse("account_login"), {"login": coordinator.email, "password": factories.PASSWORD})
    assert right.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_coordinator_sees_only_members_of_their_own_networks(client, coordinator, london_member, scottish_member):
    # R-COORD-1, checked from the side of the member they must not see
    client.force_login(coordinator)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "london@example.org" in page
    assert "scotland@example.org" not in page
    assert client.get(reverse("admin:accounts_user_change", args=[london_member.pk])).status_code == 200
    assert client.get(reverse("admin:accounts_user_change", args=[scottish_member.pk])).status_code == 404
    memberships = client.get(reverse("admin:mentoring_schememembership_changelist")).content.decode()
    assert str(london_member) in memberships
    assert str(scottish_member) not in memberships
    other = SchemeMembership.objects.get(user=scottish_member)
    assert client.get(reverse("admin:mentoring_schememembership_change", args=[other.pk])).status_code == 404


def test_coordinators_never_see_dbs_checks(client, coordinator, london_member):
    # R-SAFE-3: criminal-offence data, staff and the Safeguarding Lead only
    factories.DBSCheckFactory(user=london_member)
    client.force_login(coordinator)
    assert client.get(reverse("admin:safeguarding_dbscheck_changelist")).status_code == 403
    assert "DBS" not in client.get(reverse("admin:index")).content.decode()


def test_staff_and_the_safeguarding_lead_see_dbs_checks(client, scheme_staff, safeguarding_lead, london_member):
    check = factories.DBSCheckFactory(user=london_member)
    for user in (scheme_staff, safeguarding_lead):
        client.force_login(user)
        assert client.get(reverse("admin:safeguarding_dbscheck_change", args=[check.pk])).status_code == 200


def test_a_coordinator_records_training_for_their_member(client, coordinator, london_member):
    # R-ELIG-3: recorded in the admin, audited, the member notified
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:safeguarding_trainingrecord_add"),
        {
            "user": london_member.pk,
            "kind": TrainingKind.MENTOR_TRAINING,
            "completed_on": "2026-11-01",
            "expires_on": "2028-11-01",
            "notes": "Online programme",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    record = TrainingRecord.objects.get(user=london_member)
    assert record.recorded_by == coordinator
    assert AuditEvent.objects.filter(action="training.recorded", target_user=london_member, actor=coordinator).exists()
    assert london_member.notifications.filter(kind="training_recorded").exists()


def test_a_coordinator_cannot_record_training_for_another_networks_member(client, coordinator, scottish_member):
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:safeguarding_trainingrecord_add"),
        {"user": scottish_member.pk, "kind": TrainingKind.MENTOR_TRAINING, "completed_on": "2026-11-01"},
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not TrainingRecord.objects.exists()


def test_training_that_expires_before_it_was_completed_is_refused(client, coordinator, london_member):
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:safeguarding_trainingrecord_add"),
        {
            "user": london_member.pk,
            "kind": TrainingKind.MENTOR_TRAINING,
            "completed_on": "2026-11-01",
            "expires_on": "2025-01-01",
        },
    )
    assert response.status_code == 200
    assert not TrainingRecord.objects.exists()


def test_a_coordinator_records_a_membership_check(client, coordinator, london_member):
    # R-ELIG-2: status and expiry recorded in the admin, audited
    client.force_login(coordinator)
    url = reverse("admin:accounts_user_change", args=[london_member.pk])
    expires = timezone.localdate() + datetime.timedelta(days=300)
    response = client.post(
        url,
        {
            "membership_number": london_member.membership_number,
            "membership_grade": "Member",
            "membership_status": "active",
            "membership_expires_on": expires.isoformat(),
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": london_member.memberships.get().pk,
            "memberships-0-user": london_member.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    london_member.refresh_from_db()
    assert london_member.membership_status == MembershipStatus.ACTIVE
    assert london_member.membership_expires_on == expires
    assert AuditEvent.objects.filter(action="membership.status", target_user=london_member).exists()


def test_a_coordinator_cannot_grant_themselves_access(client, coordinator, london_member):
    client.force_login(coordinator)
    url = reverse("admin:accounts_user_change", args=[london_member.pk])
    client.post(
        url,
        {
            "membership_number": london_member.membership_number,
            "membership_status": "active",
            "is_staff": "on",
            "is_superuser": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": london_member.memberships.get().pk,
            "memberships-0-user": london_member.pk,
        },
    )
    london_member.refresh_from_db()
    assert not london_member.is_staff and not london_member.is_superuser


def test_the_safeguarding_lead_can_read_members_but_not_change_them(client, safeguarding_lead, london_member):
    client.force_login(safeguarding_lead)
    url = reverse("admin:accounts_user_change", args=[london_member.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"membership_status": "lapsed"})
    london_member.refresh_from_db()
    assert london_member.membership_status == MembershipStatus.UNVERIFIED


def test_roles_are_groups_made_by_a_migration(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"Coordinators", "Staff", "Safeguarding Lead"}


def test_a_coordinator_suspends_a_membership_and_it_is_audited(client, coordinator, london_member):
    # R-COORD-1: status changes go through the service and are audited
    membership = london_member.memberships.get()
    client.force_login(coordinator)
    url = reverse("admin:mentoring_schememembership_change", args=[membership.pk])
    response = client.post(url, {"network": membership.network_id, "status": "suspended"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == SchemeMembership.Status.SUSPENDED
    event = AuditEvent.objects.get(action="membership.scheme_status")
    assert (event.actor, event.detail["previous"], event.detail["status"]) == (coordinator, "pending", "suspended")


def test_a_coordinator_cannot_move_a_member_to_a_network_they_do_not_coordinate(
    client, coordinator, london_member, other_network
):
    membership = london_member.memberships.get()
    client.force_login(coordinator)
    url = reverse("admin:mentoring_schememembership_change", args=[membership.pk])
    response = client.post(url, {"network": other_network.pk, "status": "pending"})
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.network != other_network
