"""Yes/no settings read from the environment: a typo stops the start instead of reading as "no"."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mentoring.settings import env_bool

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["true", "True", "1", "YES", "on", " yes "])
def test_yes_no_variables_read_the_usual_words_for_yes(monkeypatch, raw):
    monkeypatch.setenv("SOME_SWITCH", raw)
    assert env_bool("SOME_SWITCH", default=False) is True


@pytest.mark.parametrize("raw", ["false", "FALSE", "0", "no", "Off"])
def test_yes_no_variables_read_the_usual_words_for_no(monkeypatch, raw):
    monkeypatch.setenv("SOME_SWITCH", raw)
    assert env_bool("SOME_SWITCH", default=True) is False


@pytest.mark.parametrize("raw", [None, ""])
def test_an_unset_or_empty_yes_no_variable_takes_its_default(monkeypatch, raw):
    monkeypatch.delenv("SOME_SWITCH", raising=False)
    if raw is not None:
        monkeypatch.setenv("SOME_SWITCH", raw)
    assert env_bool("SOME_SWITCH", default=True) is True
    assert env_bool("SOME_SWITCH", default=False) is False


@pytest.mark.parametrize("raw", ["ture", "flase", "y", "2", "enabled"])
def test_a_misspelt_yes_no_variable_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("SOME_SWITCH", raw)
    with pytest.raises(ImproperlyConfigured, match="SOME_SWITCH"):
        env_bool("SOME_SWITCH", default=True)


def test_the_site_does_not_start_when_two_factor_for_staff_is_misspelt():
    # django-environ read "ture" as false: staff would have signed in without two-factor.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:", "MFA_REQUIRED_FOR_STAFF": "ture"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MFA_REQUIRED_FOR_STAFF='ture'" in result.stderr
