"""CSV export of what the coordinator may see (issue 11, item 4; R-COORD-4, R-COORD-1, R-SAFE-3): each busy list's
export holds the viewer's own rows only, never DBS data, free text or another network's members; only the
roles who may view a list export it; its times are in the viewer's zone, 24-hour."""

import csv
import io
import zoneinfo

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mentoring.admin_csv import ScopedExportAdmin
from mentoring.models import Pairing
from safeguarding.models import AuditEvent, DBSCheck
from tests import factories
from tests.security.world import B_MARKER, PRIVATE_BODY

EXPORTING = sorted(
    (
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ScopedExportAdmin)
    ),
    key=lambda case: case[0]._meta.label,
)
EXPORT_IDS = [model._meta.label for model, _ in EXPORTING]
CERTIFICATE = "ZZCERT445566"


def export_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")


def export(client, model, query: str = "") -> list[dict]:
    response = client.post(export_url(model) + query, {"format": "0", "resource": "0"})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_the_busy_lists_export():
    # Issue 11, item 4: members, memberships, pairings, requests, waiting mentees, meetings, feedback, profiles
    names = {model.__name__ for model, _ in EXPORTING}
    assert {
        "User",
        "SchemeMembership",
        "Pairing",
        "MentorshipRequest",
        "WaitingMentee",
        "Meeting",
        "Feedback",
        "MentorProfile",
    } <= names


@pytest.mark.parametrize(("model", "model_admin"), EXPORTING, ids=EXPORT_IDS)
def test_a_coordinator_exports_their_own_networks_rows_only(client, world, model, model_admin):
    # R-COORD-1, R-COORD-4: the export is the list's own scoped queryset
    DBSCheck.objects.filter(user=world.mentor_a).update(certificate_number=CERTIFICATE)
    client.force_login(world.coordinator_a)
    rows = export(client, model)
    ids = {int(row["id"]) for row in rows}
    assert not ids & world.b.get(model, set()), f"{model.__name__}: another network's rows"
    if world.a.get(model):
        assert ids, f"{model.__name__}: the coordinator's own rows are missing"
    text = repr(rows)
    headers = " ".join(rows[0]) if rows else ""
    for marker in (B_MARKER, PRIVATE_BODY, CERTIFICATE):
        assert marker not in text, f"{model.__name__} exports {marker!r}"
    for word in ("dbs", "note", "comment", "message", "video", "password", "birth", "concern", "complaint"):
        assert word not in headers.lower(), f"{model.__name__} exports a {word!r} column"
    assert AuditEvent.objects.filter(actor=world.coordinator_a, action="admin.export").exists()


@pytest.mark.parametrize(("model", "model_admin"), EXPORTING, ids=EXPORT_IDS)
def test_people_who_may_not_view_a_list_cannot_export_it(client, world, model, model_admin):
    client.force_login(world.mentee_a)
    assert client.post(export_url(model), {"format": "0"}).status_code == 302  # the admin's sign-in page
    for role in ("coordinator_a", "staff", "safeguarding_lead"):
        person = world.people[role]
        request = RequestFactory().get("/admin/")
        request.user = person
        client.force_login(person)
        status = client.post(export_url(model), {"format": "0", "resource": "0"}).status_code
        assert status == (200 if model_admin.has_view_or_change_permission(request) else 403), role


def test_the_export_follows_the_lists_filters_and_search(client, world):
    client.force_login(world.people["staff"])
    model = type(world.pairing_a_dual)
    everything = {int(row["id"]) for row in export(client, model)}
    mentee = world.pairing_a_dual.mentee
    searched = {int(row["id"]) for row in export(client, model, f"?q={mentee.email}")}
    assert world.pairing_a_dual.pk in searched and searched < everything


def test_a_bad_format_or_filter_is_not_a_500(quiet_client, world):
    quiet_client.force_login(world.coordinator_a)
    model = type(world.pairing_a_dual)
    for query, data in (("", {"format": "9"}), ("", {"format": "x"}), ("?status__exact=nonsense&e=1", {"format": "0"})):
        assert quiet_client.post(export_url(model) + query, data).status_code < 500


def test_times_in_an_export_are_the_viewers_zone_and_24_hour(client, world):
    # Issue 11, item 4: "Times ... the viewer's time zone", as on the member site
    staff = world.people["staff"]
    type(staff).objects.filter(pk=staff.pk).update(time_zone="Asia/Tokyo")
    pairing = world.pairing_a_dual
    client.force_login(staff)
    (row,) = [r for r in export(client, type(pairing)) if int(r["id"]) == pairing.pk]
    expected = timezone.localtime(pairing.started_at, zoneinfo.ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    assert row["started at"] == expected


def test_an_export_costs_the_same_queries_for_3_or_30_more_rows(client, world):
    # Issue 11, item 6: a query count that grows with rows is a bug
    people = [factories.UserFactory() for _ in range(60)]
    client.force_login(world.people["staff"])

    def add_and_count(rows: int, start: int) -> int:
        Pairing.objects.bulk_create(
            Pairing(scheme=world.scheme, network=world.network_a, mentor=people[2 * i], mentee=people[2 * i + 1])
            for i in range(start, start + rows)
        )
        with CaptureQueriesContext(connection) as captured:
            export(client, Pairing)
        return len(captured)

    assert add_and_count(3, 0) == add_and_count(27, 3)
