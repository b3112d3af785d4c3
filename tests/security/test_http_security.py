"""HTTP-level defences on every route (DESIGN: Security): CSRF, methods, sign-in rate limits (the admin's too),
security headers, secure cookies in production, and a sign-out that ends the session on the server.

A sign-out also closes that member's open sockets, across processes: that is
tests/messaging/test_realtime_redis.py::test_signing_out_closes_the_members_sockets.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests import factories
from tests.security.test_access_matrix import ACCESS_MATRIX, SIGNED_OUT, state

ROOT = Path(__file__).resolve().parents[2]
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")
SAMPLE = {"int": "1", "slug": "terms", "path": "1", "str": "sample", "uuid": "00000000-0000-0000-0000-000000000001"}

# Routes that change state and so answer only POST.
POST_ONLY = {name for name, cases in ACCESS_MATRIX.items() if cases[0].methods == ("POST",)} | {
    "notification_read_all",
    "calendar_revoke",  # issue 7: a new calendar address
}


def every_route() -> dict[str, str]:
    """Every route of the site, the admin's and allauth's included, as a URL that resolves."""
    found = {}

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                path = REGEX_GROUP.sub("sample-1", route).replace("^", "").replace("$", "")
                path = "/" + PARAMETER.sub(lambda m: SAMPLE.get(m.group(1) or "str", "sample"), path)
                found[path] = pattern.name or path

    walk(get_resolver().url_patterns, "")
    return found


def test_every_route_refuses_a_post_without_a_csrf_token(world):
    # DESIGN (Security): every state-changing endpoint, the admin's and allauth's included
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.superuser)
    accepted = {}
    for path, name in every_route().items():
        resolve(path)  # a path that does not resolve would test nothing
        status = client.post(path, {"anything": "1"}).status_code
        if status != 403:
            accepted[name] = status
    assert not accepted, f"POST without a CSRF token was not refused by: {accepted}"


def test_a_post_with_the_token_gets_through(world):
    # The control for the test above: the same client posts fine with a token.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.mentee_a)
    client.get(reverse("notification_list"))
    token = client.cookies["csrftoken"].value
    assert client.post(reverse("notification_read_all"), {"csrfmiddlewaretoken": token}).status_code == 302


def owner_url(world, name) -> tuple[str, str]:
    """A URL for route `name` and the person who may use it."""
    if name in ACCESS_MATRIX:
        built = ACCESS_MATRIX[name][0].build(world)
        owner = next(iter(built.owners), "mentee_a")
        return reverse(name, kwargs=built.kwargs), owner
    return reverse(name), "mentee_a"


def member_routes() -> list[str]:
    """Named routes of our own apps (not the admin's, not allauth's)."""
    ours = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                module = getattr(pattern.urlconf_module, "__name__", "")
                if pattern.app_name != "admin" and not module.startswith("allauth"):
                    walk(pattern.url_patterns)
            elif pattern.name:
                ours.append(pattern.name)

    walk(get_resolver().url_patterns)
    return sorted(set(ours))


def test_post_only_routes_refuse_get_and_no_other_route_does(client, world):
    refused = set()
    for name in member_routes():
        url, owner = owner_url(world, name)
        client.logout()
        if owner != SIGNED_OUT:
            client.force_login(world.people[owner])
        if client.get(url).status_code == 405:
            refused.add(name)
    assert refused == POST_ONLY, f"answer GET with 405: expected {sorted(POST_ONLY)}, got {sorted(refused)}"


# Reads that must be recorded (R-MSG-5; DESIGN: who read a confidential conversation or a concern is audited):
# a GET of these adds a row to its audit log, and changes nothing else.
AUDITED_READS = {
    "conversation_read": "messaging.ConversationAccessLog",
    "concern_detail": "safeguarding.AuditEvent",
}


def test_a_get_changes_nothing(client, world):
    # A link followed, prefetched or crawled must not act for the member.
    changed = []
    for name in member_routes():
        if name in POST_ONLY:
            continue
        url, owner = owner_url(world, name)
        client.logout()
        if owner != SIGNED_OUT:
            client.force_login(world.people[owner])
        before = state(None)
        client.get(url)
        after = state(None)
        grew = {label: a - b for (label, b), (_, a) in zip(before[0], after[0], strict=True) if a != b}
        if name in AUDITED_READS and grew == {AUDITED_READS[name]: 1}:
            continue  # the read was recorded, once, and nothing else changed
        if after != before:
            changed.append(url)
    assert not changed, f"GET changed the database: {changed}"


# --- Rate limits ---------------------------------------------------------------------------------------------


def failed_sign_in(client, email, path=None):
    return client.post(path or reverse("account_login"), {"login": email, "password": "wrong-password-1"})


TOO_MANY = "Too many failed login attempts"


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(client, world):
    # allauth's login_failed limit per IP (10 a minute), whatever account is tried
    emails = [u.email for u in (world.mentee_a, world.mentor_a, world.other_mentee_a, world.staff)]
    pages = [failed_sign_in(client, emails[i % len(emails)]) for i in range(11)]
    assert TOO_MANY not in pages[0].content.decode()
    assert TOO_MANY in pages[-1].content.decode()


def test_sign_in_attempts_beyond_the_limit_get_429(client, world):
    # allauth's "login" limit (30 a minute per IP) answers 429 whatever the form says
    statuses = [
        client.post(reverse("account_login"), {"login": f"nobody{i}@example.org"}).status_code for i in range(31)
    ]
    assert statuses[0] == 200
    assert statuses[-1] == 429


def test_the_admin_sign_in_is_allauths_and_shares_its_limits(client, world):
    # The admin's own login form is never used: it sends everyone to allauth's, limits and two-factor included.
    staff = world.coordinator_a
    direct = client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": factories.PASSWORD})
    assert direct.status_code == 302 and direct["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    sign_in = client.get("/admin/login/?next=/admin/")["Location"]
    pages = [failed_sign_in(client, staff.email, sign_in) for _ in range(6)]
    assert TOO_MANY in pages[-1].content.decode()
    right = client.post(sign_in, {"login": staff.email, "password": factories.PASSWORD})
    assert right.status_code == 200 and "_auth_user_id" not in client.session


def test_two_factor_codes_are_rate_limited(client, world):
    # Staff pass a TOTP code to reach the admin; guessing codes is limited like passwords.
    staff = world.coordinator_a
    step = client.post(reverse("account_login"), {"login": staff.email, "password": factories.PASSWORD})
    assert step.status_code == 302 and reverse("mfa_authenticate") in step["Location"]
    secret = staff.authenticator_set.get(type="totp").wrap().instance.data["secret"]
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(reverse("mfa_authenticate"), {"code": wrong})
    refused = client.post(reverse("mfa_authenticate"), {"code": code})
    assert refused.status_code == 200
    assert client.get("/admin/").status_code == 302


# --- Headers and cookies -------------------------------------------------------------------------------------


def pages_to_check(world):
    """(who, url): public pages signed out, every member page as its owner, admin pages as staff, error pages."""
    for name in ("home", "account_login", "account_signup", "account_reset_password"):
        yield SIGNED_OUT, reverse(name)
    yield SIGNED_OUT, reverse("document_detail", args=["terms"])
    yield SIGNED_OUT, "/no-such-page/"
    for name in member_routes():
        if name not in POST_ONLY:
            url, owner = owner_url(world, name)
            yield owner, url
    yield "mentee_a", "/admin/"  # 403 for a member
    yield "staff", reverse("admin:index")
    for model in admin.site._registry:
        yield "staff", reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def header_problems(response) -> list[str]:
    problems = []
    policy = directives(response.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts is None:
        problems.append("no script-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(scripts):
        problems.append(f"script-src {scripts}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {policy.get('frame-ancestors')}")
    if policy.get("object-src") != ["'none'"]:
        problems.append(f"object-src {policy.get('object-src')}")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {response.get('X-Frame-Options')}")
    if response.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
        problems.append(f"Referrer-Policy {response.get('Referrer-Policy')}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    hsts = response.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    if not max_age or int(max_age.group(1)) < 31536000 or "includeSubDomains" not in hsts:
        problems.append(f"Strict-Transport-Security {hsts!r}")
    return problems


def test_every_page_sends_the_security_headers(client, world):
    # DESIGN (Security): CSP without inline script, frame-ancestors 'none', Referrer-Policy, HSTS over HTTPS
    found = {}
    for who, url in pages_to_check(world):
        client.logout()
        if who != SIGNED_OUT:
            client.force_login(world.people[who])
        response = client.get(url, secure=True)
        problems = header_problems(response)
        if problems:
            found[f"{url} ({response.status_code})"] = problems
    assert not found, found


def test_no_member_page_shows_a_requirement_id(client, world):
    # Issue 6, 1: requirement IDs are for the code (the admin's pages: test_admin_pages.py)
    found = {}
    for who, url in pages_to_check(world):
        if url.startswith("/admin/"):
            continue
        client.logout()
        if who != SIGNED_OUT:
            client.force_login(world.people[who])
        ids = sorted(set(re.findall(r"\bR-[A-Z]+-\d+", client.get(url).content.decode())))
        if ids:
            found[url] = ids
    assert not found, found


def test_hsts_is_only_sent_over_https(client, world):
    assert "Strict-Transport-Security" not in client.get(reverse("home"))
    assert "Strict-Transport-Security" in client.get(reverse("home"), secure=True)


PRODUCTION_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "MFA_REQUIRED_FOR_STAFF",
)


@pytest.fixture(scope="module")
def production_settings() -> dict:
    """The cookie and transport settings as production computes them, read in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="x7$k!q2-production-like-secret-key-with-enough-entropy-0a9s8d7f6g5h4j3k2l1",
        ALLOWED_HOSTS="mentoring.example.org",
        DATABASE_URL="sqlite:///:memory:",
        DJANGO_SETTINGS_MODULE="mentoring.settings",
    )
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{k: getattr(settings, k) for k in {PRODUCTION_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_secure_the_cookies_and_the_transport(production_settings):
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31536000
    assert production_settings["MFA_REQUIRED_FOR_STAFF"] is True


def test_with_production_settings_the_cookies_a_sign_in_sets_are_secure(client, world, production_settings):
    cookie_settings = {k: v for k, v in production_settings.items() if k != "MFA_REQUIRED_FOR_STAFF"}
    with override_settings(**cookie_settings):
        assert client.get(reverse("account_login")).status_code == 301  # plain HTTP goes to HTTPS
        client.get(reverse("account_login"), secure=True)
        signed_in = client.post(
            reverse("account_login"), {"login": world.mentee_a.email, "password": factories.PASSWORD}, secure=True
        )
    assert signed_in.status_code == 302
    session, csrf = signed_in.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] in ("Lax", "Strict")
    assert csrf["secure"]


def test_signing_out_ends_the_session_on_the_server(client, world):
    # A copied session cookie is worthless after sign-out.
    client.post(reverse("account_login"), {"login": world.mentee_a.email, "password": factories.PASSWORD})
    key = client.cookies["sessionid"].value
    assert client.get(reverse("mentoring_home")).status_code == 200
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=key).exists()
    stolen = Client()
    stolen.cookies["sessionid"] = key
    response = stolen.get(reverse("mentoring_home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
