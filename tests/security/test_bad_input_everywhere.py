"""Bad input anywhere gets a clear answer and a 4xx, never a 500, and leaves nothing half-written (issue 7's forms).

Every route of the access matrix whose owners may POST, and the member forms that take no id, is tried
as its owner with hostile bodies: each field (read from the page's form, else from its HTML) set to
each hostile value, all at once and one at a time on top of a valid body, plus a body with every
field missing. A refusal (4xx, or the form shown again with its errors) must not add a row to any
model of the admin. Each page is also read with hostile query strings.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User
from tests.security.test_access_matrix import ACCESS_MATRIX, Built, Case

HOSTILE = (
    "",
    "   ",
    "x" * 10_000,
    "\x00",
    "\r\n",
    "9" * 30,
    "-1",
    "0",
    "1e309",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "javascript:alert(1)",
    "<script>",
    "' OR 1=1",
    ["1", "2"],
)
# Tried one field at a time on top of a valid body too (a date range, a number's bounds, a choice), so a
# rule that needs every other field valid runs. The rest are tried in every field at once only.
ONE_AT_A_TIME = ("", "x" * 10_000, "\x00", "9" * 30, "-1", "1e309", "2026-02-30", "9999-12-31", "0001-01-01")
ONE_AT_A_TIME += ("0001-01-01T00:00", "9999-12-31T23:59", ["1", "2"])
HOSTILE_QUERIES = ("?page=abc", "?pairing=99999999999999999999", "?scheme=<script>", "?page=-1&pairing=abc")
NOT_FIELDS = {"csrfmiddlewaretoken"}
# The owners live east of London (Tokyo, UTC+9), so a date and time they type near the calendar's
# start is before its start in UTC.
FAR_EAST = "Asia/Tokyo"
PAST = "That time has already passed: choose a time in the future."


def own(owner: str, data: dict | None = None):
    def build(world) -> Built:
        return Built({}, {owner: 200})

    return Case(build, methods=("GET", "POST"), data=data or {})


# The member forms that take no id (so are not in the access matrix), with a member who may use each.
# The older ones (from onboarding, before the pairing's life) get every field at once only, to keep this fast:
# tests/security/test_bad_ids.py tries their choice fields one by one.
OLDER_FORMS = {"scheme_join", "documents_accept", "account_details", "mentee_goals_edit", "mentor_profile_edit"}
FORMS_WITHOUT_AN_ID = {
    "cpd_log": (own("dual2", {"date": "2020-01-01", "activity": "Mentoring", "hours": "1"}),),
    "complaint_new": (own("mentee_a", {"about": "service", "text": "x"}),),
    "concern_new": (own("mentee_a", {"what_happened": "x", "immediate_risk": "no"}),),  # issue 9 (R-SAFE-1)
    "calendar_page": (own("dual"),),
    "calendar_revoke": (own("dual"),),
    "notification_read_all": (own("mentee_a"),),
    "scheme_join": (own("mentee_a"),),
    "documents_accept": (own("mentee_a"),),
    "account_details": (own("mentee_a"),),
    "mentee_goals_edit": (own("mentee_a"),),
    "mentor_profile_edit": (own("mentor_a"),),
}
ROUTES = {
    name: cases
    for name, cases in {**ACCESS_MATRIX, **FORMS_WITHOUT_AN_ID}.items()
    if any("POST" in case.methods for case in cases)
}


class _FieldNames(HTMLParser):
    """The names of the inputs, selects and text areas inside the page's POST forms."""

    def __init__(self):
        super().__init__()
        self.names: list[str] = []
        self._in_post_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_post_form = (attrs.get("method") or "").lower() == "post"
        elif tag in ("input", "select", "textarea", "button") and self._in_post_form and attrs.get("name"):
            self.names.append(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_post_form = False


def field_names(response, case: Case) -> list[str]:
    names = list(case.data)
    form = response.context.get("form") if response.context else None
    if form is not None and hasattr(form, "fields"):
        names += [form[name].html_name for name in form.fields]
    if response.status_code == 200 and "html" in response.get("Content-Type", ""):
        parser = _FieldNames()
        parser.feed(response.content.decode())
        names += parser.names
    return sorted(set(names) - NOT_FIELDS)


def counts() -> tuple:
    return tuple(model._default_manager.count() for model in admin.site._registry)


def grown(before: tuple, after: tuple) -> list[str]:
    return [m.__name__ for m, b, a in zip(admin.site._registry, before, after, strict=True) if a > b]


def refused(response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    form = response.context.get("form") if response.context else None
    return response.status_code == 200 and bool(getattr(form, "errors", None))


def bodies(names: list[str], valid: dict, *, one_at_a_time: bool):
    yield "every field missing", {}
    for value in HOSTILE:
        yield f"every field {value!r:.40}", dict.fromkeys(names, value)
    for value in ONE_AT_A_TIME if one_at_a_time else ():
        for name in names:
            yield f"{name}={value!r:.40}", {**valid, name: value}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_hostile_input_is_refused_without_a_500_or_a_half_written_row(quiet_client, world, name):
    client = quiet_client
    problems = []
    for case in ROUTES[name]:
        if "POST" not in case.methods:
            continue
        built = case.build(world)
        url = reverse(name, kwargs=built.kwargs)
        User.objects.filter(pk__in=[world.people[owner].pk for owner in built.owners]).update(time_zone=FAR_EAST)
        for owner in built.owners:
            client.force_login(world.people[owner])
            names = list(case.data)
            if "GET" in case.methods:
                page = client.get(url)
                assert page.status_code < 500, f"GET {url} as {owner} gave {page.status_code}"
                names = field_names(page, case)
                for query in HOSTILE_QUERIES:
                    response = client.get(url + query)
                    if response.status_code >= 500:
                        problems.append(f"GET {url}{query} as {owner} gave {response.status_code}")
            for label, body in bodies(names, case.data, one_at_a_time=name not in OLDER_FORMS):
                before = counts()
                response = client.post(url, body)
                if response.status_code >= 500:
                    problems.append(f"POST {url} as {owner} with {label} gave {response.status_code}")
                elif refused(response) and (written := grown(before, counts())):
                    problems.append(f"POST {url} as {owner} with {label} was refused but wrote {written}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("starts", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_meeting_at_either_end_of_the_calendar_is_refused_in_plain_words(quiet_client, world, zone, starts):
    # R-PAIR-2: a time that falls off the calendar in UTC (east of London in year 1, west in 9999) is a form error.
    User.objects.filter(pk=world.dual.pk).update(time_zone=zone)
    quiet_client.force_login(world.dual)
    before = counts()
    url = reverse("meeting_propose", kwargs={"pk": world.pairing_a_dual.pk})
    response = quiet_client.post(url, {"starts_local": starts, "duration_minutes": "60"})
    assert response.status_code == 400
    said = response.context["form"].non_field_errors()
    assert said and set(said) <= {"Choose a time within the next year.", PAST}
    assert counts() == before


@pytest.mark.parametrize("name", sorted(ACCESS_MATRIX))
def test_an_impossible_id_or_slug_in_the_address_is_not_found(quiet_client, world, name):
    client = quiet_client
    for case in ACCESS_MATRIX[name]:
        built = case.build(world)
        owner = next(iter(built.owners), None)
        if owner and owner in world.people:
            client.force_login(world.people[owner])
        url = reverse(name, kwargs=built.kwargs)
        for query in HOSTILE_QUERIES:
            assert client.get(url + query).status_code < 500, f"GET {url}{query} as {owner}"
        for key, value in built.kwargs.items():
            bad = "9" * 30 if isinstance(value, int) else "no-such-" + "x" * 300
            bad_url = reverse(name, kwargs={**built.kwargs, key: bad})
            for method in case.methods:
                response = client.post(bad_url, case.data) if method == "POST" else client.get(bad_url)
                assert response.status_code == 404, f"{method} {bad_url} as {owner} gave {response.status_code}"
