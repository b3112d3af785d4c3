import os
from importlib import import_module

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from celery import _state as celery_state
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.test.utils import override_settings

from accounts.models import Language
from mentoring import shared_version
from mentoring.celery import app as project_celery_app
from mentoring.models import DocumentKind, Role
from tests import factories


def services_required() -> bool:
    """In CI a missing PostgreSQL, Redis or Chromium is a failure, not a skip."""
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES"))


def pytest_collection_modifyitems(items):
    """Browser tests run last: Playwright's event loop stays in the main thread until the session ends."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path))


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory):
    """Pages link static files through production's manifest storage: collect them once per run, as a deploy does."""
    with override_settings(STATIC_ROOT=str(tmp_path_factory.mktemp("static"))):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@pytest.fixture
def documents(db):
    """The current published version of each scheme document."""
    return {kind: factories.TermsVersionFactory(kind=kind, version="2026.1") for kind in DocumentKind}


@pytest.fixture
def scheme(db):
    return factories.SchemeFactory(name="Career Mentoring", slug="career")


@pytest.fixture
def dbs_scheme(db):
    return factories.SchemeFactory(name="Registration Mentoring", slug="registration", dbs_required=True)


@pytest.fixture
def network(db):
    return factories.LocalNetworkFactory(name="London", slug="london")


@pytest.fixture
def other_network(db):
    return factories.LocalNetworkFactory(name="Scotland", slug="scotland")


@pytest.fixture
def mentee(documents, scheme, network):
    """An eligible mentee in the career scheme."""
    user = factories.UserFactory(first_name="Amara")
    factories.accept_current_documents(user)
    factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTEE)
    return user


@pytest.fixture
def mentor(documents, scheme, network):
    """An eligible, trained mentor in the career scheme."""
    user = factories.UserFactory(first_name="David")
    factories.accept_current_documents(user)
    factories.train(user)
    factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTOR)
    return user


def _role_user(group_name: str, **kwargs):
    """A member of a role group, with TOTP two-factor set up as the admin requires."""
    user = factories.UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)
    return user


@pytest.fixture
def coordinator(db, network):
    user = _role_user(settings.GROUP_COORDINATORS, first_name="Grace")
    network.coordinators.add(user)
    return user


@pytest.fixture
def scheme_staff(db):
    return _role_user(settings.GROUP_STAFF, first_name="Sam")


@pytest.fixture
def safeguarding_lead(db):
    return _role_user(settings.GROUP_SAFEGUARDING_LEAD, first_name="Morgan")


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Rows the data migrations made (role groups, languages) are flushed by transactional tests: put them back."""
    wanted = {"db", "transactional_db"} & set(request.fixturenames)
    if not wanted:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in wanted else "db")
    if not Group.objects.exists() or not Language.objects.exists():
        import_module("mentoring.migrations.0002_role_groups").add_groups(apps, None)
        import_module("accounts.migrations.0002_languages").add_languages(apps, None)


@pytest.fixture(autouse=True)
def _project_celery_state():
    """Celery keeps process-wide state that a worker started in this process (a test's own) or a task run
    in it can leave behind: the "inside a task" flag that makes every result.get() refuse, and which app is
    current. Each test starts from the project's app, outside any task."""
    celery_state._set_task_join_will_block(False)
    project_celery_app.set_current()
    yield
    celery_state._set_task_join_will_block(False)
    project_celery_app.set_current()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none, nor any process copy of what is shared."""
    cache.clear()
    shared_version.forget_all()
    yield
