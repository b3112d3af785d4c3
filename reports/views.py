"""Staff dashboards at /reports/ (R-REPORT-1, R-REPORT-2): scheme staff see the whole scheme, a coordinator
the same page limited to the networks they coordinate (R-COORD-2); everyone else gets 404. TOTP two-factor
is required as for the admin. A CSV of each table takes the same filters and the same rules."""

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.two_factor import needs_two_factor, two_factor_setup
from mentoring import permissions
from mentoring.models import LocalNetwork
from reports import selectors
from reports.forms import ReportFilterForm

REPORT_PAGES = "see the reports"


def _scope_or_refusal(request):
    """(scope, form, refusal): a refusal is the response to send instead (404 page raised, 2FA, or 400)."""
    user = request.user
    staff = permissions.is_scheme_staff(user)
    if not staff and not permissions.is_coordinator(user):
        raise Http404("No such page.")
    if needs_two_factor(user):
        return None, None, two_factor_setup(request, REPORT_PAGES)
    networks = LocalNetwork.objects.order_by("name")
    if not staff:
        networks = networks.filter(pk__in=permissions.coordinated_network_ids(user))
    form = ReportFilterForm(request.GET or None, networks=networks)
    if form.is_bound and not form.is_valid():
        return None, form, None
    data = form.cleaned_data if form.is_bound else {}
    network = data.get("network")
    network_ids = None if staff else permissions.coordinated_network_ids(user)
    if network is not None and network_ids is not None and network.pk not in network_ids:
        raise Http404("No such Local Network among yours.")  # a coordinator filtering by another's network
    scope = selectors.Scope(
        network_ids=network_ids,
        scheme=data.get("scheme"),
        network_id=network.pk if network is not None else None,
        country=data.get("country") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    return scope, form, None


def _chart_data(tables):
    return [
        {
            "id": f"chart-{t.key}",
            "type": t.chart,
            "title": t.title,
            "labels": [r[0] for r in t.rows],
            "values": [r[1] for r in t.rows],
        }
        for t in tables
        if t.chart
    ]


@require_GET
@login_required
def dashboard(request):
    scope, form, refusal = _scope_or_refusal(request)
    if refusal is not None:
        return refusal
    staff = permissions.is_scheme_staff(request.user)
    context = {"title": "Reports", "form": form, "staff": staff, "query": request.GET.urlencode()}
    if scope is None:
        return render(request, "reports/dashboard.html", context, status=400)
    tables = selectors.build_tables(selectors.table_names(staff=staff), scope)
    context |= {"tables": tables, "charts": _chart_data(tables)}
    return render(request, "reports/dashboard.html", context)


@require_GET
@login_required
def table_csv(request, table: str):
    scope, form, refusal = _scope_or_refusal(request)
    if refusal is not None:
        return refusal
    staff = permissions.is_scheme_staff(request.user)
    if table not in selectors.table_names(staff=staff):
        raise Http404("No such table.")
    if scope is None:
        context = {"title": "Reports", "form": form, "staff": staff, "query": ""}
        return render(request, "reports/dashboard.html", context, status=400)
    built = selectors.build_table(table, scope)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{built.key}.csv"'
    writer = csv.writer(response)
    writer.writerow(built.headers)
    for label, value in built.rows:
        # A label never starts a formula in a spreadsheet (names of networks are typed by people).
        writer.writerow([("'" + label) if str(label)[:1] in "=+-@" else label, value])
    return response
