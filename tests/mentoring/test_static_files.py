"""Tests link and serve static files as production does: hashed names from the manifest, served by WhiteNoise."""

import re

from django.conf import settings
from django.urls import reverse


def test_pages_link_hashed_static_files_that_the_site_serves(client, mentee):
    client.force_login(mentee)  # signed in, so the notification script is linked too
    page = client.get(reverse("onboarding")).content.decode()
    links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(links) >= 4, links
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", link), f"{link} is not a hashed name"
        response = client.get(link)
        assert response.status_code == 200, link
        assert "immutable" in response["Cache-Control"], link


def test_tests_use_the_production_static_storage():
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
