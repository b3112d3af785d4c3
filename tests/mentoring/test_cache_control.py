"""Signed-in pages are kept by no cache; pages for someone signed out are left alone (issue 6, section 8)."""

from django.urls import reverse


def test_a_signed_in_members_pages_are_private_and_not_stored(client, mentee):
    client.force_login(mentee)
    for name in ("onboarding", "mentoring_home", "home"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, name


def test_pages_for_someone_signed_out_are_left_as_they_are(client, documents):
    # Public pages may be cached as before; only views that ask for it (allauth's sign-in) say otherwise.
    for url in (reverse("home"), reverse("document_detail", args=["terms"])):
        response = client.get(url)
        assert response.status_code == 200
        assert not response.has_header("Cache-Control"), url
