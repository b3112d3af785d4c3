"""Settings for the mentoring platform, read from the environment.

Defaults are for a laptop: SQLite, no Redis (in-memory channel layer, Celery
tasks run inline), console email. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS and EMAIL_URL; see README.md.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


def env_bool(name: str, *, default: bool) -> bool:
    """A yes/no variable. Unset or empty gives the default; anything but a known word stops the start.

    django-environ reads any unknown word as false, so MFA_REQUIRED_FOR_STAFF=ture quietly turned
    two-factor off; here it fails loudly, naming the variable.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value: use true/false, 1/0, yes/no or on/off.")


# pytest sets PYTEST_VERSION for the whole run: tests use fast hashing and
# plain HTTP, but otherwise the production defaults.
TESTING = "PYTEST_VERSION" in os.environ

DEBUG = env_bool("DEBUG", default=False)
if DEBUG or TESTING:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production-0123456789")
else:
    SECRET_KEY = env("SECRET_KEY")  # required: fails loudly when missing
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_countries",
    "auditlog",
    # Membership import and the coordinators' CSV exports in the admin (issue 11, items 3 and 4).
    "import_export",
    "accounts",
    "mentoring",
    "safeguarding",
    "matching",
    "messaging",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mentoring.middleware.NullCharactersRefusedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in person as the actor of every change history entry written during the request.
    "auditlog.middleware.AuditlogMiddleware",
    "mentoring.middleware.SignedInPagesNotStoredMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
]

ROOT_URLCONF = "mentoring.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "mentoring.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "messaging.context_processors.notifications",
                "mentoring.context_processors.site",
                "mentoring.closure.scheme_banners",  # scheme closure (issue 7)
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# No ATOMIC_REQUESTS: each service owns its transaction (@transaction.atomic), so a row lock
# lasts as long as the service, not the whole page render.
# Persistent connections are off, as Django advises under ASGI: each request runs its view
# in a thread of its own, so kept connections would pile up rather than be reused.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# On PostgreSQL, a pool of open connections per process (psycopg 3's, which Django 5.1+ drives): a request
# borrows one and gives it back, rather than opening a new one (a backend process, with cold caches) each
# time. Bounded by DATABASE_POOL_MAX; WEB_DATABASE_THREADS and SOCKET_DATABASE_THREADS stay within it.
DATABASE_POOL_MAX = env.int("DATABASE_POOL_MAX", default=12)
# Tests open and close connections as they please (and drop the test database at the end): no pool there;
# the server processes that tests start run the production configuration, pool included.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_POOL", default=not TESTING):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX,
        "timeout": 30,  # a request waits this long for a free connection before it fails
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: it pays off for long analytical scans, not for a web page's queries. The staff
    # dashboard's aggregates over 20,000 members are estimated above jit_above_cost, and PostgreSQL spent four
    # seconds compiling one that runs in a tenth of that (issue 11, item 6; bench/reports.py).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Prepared statements for the few plain-SQL statements that bind on the server (messaging/statements.py:
    # every message sent, the badges on every page): psycopg prepares one once it has run five times on a
    # connection, and PostgreSQL then skips parsing and planning it. Django turns this off by default for
    # pgbouncer's transaction mode; the pool here is psycopg's own, so a connection keeps its statements.
    # Django's other queries bind on the client and are never prepared. Measured with bench/messaging.py:
    # PostgreSQL's CPU per message sent fell from 2.0 to 1.2 ms.
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers queue rather than fail with "database is locked" (Django 5.1+):
    # every transaction takes the write lock when it begins (IMMEDIATE), so none has to
    # upgrade a read lock half-way; WAL lets readers carry on beside the one writer; a
    # writer waits up to `timeout` seconds for its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL and TESTING and (_worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    # The suite in parallel (pytest -n): each worker its own Redis database, as each has its own test
    # database, so one worker's cache.clear() or channel groups never reach another's. Exported, so the
    # servers a test starts and the tests that read REDIS_URL themselves use the same one.
    _url = urlsplit(REDIS_URL)
    _db = int(_url.path.strip("/") or 0) + 1 + int(_worker[2:])
    REDIS_URL = urlunsplit(_url._replace(path=f"/{_db}"))
    os.environ["REDIS_URL"] = REDIS_URL
