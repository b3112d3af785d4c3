"""The change history (issue 9, item 6): who changed what and when, kept by django-auditlog, read-only for staff
and the Safeguarding Lead; never holding confidential content (R-MSG-5), passwords or DBS certificate numbers."""

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from mentoring.models import Role, SchemeMembership
from mentoring.services import membership_status_set
from safeguarding.change_history import TRACKED
from safeguarding.concerns import concern_raise
from safeguarding.models import DBSCheck, TrainingRecord
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401


def entries_for(obj):
    return list(LogEntry.objects.get_for_object(obj).order_by("pk"))


def test_every_declared_model_is_tracked_and_confidential_ones_are_not():
    for spec in TRACKED:
        assert auditlog.contains(apps.get_model(spec["model"])), spec["model"]
    for label in (
        "messaging.Message",
        "messaging.Conversation",
        "messaging.Notification",
        "mfa.Authenticator",
        "sessions.Session",
    ):
        assert not auditlog.contains(apps.get_model(label)), f"{label} must never be in the change history"


def test_a_change_made_in_the_admin_names_who_made_it_and_what_changed(client, scheme_staff, mentor):
    check = factories.DBSCheckFactory(user=mentor, status=DBSCheck.Status.SUBMITTED)
    client.force_login(scheme_staff)
    url = reverse("admin:safeguarding_dbscheck_change", args=[check.pk])
    response = client.post(
        url,
        {
            "user": mentor.pk,
            "level": check.level,
            "level_reason": check.level_reason,
            "status": DBSCheck.Status.CLEARED,
            "certificate_number": "001234567890",
            "requested_on": str(check.requested_on),
            "cleared_on": str(check.requested_on),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    latest = entries_for(check)[-1]
    assert latest.actor == scheme_staff
    assert latest.action == LogEntry.Action.UPDATE
    assert latest.changes_dict["status"] == ["submitted", "cleared"]
    # The certificate number is criminal-offence data: the history says it changed, never what it is.
    assert "001234567890" not in str(latest.changes)


def test_a_suspension_by_a_coordinator_is_recorded_with_its_actor(coordinator, mentee, network):
    membership = SchemeMembership.objects.get(user=mentee, role=Role.MENTEE)
    membership_status_set(
        membership_id=membership.pk, status=SchemeMembership.Status.SUSPENDED, network=network, actor=coordinator
    )
    latest = entries_for(membership)[-1]
    assert latest.changes_dict["status"] == ["active", "suspended"]
    # Outside a request (a service called by a job or a command) the actor is whoever the caller set, or none.
    assert latest.actor is None or latest.actor == coordinator


def test_a_change_outside_any_request_is_the_systems(mentor):
    record = TrainingRecord.objects.filter(user=mentor).first()
    record.notes = "Renewed by the nightly import"
    record.save()
    assert entries_for(record)[-1].actor is None


def test_role_changes_and_account_fields_are_tracked_but_never_a_password(mentee):
    mentee.set_password("a-brand-new-Secret-99")
    mentee.membership_status = "lapsed"
    mentee.save()
    mentee.groups.add(Group.objects.get(name="Coordinators"))
    logged = " ".join(str(e.changes) for e in entries_for(mentee))
    assert "membership_status" in logged
    assert "groups" in logged  # who was made a coordinator
    assert "password" not in logged and "pbkdf2" not in logged


def test_the_pairing_still_knows_its_conversation_after_its_history_is_written(started):  # noqa: F811
    # auditlog reads every field of a new record, reverse relations too, unless told which: reading a conversation
    # that did not exist yet left "no conversation" cached on the pairing. Only a record's own columns are tracked.
    assert started.conversation.pk
    created = entries_for(started)[0]
    assert created.action == LogEntry.Action.CREATE
    assert set(created.changes_dict) <= {f.name for f in type(started)._meta.concrete_fields}


@pytest.mark.parametrize("reader", ["scheme_staff", "safeguarding_lead"])
def test_staff_and_the_lead_read_a_records_history_in_the_admin(client, request, reader, mentor):
    check = factories.DBSCheckFactory(user=mentor)
    check.status = DBSCheck.Status.SUBMITTED
    check.save()
    client.force_login(request.getfixturevalue(reader))
    page = client.get(reverse("admin:safeguarding_dbscheck_history", args=[check.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Change history" in html and "submitted" in html.lower()
    listing = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert listing.status_code == 200


def test_nobody_writes_or_deletes_the_history(client, scheme_staff, mentor):
    record = TrainingRecord.objects.filter(user=mentor).first()
    entry = entries_for(record)[-1]
    client.force_login(scheme_staff)
    change = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    assert client.post(change, {"object_repr": "rewritten"}).status_code == 403
    assert client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.object_repr != "rewritten"


def test_a_coordinator_never_sees_the_history(client, coordinator, mentee):
    # It holds DBS history (R-SAFE-3): coordinators get neither the list nor a record's history from it.
    record = factories.TrainingRecordFactory(user=mentee)
    client.force_login(coordinator)
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 403
    entry = entries_for(record)[-1]
    assert client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 403
    page = client.get(reverse("admin:safeguarding_trainingrecord_history", args=[record.pk]))
    assert page.status_code == 200 and "Every recorded change" not in page.content.decode()  # Django's own history


def test_a_member_never_reaches_the_history(client, mentee):
    client.force_login(mentee)
    response = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert response.status_code in (302, 403)


def test_a_concerns_history_is_the_safeguarding_leads_alone(client, scheme_staff, safeguarding_lead, mentee):
    # Issue 9, item 2: nobody outside the Lead group learns a concern exists, the change history included.
    concern = concern_raise(
        reporter=mentee, what_happened="Something worrying happened at a meeting.", immediate_risk=False
    )
    entry = entries_for(concern)[-1]
    assert "Something worrying" not in str(entry.changes)  # the account itself is never copied
    listing = reverse("admin:auditlog_logentry_changelist")
    detail = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    client.force_login(scheme_staff)
    assert f"/{entry.pk}/change/" not in client.get(listing).content.decode()
    assert client.get(detail).status_code == 404
    client.force_login(safeguarding_lead)
    assert f"/{entry.pk}/change/" in client.get(listing).content.decode()
    assert client.get(detail).status_code == 200
