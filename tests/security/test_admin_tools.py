"""The admin's tools for coordinators (issue 11, item 4; R-COORD-4, R-COORD-1): autocomplete finds only the
coordinator's own members; filters, search and date hierarchies never reach another network or answer a 500;
times show in the viewer's own zone, 24-hour, as on the member site."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse

from mentoring.models import Pairing
from tests.security.world import B_MARKER

AUTOCOMPLETE = reverse("admin:autocomplete")


def find_members(client, term: str) -> set[int]:
    response = client.get(
        AUTOCOMPLETE, {"app_label": "safeguarding", "model_name": "trainingrecord", "field_name": "user", "term": term}
    )
    assert response.status_code == 200, response.status_code
    return {int(result["id"]) for result in response.json()["results"]}


def test_autocomplete_finds_only_the_coordinators_own_members(client, world):
    # R-COORD-1: the search runs through the members' admin, scoped to the coordinator's networks
    client.force_login(world.coordinator_a)
    assert world.mentee_a.pk in find_members(client, world.mentee_a.last_name)
    everyone = find_members(client, "")
    assert everyone and not everyone & (world.b[type(world.mentee_a)] - world.a[type(world.mentee_a)])
    assert not find_members(client, B_MARKER)
    assert not find_members(client, world.people["mentee_b"].email)
    client.force_login(world.people["coordinator_b"])
    assert not find_members(client, world.mentee_a.last_name)


def test_autocomplete_is_closed_to_members_and_to_fields_it_does_not_serve(client, quiet_client, world):
    client.force_login(world.mentee_a)
    assert client.get(
        AUTOCOMPLETE, {"app_label": "safeguarding", "model_name": "trainingrecord", "field_name": "user", "term": "a"}
    ).status_code in (302, 403)
    quiet_client.force_login(world.coordinator_a)
    for params in ({"app_label": "nope", "model_name": "x", "field_name": "y"}, {}):
        assert quiet_client.get(AUTOCOMPLETE, params).status_code in (403, 404), params
    # Any field pointing at members searches through the members' admin: the same scope, whichever field is named.
    response = quiet_client.get(
        AUTOCOMPLETE, {"app_label": "mentoring", "model_name": "pairing", "field_name": "mentor", "term": B_MARKER}
    )
    assert response.status_code in (200, 403, 404) and B_MARKER not in response.content.decode()


def test_the_training_record_form_offers_the_member_search(client, world):
    client.force_login(world.coordinator_a)
    html = client.get(reverse("admin:safeguarding_trainingrecord_add")).content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in html and B_MARKER not in html


def test_admin_times_are_in_the_viewers_zone_and_24_hour(client, world):
    # Issue 11, item 4: "Times in the admin follow the same 24-hour format and the viewer's time zone"
    staff = world.people["staff"]
    pairing = world.pairing_a_dual
    Pairing.objects.filter(pk=pairing.pk).update(started_at=datetime.datetime(2026, 3, 1, 15, 30, tzinfo=datetime.UTC))
    type(staff).objects.filter(pk=staff.pk).update(time_zone="Asia/Tokyo")
    client.force_login(staff)
    html = client.get(reverse("admin:mentoring_pairing_changelist")).content.decode()
    assert "2 Mar 2026, 00:30" in html  # 15:30 UTC is half past midnight the next day in Tokyo
    assert "a.m." not in html and "p.m." not in html
    type(staff).objects.filter(pk=staff.pk).update(time_zone="Europe/London")
    html = client.get(reverse("admin:mentoring_pairing_change", args=[pairing.pk])).content.decode()
    assert "1 Mar 2026, 15:30" in html
    assert zoneinfo.ZoneInfo("Asia/Tokyo")  # the zone the member site uses is the same table of names


@pytest.mark.parametrize(
    ("changelist", "query"),
    [
        ("accounts_user", "network={b}"),
        ("accounts_user", "network=99999999999999999999"),
        ("mentoring_pairing", "network={b}"),
        ("mentoring_pairing", "started_at__year=abc"),
        ("mentoring_pairing", "started_at__year=2026&started_at__month=13"),
        ("mentoring_feedback", "network={b}&rating__exact=x"),
        ("matching_mentorshiprequest", "created_at__day=40&q=%00"),
        ("mentoring_meeting", "starts_at__year=99999"),
        ("matching_mentorprofile", "network={b}"),
        ("matching_mentorprofile", "network=-1"),
        ("matching_mentorshiprequest", "network={b}&status__exact=pending"),
    ],
)
def test_filters_and_dates_never_reach_another_network_or_fail(quiet_client, world, changelist, query):
    quiet_client.force_login(world.coordinator_a)
    url = reverse(f"admin:{changelist}_changelist") + "?" + query.format(b=world.network_b.pk)
    response = quiet_client.get(url)
    assert response.status_code in (200, 302, 400), response.status_code  # 400: a null character (middleware)
    if response.status_code == 200:
        assert B_MARKER not in response.content.decode()


def test_the_network_filters_keep_a_networks_rows(client, world):
    client.force_login(world.people["staff"])
    for changelist in ("matching_mentorprofile", "matching_mentorshiprequest", "accounts_user", "mentoring_feedback"):
        a = client.get(reverse(f"admin:{changelist}_changelist"), {"network": world.network_a.pk})
        assert a.status_code == 200
        assert f'href="?network={world.network_b.pk}"' in a.content.decode(), changelist  # staff may pick either
    profiles = client.get(reverse("admin:matching_mentorprofile_changelist"), {"network": world.network_b.pk})
    shown = {obj.pk for obj in profiles.context["cl"].result_list}
    assert world.profile_mentor_b.pk in shown and world.profile_mentor_a.pk not in shown
