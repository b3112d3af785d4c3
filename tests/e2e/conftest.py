"""Browser tests: Playwright drives Debian's Chromium against a live server, with an axe check per page.

Without /usr/bin/chromium these skip with a message; with E2E_REQUIRED (CI) they fail instead.
"""

import os
import threading
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from axe_playwright_python.sync_playwright import Axe
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.db import connection
from playwright.sync_api import sync_playwright

from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = {"serious", "critical"}


class AsgiLiveServer:
    """The real ASGI application (HTTP and websockets) served by daphne in a thread of this process.

    In-process so the test shares the database and the locmem outbox with the
    server, as Django's live_server does, but with websockets too.
    """

    def __init__(self):
        # Imported here, not at the top: importing builds the ASGI app's middleware, and WhiteNoise reads
        # STATIC_ROOT then, which must be the folder the session's collectstatic fixture filled.
        from mentoring.asgi import application  # noqa: PLC0415

        self._ready = threading.Event()
        self.server = Server(
            application=application,
            endpoints=build_endpoint_description_strings(host="127.0.0.1", port=0),
            signal_handlers=False,
            ready_callable=self._ready.set,
            verbosity=0,
        )
        self.thread = threading.Thread(target=self.server.run, name="daphne-live-server", daemon=True)

    def start(self) -> "AsgiLiveServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.listening_addresses and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.server.listening_addresses:
            raise RuntimeError("daphne did not start listening within 10 seconds")
        host, port = self.server.listening_addresses[0]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        # Importing twisted's reactor installs the default one when none is installed yet; it must be
        # the asyncio reactor daphne.server installed, so take it only once that server exists.
        from twisted.internet import reactor  # noqa: PLC0415

        reactor.callFromThread(reactor.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def asgi_live_server_session(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = AsgiLiveServer().start()
    yield server
    server.stop()
    # The server's worker threads hold their own database connections; end
    # them so the test database can be dropped at the end of the session.
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def asgi_live_server(asgi_live_server_session, transactional_db, settings):
    """A live server for one test. The allowed host is the address the browser uses."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    return asgi_live_server_session


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium (browser tests skipped)"
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API keeps an event loop running in this thread; the
    # tests still read the database directly, which Django otherwise refuses.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def new_page(browser):
    """A fresh browser context (its own cookies) per call: one per person in a journey."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        # Failed resources are recorded by address (the console message does not say which).
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.request.resource_type != "document"
                and page.errors.append(f"{r.status} {r.url} from {r.request.headers.get('referer')}")
            ),
        )
        page.on(
            "console",
            lambda msg: (
                msg.type == "error" and "Failed to load resource" not in msg.text and page.errors.append(msg.text)
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


def assert_accessible(page) -> None:
    """Run axe-core in the page; fail on any serious or critical violation."""
    # preload off: axe would otherwise re-fetch every stylesheet and resolve
    # its @imports against the page address, adding 404s of its own making.
    results = Axe().run(page, options={"resultTypes": ["violations"], "preload": False})
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"{page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in blocking
    )


def sign_in(page, base: str, user, *, then: str = "") -> None:
    """Sign in through allauth as a person would, entering the TOTP code when the account has two-factor."""
    page.goto(base + "/accounts/login/" + (f"?next={then}" if then else ""))
    assert_accessible(page)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    secret = getattr(user, "totp_secret", None)
    if secret:
        page.wait_for_url("**/2fa/authenticate/**")
        assert_accessible(page)
        # A code typed in the last seconds of its 30-second window can reach the server after it closed: wait
        # for the next window then, as a person would for a fresh code.
        left = 30 - time.time() % 30
        if left < 3:
            time.sleep(left + 0.5)
        code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**{then or '/onboarding/'}", timeout=20_000)