if REDIS_URL:
    # channels_redis's pub/sub layer, reporting Redis outages to the sockets (messaging/channel_layer.py).
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "messaging.channel_layer.RedisPubSubLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "mentoring.cache.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    # Tests run tasks inline unless a test starts a real worker on this broker.
    CELERY_TASK_ALWAYS_EAGER = TESTING
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # A real cache even on a laptop: allauth's rate limits need one.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Flood control for the pair's conversation (issue 8): at most this many messages per member in any
# window of this many seconds, over all their conversations, pages and sockets. Counted in the database,
# so every server process agrees. bench/messaging.py raises it: it measures throughput, not the limit.
MESSAGE_RATE_LIMIT = env.int("MESSAGE_RATE_LIMIT", default=30)
MESSAGE_RATE_WINDOW = env.int("MESSAGE_RATE_WINDOW", default=60)
# At most this many HTTP requests run Django's views at once in each server process, each holding one
# database connection; the rest wait in the event loop (mentoring/asgi.py). Two cores: 8 keeps them busy.
WEB_DATABASE_THREADS = env.int("WEB_DATABASE_THREADS", default=8)
# Threads per server process for the websockets' database work (messaging/consumers.py), each keeping one
# connection: processes × this stays below PostgreSQL's max_connections. A few overlap the database's
# round trips; many leave the event loop too small a share of the interpreter (bench/messaging.py). Tests
# use 1: channels' one thread, so a socket shares the test's database connection.
SOCKET_DATABASE_THREADS = env.int("SOCKET_DATABASE_THREADS", default=1 if TESTING else 4)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Catches important notifications whose email failed or whose task was lost.
    "send-pending-notification-emails": {"task": "messaging.tasks.send_notification_emails", "schedule": 300.0},
    "expire-mentorship-requests": {"task": "matching.tasks.expire_requests", "schedule": 3600.0},
    # Issue 11: a coordinator's proposal not confirmed by both members in time lapses (R-MATCH-3, R-MATCH-4).
    "expire-pairing-proposals": {"task": "matching.tasks.expire_proposals", "schedule": 3600.0},
    # Issue 10: the listing table follows every save at once; this catches what only the date changes
    # (a DBS check, a membership or a course expiring at midnight where the mentor lives). 15 minutes.
    "refresh-mentor-listings": {"task": "matching.tasks.refresh_listings", "schedule": 900.0},
    # Issue 11: the same for the table of eligible memberships the dashboards count (every 15 minutes).
    "refresh-eligible-memberships": {"task": "safeguarding.tasks.refresh_eligible_memberships", "schedule": 900.0},
    # Issue 7 (feedback): ask at the midpoint and after an ending, remind once; daily.
    "send-feedback-requests": {"task": "mentoring.ending_tasks.send_feedback_requests", "schedule": 86400.0},
    # Issue 7, agreement part: the one reminder of an agreement not agreed in time.
    "remind-unagreed-agreements": {"task": "mentoring.agreement_tasks.remind_unagreed_agreements", "schedule": 86400.0},
    # Issue 7, meetings part. Reminders go out about a day before a meeting: hourly, so none is late by
    # up to a day (each is a unique row, so running often sends nothing twice). Nudges count days: daily.
    "send-meeting-reminders": {"task": "mentoring.tasks.send_meeting_reminders", "schedule": 3600.0},
    "send-inactivity-nudges": {"task": "mentoring.tasks.send_inactivity_nudges", "schedule": 86400.0},
    # Scheme closure (issue 7): each day, notices two weeks ahead, then the schemes whose close date has come.
    "send-scheme-closure-notices": {
        "task": "mentoring.closure_tasks.send_scheme_closure_notices",
        "schedule": crontab(hour=6, minute=0),
    },
    "close-schemes": {"task": "mentoring.closure_tasks.close_schemes", "schedule": crontab(hour=0, minute=5)},
    # Issue 9: DBS checks past expiry move to expired and lapsed members are told once; then the DBS and
    # training reminders (each once per record and stage). Daily, early in the UK morning.
    "sweep-eligibility": {"task": "safeguarding.tasks.sweep_eligibility", "schedule": crontab(hour=4, minute=30)},
    "send-dbs-reminders": {"task": "safeguarding.tasks.send_dbs_reminders", "schedule": crontab(hour=7, minute=0)},
    "send-training-expiry-reminders": {
        "task": "safeguarding.tasks.send_training_expiry_reminders",
        "schedule": crontab(hour=7, minute=10),
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "onboarding"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
# The scheme wants a plain "this email is already registered" on the form
# (issue 2, item 8) rather than allauth's silent enumeration protection.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_FORMS = {"signup": "mentoring.forms.SignupForm"}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Mentoring] "
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Admin users must have TOTP set up; off by default only on a DEBUG laptop.
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", default=not DEBUG)
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Career Mentoring")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mentoring <mentoring@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# 24-hour times wherever Django formats a date and time itself (the admin's lists and forms), as the member
# site's templates write them (issue 11, item 4): mentoring/formats/en_GB/formats.py.
FORMAT_MODULE_PATH = ["mentoring.formats"]

# The membership system's CSV export, uploaded by staff (issue 11, item 3): a file larger than this is refused
# with a message before it is read. Larger uploads stream to a temporary file (Django's FILE_UPLOAD_* defaults),
# so even a 50 MB one is answered with that message, never a 500.
MEMBERSHIP_IMPORT_MAX_BYTES = env.int("MEMBERSHIP_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# django-import-export: each import in one transaction; CSV only.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

STATIC_URL = "/static/"
# Production and tests use the same storage: hashed names from a manifest, made by
# `collectstatic` (tests/conftest.py collects once per run, as a deploy does), so a page
# that names a missing file fails in the tests, not in production. WhiteNoise serves them.
# A DEBUG laptop serves plain names straight from the app and static/ folders.
STATIC_ROOT = env("STATIC_ROOT", default=None if DEBUG else str(BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security headers. Tests speak plain HTTP to the test client and live server.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Bootstrap and the admin set style attributes; scripts stay strict.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],  # CSP3 'self' covers same-origin websockets
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# Names of the groups created by mentoring/migrations (roles in the scheme).
GROUP_COORDINATORS = "Coordinators"
GROUP_STAFF = "Staff"
GROUP_SAFEGUARDING_LEAD = "Safeguarding Lead"

SITE_NAME = env("SITE_NAME", default="Career Mentoring")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Where members reach the Safeguarding Lead until concerns are reported on the platform (complaints, issue 7).
SAFEGUARDING_EMAIL = env("SAFEGUARDING_EMAIL", default="safeguarding@example.org")

# The change history (issue 9, item 6) is kept by django-auditlog; what it tracks is declared in
# safeguarding/change_history.py. Data minimisation: who and when is enough, so no IP addresses are kept.
AUDITLOG_DISABLE_REMOTE_ADDR = True
