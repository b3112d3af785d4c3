"""Staff open the dashboards, see the charts beside their tables, filter by network and download a CSV;
a coordinator of another network cannot filter by it (issue 11, items 5 and 8; R-REPORT-1, R-REPORT-2)."""

import pytest
from django.conf import settings

from tests import factories
from tests.conftest import _role_user
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_staff_see_charts_with_tables_filter_by_network_and_download_a_csv(
    asgi_live_server, new_page, scheme_staff, documents, scheme, network, other_network
):
    for _ in range(2):
        factories.listed_mentor(scheme, network)
        factories.eligible_mentee(scheme, network)
    factories.eligible_mentee(scheme, other_network)
    base = asgi_live_server.url
    page = new_page()
    sign_in(page, base, scheme_staff, then="/reports/")
    page.goto(base + "/reports/")
    assert page.get_by_role("heading", name="Members by role").count() == 1
    # Each chart is drawn (Chart.js sets the canvas's size) and has its table beside it.
    for key in ("members-by-role", "ended-by-reason"):
        assert page.locator(f"#chart-{key}").evaluate("c => c.width > 0 && c.height > 0")
        assert page.locator(f"#table-{key}").count() == 1
    role_table = page.locator("#table-members-by-role")
    assert "Mentor" in role_table.inner_text() and "3" in role_table.inner_text()
    assert_accessible(page)

    page.get_by_role("combobox", name="Local Network").select_option(label=network.name)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**network={network.pk}**")
    assert "2" in page.locator("#table-members-by-role").inner_text()
    with page.expect_download() as download:
        page.locator("#table-members-by-role").get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == "members-by-role.csv"
    assert_accessible(page)
    assert not page.errors, page.errors


def test_a_coordinator_cannot_read_another_networks_figures(
    asgi_live_server, new_page, documents, network, other_network
):
    outsider = _role_user(settings.GROUP_COORDINATORS, first_name="Olu")
    other_network.coordinators.add(outsider)
    page = new_page()
    base = asgi_live_server.url
    sign_in(page, base, outsider, then="/reports/")
    response = page.goto(f"{base}/reports/?network={network.pk}")
    assert response.status == 404
    response = page.goto(f"{base}/reports/members-by-role.csv?network={network.pk}")
    assert response.status == 404
