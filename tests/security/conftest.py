from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from accounts.models import Language
from tests.security.world import build_world


def _restore_reference_data() -> None:
    """Transactional tests elsewhere flush the rows the data migrations made (as tests/conftest.py notes)."""
    if not Group.objects.exists() or not Language.objects.exists():
        import_module("mentoring.migrations.0002_role_groups").add_groups(apps, None)
        import_module("accounts.migrations.0002_languages").add_languages(apps, None)


@pytest.fixture(scope="package")
def _package_world(django_db_setup, django_db_blocker):
    # Built once for the security suite inside a transaction that is rolled back at its end; each
    # test runs in a savepoint inside it, so tests still cannot see each other's writes. Tests
    # must not change the world's objects in memory (fetch a fresh copy to change one).
    with django_db_blocker.unblock(), transaction.atomic():
        _restore_reference_data()
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_package_world, db):
    """Two networks full of data (tests/security/world.py): London is A, Scotland is B."""
    return _package_world


@pytest.fixture
def quiet_client():
    """A client that returns a 500 as a response instead of raising, so a test can say which page failed."""
    return Client(raise_request_exception=False)
