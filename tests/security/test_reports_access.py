"""Issue 11, item 7: every report page and export, asked for network A's figures: a coordinator of another
network, a mentor and a mentee get 404; staff and A's coordinator get them (R-COORD-2, R-REPORT-1, R-REPORT-2)."""

import pytest
from django.urls import reverse

from reports import selectors
from tests.security.test_access_matrix import SIGNED_OUT, ask, state

URLS = [reverse("reports_dashboard")] + [
    reverse("reports_csv", args=[name]) for name in selectors.table_names(staff=True)
]


@pytest.mark.parametrize("url", URLS)
def test_network_as_figures_are_not_found_outside_network_a(client, world, url):
    url = f"{url}?network={world.network_a.pk}"
    before = state(None)
    for who in ("coordinator_b", "mentor_a", "mentee_a", "other_mentee_a", "dual", "safeguarding_lead"):
        assert ask(client, world, who, "GET", url, {}).status_code == 404, f"{url} as {who}"
    assert ask(client, world, SIGNED_OUT, "GET", url, {}).status_code == 302
    assert state(None) == before
    assert ask(client, world, "staff", "GET", url, {}).status_code == 200
    # The scheme-wide counts and DBS compliance are staff's alone; every other table is A's coordinator's too.
    staff_only = {f"/reports/{name}.csv" for name in selectors.STAFF_TABLES}
    expected = 404 if url.split("?")[0] in staff_only else 200
    assert ask(client, world, "coordinator_a", "GET", url, {}).status_code == expected


def test_a_coordinators_figures_leave_out_the_other_network(client, world):
    client.force_login(world.coordinator_a)
    response = client.get(reverse("reports_csv", args=["members-by-network"]))
    body = response.content.decode()
    assert world.network_a.name in body and world.network_b.name not in body
