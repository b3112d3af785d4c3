"""Production settings pass Django's deployment checks; headers are set (DESIGN: Security)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_passes_with_production_variables():
    ignored = {"PYTEST_VERSION", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x7$k!q2-production-like-secret-key-with-enough-entropy-0a9s8d7f6g5h4j3k2l1",
            "ALLOWED_HOSTS": "mentoring.example.org",
            "DATABASE_URL": "sqlite:///:memory:",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DEBUG", "SECRET_KEY"}}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_a_cdn(client, db):
    body = client.get(reverse("home")).content.decode()
    # Served from our own static files, under the manifest's hashed name as in production.
    assert re.search(r'href="/static/vendor/bootstrap-5\.3\.9\.min\.[0-9a-f]{12}\.css"', body)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', body)
    assert assets
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
