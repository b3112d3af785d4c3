"""Branded 403, 404, 429 and 500 pages with DEBUG off (issue 6, section 8)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import include, path, reverse
from django.views.defaults import server_error


def broken(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


# The site's own routes, so the layout's links resolve, and two that fail on purpose.
urlpatterns = [
    path("test-broken/", broken),
    path("test-forbidden/", forbidden),
    path("", include("mentoring.urls")),
]


def test_a_missing_page_answers_404_in_the_site_layout(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    page = response.content.decode()
    assert "Page not found" in page
    assert settings.SITE_NAME in page


def test_a_signed_in_member_gets_the_404_page_with_their_menu(client, mentee):
    client.force_login(mentee)
    page = client.get("/requests/999999/").content.decode()
    assert "Page not found" in page
    assert reverse("mentoring_home") in page


@pytest.mark.urls(__name__)
def test_a_refused_page_answers_403_in_the_site_layout(client, db):
    response = client.get("/test-forbidden/")
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    assert "You cannot open this page" in response.content.decode()


def test_too_many_sign_in_attempts_answer_429_in_the_site_layout(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    answers = [client.post(reverse("account_login"), {"login": "a@example.org", "password": "x"}) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [t.name for t in answers[-1].templates][:2] == ["429.html", "base.html"]
    assert "Too many attempts" in answers[-1].content.decode()


@pytest.mark.urls(__name__)
def test_an_unexpected_error_answers_500_with_the_branded_page(client, db):
    client.raise_request_exception = False
    response = client.get("/test-broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert 'href="/static/vendor/bootstrap-5.3.9.min.css"' in page


def test_the_500_page_needs_no_request_context_and_no_database():
    # No `db` fixture: pytest-django fails any query. Django renders 500.html with no context at all.
    assert "Something went wrong" in render_to_string("500.html")
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
