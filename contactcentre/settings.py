"""Settings for contactcentre, read from the environment (12-factor).

Two setups, both real:

* **Embedded default** (no ``DATABASE_URL``/``REDIS_URL``): SQLite, the in-process channel
  layer, local-memory cache and Celery tasks run in-process, so ``make run`` needs nothing else.
* **Production** (``CONTACTCENTRE_ENV=production``): PostgreSQL, Redis for the channel layer,
  cache and Celery broker; refuses to start without its secrets.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

ENVIRONMENT = env.str("CONTACTCENTRE_ENV", default="development")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION:
    # No default: production refuses to start without its secret.
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-not-for-production-use-0123456789")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL, used in links we send out (receipts, escalation mails).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    "contactcentre.accounts",
    "contactcentre.tickets",
    "contactcentre.intake",
    "contactcentre.ops",
    "contactcentre.commitments",
    "contactcentre.complaints",
    "contactcentre.experience",
    "contactcentre.records",
    "axes",
    "csp",
    "contactcentre.intake.mail",
    "contactcentre.intake.phone",
    "contactcentre.intake.chat",
    "contactcentre.intake.open311",
    "contactcentre.workdist",
    "contactcentre.departments",
    "api",
    "frontend",
    "knowledge",
    "routing",
]

MIDDLEWARE = [
    "contactcentre.observability.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "contactcentre.accounts.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "contactcentre.urls"
WSGI_APPLICATION = "contactcentre.wsgi.application"
ASGI_APPLICATION = "contactcentre.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
VAR_DIR = Path(env.str("CONTACTCENTRE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASE_IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if DATABASE_IS_SQLITE:
    # WAL lets readers run beside the single writer; the timeout makes concurrent writers wait
    # for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so live servers and server subprocesses in tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Services own their transactions.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    from urllib.parse import urlparse as _urlparse

    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub layer: lower fan-out latency than the list-based layer (see PITFALLS.md);
            # ours decodes each broadcast once per process, not once per socket, and hands live
            # events straight to each socket's sender (live_layer.py).
            "BACKEND": "contactcentre.live_layer.SharedDecodePubSubChannelLayer",
            "CONFIG": {
                # redis-py's async pool defaults to 100 connections; a connect burst exhausts it.
                "hosts": [{"address": REDIS_URL, "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=1000)}],
                # Pub/sub channels are global to a Redis server (database numbers do not apply):
                # the default prefix carries the database number, so sessions sharing a server
                # on different databases (CI, engineers side by side) never hear each other.
                "prefix": env.str("CHANNEL_PREFIX", default="cc" + (_urlparse(REDIS_URL).path.strip("/") or "0")),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cc",
        }
    }
else:
    # The in-memory layer with the same direct path for live events as production's (live_layer.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "contactcentre.live_layer.DirectInMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/Stockholm"
# Publishing a job is a wake-up call for work already stored as a row: bounded, never retried in
# the request (contactcentre.ops.jobs), so a stalled Redis cannot hang an intake.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    "socket_connect_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
}
# Periodic jobs (intervals in seconds): Celery beat in production, the in-process scheduler
# (contactcentre.ops.scheduler) on the embedded default.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "routing-retrain": {"task": "routing.tasks.retrain", "schedule": env.float("ROUTING_RETRAIN_INTERVAL_S", default=900.0)},
    "commitments-check": {"task": "commitments.check", "schedule": env.float("COMMITMENTS_CHECK_INTERVAL_S", default=60.0)},
    "mail-sweep": {"task": "mail.sweep", "schedule": env.float("MAIL_SWEEP_INTERVAL_S", default=120.0)},
}

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- I18n ---------------------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English"), ("fi", "Suomi")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = not PRODUCTION
# No MEDIA_URL is served: attachments leave only through a permission-checked view.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=30 * 1024 * 1024)

# --- E-mail -------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Solna stad kontaktcenter <kontakt@solna.example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsStaffMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": None,
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="6000/min"),
        "intake": env.str("THROTTLE_INTAKE", default="60/min"),
        "login": env.str("THROTTLE_LOGIN", default="20/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "contactcentre API",
    "DESCRIPTION": "One way in: tickets from phone, e-mail, web and chat for a municipal contact centre.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "contactcentre.tickets.models.Ticket.Status",
        "StatusChangeEnum": ["waiting", "open", "closed"],
        "StatusAfterReplyEnum": ["waiting", "resolved", "open"],
        "ChannelEnum": "contactcentre.tickets.models.Channel",
        "LanguageEnum": ["sv", "en", "fi"],
        "ArticleLanguageEnum": "knowledge.models.Article.Language",
        "ArticleStatusEnum": "knowledge.models.Article.Status",
    },
}

# --- The contact centre itself ------------------------------------------------------------
TICKET_REFERENCE_PREFIX = env.str("TICKET_REFERENCE_PREFIX", default="SOL")
CONTACTCENTRE_ROUTER = env.str("CONTACTCENTRE_ROUTER", default="routing.services.route_request")
# Told after commit what agents did with the router's decisions (re-routing, the article used).
CONTACTCENTRE_ROUTING_FEEDBACK = env.str("CONTACTCENTRE_ROUTING_FEEDBACK", default="routing.feedback.ticket_feedback")
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="SE")
# Background services `manage.py serve` starts inside the web process on the embedded default
# (each a callable that starts a daemon thread and returns a line describing it).
EMBEDDED_SERVICES: list[str] = env.list(
    "EMBEDDED_SERVICES", default=[] if REDIS_URL else ["contactcentre.ops.scheduler.start_embedded"]
)
# Origins allowed to open the agent websocket from a browser (besides ALLOWED_HOSTS).
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=[])
# Pages that may embed the resident chat widget (the city's public web sites).
CHAT_WIDGET_ORIGINS = env.list("CHAT_WIDGET_ORIGINS", default=[])

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object per line for the log pipeline (no tokens or message bodies are logged).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # One line per finished job is noise (the work-distribution tick alone runs every few
        # seconds); failures still log at ERROR.
        "celery.app.trace": {"level": env.str("CELERY_TRACE_LOG_LEVEL", default="WARNING")},
    },
}
# /metrics answers loopback and private addresses, or any caller with this bearer token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
AUTH_USER_MODEL = "accounts.User"

# --- Channel adapters ---------------------------------------------------------------------
# channel -> dotted path of the deliverer for agents' replies (see contactcentre/intake/outbound.py)
CONTACTCENTRE_OUTBOUND: dict[str, str] = {}

# >>> e-mail channel settings
# The addresses the SMTP listener, the HTTP pipe and the IMAP poller accept mail for; each
# active Department.email is accepted too (and pins that department).
INTAKE_EMAIL_ADDRESSES: list[str] = [
    a.strip().lower() for a in env.list("INTAKE_EMAIL_ADDRESSES", default=["kontakt@solna.example.org"])
]
# Where residents' answers go (Reply-To of every mail we send).
CONTACT_CENTRE_EMAIL = env.str("CONTACT_CENTRE_EMAIL", default=INTAKE_EMAIL_ADDRESSES[0])
# The domain of the Message-IDs we generate (stable across retries, recognised when threads return).
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default=CONTACT_CENTRE_EMAIL.rpartition("@")[2])
SMTP_INTAKE_HOST = env.str("SMTP_INTAKE_HOST", default="127.0.0.1")
SMTP_INTAKE_PORT = env.int("SMTP_INTAKE_PORT", default=2525)
EMAIL_INTAKE_MAX_BYTES = env.int("EMAIL_INTAKE_MAX_BYTES", default=25 * 1024 * 1024)
# RFC 5321 allows 1000 octets a line, but real senders (webmail HTML, scripts) write longer ones;
# like Postfix we take them rather than bounce a resident's mail. Longer than this: 500.
EMAIL_INTAKE_MAX_LINE_BYTES = env.int("EMAIL_INTAKE_MAX_LINE_BYTES", default=1024 * 1024)
if PRODUCTION:
    # No default: the raw-mail endpoint must not be open with a guessable secret.
    EMAIL_INTAKE_SECRET = env.str("EMAIL_INTAKE_SECRET")
else:
    EMAIL_INTAKE_SECRET = env.str("EMAIL_INTAKE_SECRET", default="")  # empty: endpoint answers 401
# Loop safety: at most this many automatic mails (receipts, knowledge-base answers) per sender per hour.
EMAIL_AUTO_REPLY_MAX_PER_HOUR = env.int("EMAIL_AUTO_REPLY_MAX_PER_HOUR", default=5)
EMAIL_RECEIPT_ANSWER_DAYS = env.int("EMAIL_RECEIPT_ANSWER_DAYS", default=2)
EMAIL_SEND_MAX_RETRIES = env.int("EMAIL_SEND_MAX_RETRIES", default=6)
# >>> mailtrust: malformed-mail limits, quarantine, outbox leases
# Checked on the raw bytes before any parsing; mail over a limit is kept raw in quarantine
# (QuarantinedMail, SMTP 250) with an alert, never half-parsed and never refused after the fact.
EMAIL_INTAKE_MAX_PARTS = env.int("EMAIL_INTAKE_MAX_PARTS", default=200)
EMAIL_INTAKE_MAX_DEPTH = env.int("EMAIL_INTAKE_MAX_DEPTH", default=30)
EMAIL_INTAKE_MAX_HEADERS = env.int("EMAIL_INTAKE_MAX_HEADERS", default=500)
# A mail whose storing failed this many times (451 each time, the sender retried) is quarantined.
EMAIL_INTAKE_POISON_AFTER = env.int("EMAIL_INTAKE_POISON_AFTER", default=3)
# Outbound: the SMTP socket timeout (a stalled relay must not hold a worker forever), the lease
# a send holds on its row (longer than any one attempt), the backoff between retries, and the
# age after which mail.sweep queues a pending row again.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=60)
EMAIL_SEND_LEASE_S = env.int("EMAIL_SEND_LEASE_S", default=300)
EMAIL_SEND_RETRY_BACKOFF_S = env.int("EMAIL_SEND_RETRY_BACKOFF_S", default=30)
MAIL_SWEEP_AFTER_S = env.int("MAIL_SWEEP_AFTER_S", default=120)
# Department webhooks: the lease an attempt holds on its outbox row (longer than the timeout).
DEPARTMENT_WEBHOOK_LEASE_S = env.int("DEPARTMENT_WEBHOOK_LEASE_S", default=120)
# <<< mailtrust
# The optional IMAP poller (`manage.py run_imap_intake`), for mailboxes that live on Exchange.
IMAP_INTAKE_HOST = env.str("IMAP_INTAKE_HOST", default="")
IMAP_INTAKE_PORT = env.int("IMAP_INTAKE_PORT", default=993)
IMAP_INTAKE_SSL = env.bool("IMAP_INTAKE_SSL", default=True)
IMAP_INTAKE_USER = env.str("IMAP_INTAKE_USER", default="")
IMAP_INTAKE_PASSWORD = env.str("IMAP_INTAKE_PASSWORD", default="")
IMAP_INTAKE_MAILBOX = env.str("IMAP_INTAKE_MAILBOX", default="INBOX")
IMAP_INTAKE_INTERVAL_S = env.int("IMAP_INTAKE_INTERVAL_S", default=60)
CONTACTCENTRE_OUTBOUND["email"] = "contactcentre.intake.mail.outbound.deliver_email"
# aiosmtpd logs every SMTP command at INFO; our handler logs what matters.
LOGGING["loggers"]["mail.log"] = {"level": env.str("SMTP_PROTOCOL_LOG_LEVEL", default="WARNING")}
if not REDIS_URL and env.bool("SMTP_INTAKE_EMBEDDED", default=True):
    EMBEDDED_SERVICES = [*EMBEDDED_SERVICES, "contactcentre.intake.mail.smtp.start_embedded"]
# <<< e-mail channel settings

# >>> phone channel settings
# The CTI platform signs each webhook with HMAC-SHA256 over "timestamp.body" (see
# contactcentre/intake/phone/signatures.py). The previous secret stays valid during a rotation.
if PRODUCTION:
    CTI_WEBHOOK_SECRET = env.str("CTI_WEBHOOK_SECRET")
else:
    CTI_WEBHOOK_SECRET = env.str("CTI_WEBHOOK_SECRET", default="development-cti-secret-not-for-production")
CTI_WEBHOOK_PREVIOUS_SECRET = env.str("CTI_WEBHOOK_PREVIOUS_SECRET", default="")
CTI_SIGNATURE_TOLERANCE_S = env.int("CTI_SIGNATURE_TOLERANCE_S", default=300)
# Twilio voice status callbacks; empty disables them (every callback is refused with 401).
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Twilio signs the URL it called: set the public base URL when a proxy rewrites host or scheme.
TWILIO_WEBHOOK_BASE_URL = env.str("TWILIO_WEBHOOK_BASE_URL", default="").rstrip("/")
# A missed call or voicemail owes the resident a call back within this many hours.
PHONE_CALLBACK_DUE_HOURS = env.float("PHONE_CALLBACK_DUE_HOURS", default=4.0)
PHONE_CALLBACK_PRIORITY = env.str("PHONE_CALLBACK_PRIORITY", default="high")
# <<< phone channel settings

# >>> chat channel settings
CONTACTCENTRE_OUTBOUND["chat"] = "contactcentre.intake.chat.outbound.deliver_chat"
# Anonymous chat is rate-limited per client address (daphne --proxy-headers behind a proxy).
CHAT_RATE_SESSIONS_PER_HOUR = env.int("CHAT_RATE_SESSIONS_PER_HOUR", default=10)
CHAT_RATE_MESSAGES_PER_MINUTE = env.int("CHAT_RATE_MESSAGES_PER_MINUTE", default=20)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=2000)
# A session not seen for this long is not resumed (a fresh chat starts instead).
CHAT_SESSION_IDLE_HOURS = env.int("CHAT_SESSION_IDLE_HOURS", default=24)
# Agents with the console open count as online for this long after their last heartbeat.
CHAT_PRESENCE_TTL_S = env.int("CHAT_PRESENCE_TTL_S", default=90)
CHAT_REQUIRE_AGENT_ONLINE = env.bool("CHAT_REQUIRE_AGENT_ONLINE", default=True)
# Opening hours (local time) when the chat department has none of its own; closed on the
# public holidays of CHAT_HOLIDAY_COUNTRY. CHAT_ALWAYS_OPEN=true ignores hours (demo, tests).
CHAT_DEPARTMENT_CODE = env.str("CHAT_DEPARTMENT_CODE", default="kundtjanst")
CHAT_ALWAYS_OPEN = env.bool("CHAT_ALWAYS_OPEN", default=False)
CHAT_OPENING_HOURS: dict[str, list[list[str]]] | None = {
    day: [["08:00", "16:30"]] for day in ("mon", "tue", "wed", "thu", "fri")
}
CHAT_HOLIDAY_COUNTRY = env.str("CHAT_HOLIDAY_COUNTRY", default="SE")
CHAT_EMAIL_REPLY_TO = env.str("CHAT_EMAIL_REPLY_TO", default="")
# <<< chat channel settings

# >>> open311 settings
OPEN311_JURISDICTION_ID = env.str("OPEN311_JURISDICTION_ID", default="solna.se")
# Keys city apps send as api_key when filing requests; empty lets anyone file (reads are public).
OPEN311_API_KEYS = env.list("OPEN311_API_KEYS", default=[])
OPEN311_MAX_RESULTS = env.int("OPEN311_MAX_RESULTS", default=1000)
# The spec's default window for GET requests without dates.
OPEN311_DEFAULT_WINDOW_DAYS = env.int("OPEN311_DEFAULT_WINDOW_DAYS", default=90)
# <<< open311 settings

# >>> departments settings
# Department webhooks (escalations to departments' case-management systems), see
# contactcentre/departments/. Retries: backoff doubles from BACKOFF_S up to BACKOFF_MAX_S.
DEPARTMENT_WEBHOOK_TIMEOUT_S = env.float("DEPARTMENT_WEBHOOK_TIMEOUT_S", default=10.0)
DEPARTMENT_WEBHOOK_BACKOFF_S = env.int("DEPARTMENT_WEBHOOK_BACKOFF_S", default=30)
DEPARTMENT_WEBHOOK_BACKOFF_MAX_S = env.int("DEPARTMENT_WEBHOOK_BACKOFF_MAX_S", default=3600)
DEPARTMENT_WEBHOOK_MAX_ATTEMPTS = env.int("DEPARTMENT_WEBHOOK_MAX_ATTEMPTS", default=10)
DEPARTMENT_WEBHOOK_SWEEP_S = env.int("DEPARTMENT_WEBHOOK_SWEEP_S", default=30)
# TEST-ONLY allowance: lets webhooks reach loopback addresses (127.0.0.0/8, ::1) so tests can
# post to a receiver in the test process. Private, link-local, reserved and multicast addresses
# stay refused. Off by default and refused in production.
DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS = env.bool("DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS", default=False)
if PRODUCTION and DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS must not be set in production")
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "departments-webhook-sweep": {"task": "departments.webhook_sweep", "schedule": float(DEPARTMENT_WEBHOOK_SWEEP_S)},
}
if not REDIS_URL:
    EMBEDDED_SERVICES = [*EMBEDDED_SERVICES, "contactcentre.departments.tasks.start_embedded"]
# <<< departments settings

# >>> workdist settings
# Fair work distribution in the agent console (contactcentre/workdist): chats, callbacks and new
# tickets are offered to available agents round-robin within capacity and language.
WORKDIST_ENABLED = env.bool("WORKDIST_ENABLED", default=True)
# An offer not answered within this many seconds goes to the next agent.
WORKDIST_OFFER_TTL_S = env.int("WORKDIST_OFFER_TTL_S", default=30)
# An item an agent declined or let expire is not offered to them again for this long.
WORKDIST_REOFFER_AFTER_S = env.int("WORKDIST_REOFFER_AFTER_S", default=300)
# The periodic pass (expiries, missed triggers): Celery beat in production, a thread embedded.
WORKDIST_TICK_S = env.float("WORKDIST_TICK_S", default=2.0)
# Bursts of presence changes become one agents.online frame per this many seconds.
WORKDIST_ONLINE_COALESCE_S = env.float("WORKDIST_ONLINE_COALESCE_S", default=0.5)
# "Typing..." shows for this long after the agent's last keystroke frame.
WORKDIST_TYPING_TTL_S = env.float("WORKDIST_TYPING_TTL_S", default=5.0)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "workdist-tick": {"task": "workdist.tasks.tick", "schedule": max(WORKDIST_TICK_S, 5.0)},
}
if not REDIS_URL and env.bool("WORKDIST_TICK_EMBEDDED", default=True):
    EMBEDDED_SERVICES = [*EMBEDDED_SERVICES, "contactcentre.workdist.tasks.start_embedded"]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] |= {
    "OfferKindEnum": "contactcentre.workdist.models.Offer.Kind",
    "OfferStateEnum": "contactcentre.workdist.models.Offer.State",
    # Named so that Offer.kind beside Contact.kind does not leave a hashed name behind.
    "ContactKindEnum": "contactcentre.tickets.models.Contact.Kind",
    "CannedReplyLanguageEnum": "contactcentre.workdist.models.CannedReply.Language",
}
# <<< workdist settings

# >>> trust settings
# Login lockout (django-axes): failures are counted atomically in the database (a row lock and
# an F() increment), so concurrent wrong attempts cannot slip past the limit uncounted. Locked by
# username and client address together; behind a proxy set AXES_IPWARE_META_PRECEDENCE_ORDER.
from datetime import timedelta  # noqa: E402 - settings blocks stay self-contained

AUTHENTICATION_BACKENDS = ["contactcentre.records.auth.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
MIDDLEWARE = [*MIDDLEWARE, "csp.middleware.CSPMiddleware", "contactcentre.csp.ThirdPartyInlineStyleMiddleware",
              "axes.middleware.AxesMiddleware"]
CSP_INLINE_STYLE_PATH_PREFIXES = ("/admin/", "/api/docs/", "/api/redoc/")
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Passwords are never written to the attempts table.
AXES_SENSITIVE_PARAMETERS = ["password", "token"]
AXES_LOCKOUT_CALLABLE = "contactcentre.records.lockout.lockout_response"
# Content Security Policy: no inline script and no inline style on our pages (both come from
# /static/ only). The admin and the API docs style themselves inline: contactcentre/csp.py
# relaxes style-src (never script-src) for those paths alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", *[o.replace("http", "ws", 1) for o in WEBSOCKET_ALLOWED_ORIGINS]],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        # As X_FRAME_OPTIONS = DENY (browsers prefer this directive when both are present).
        "frame-ancestors": ["'none'"],
    }
}
# Public records: the archive export written before disposal (JSON lines + original files).
RECORDS_ARCHIVE_DIR = Path(env.str("RECORDS_ARCHIVE_DIR", default=str(VAR_DIR / "archive")))
RECORDS_DISPOSAL_INTERVAL_S = env.float("RECORDS_DISPOSAL_INTERVAL_S", default=24 * 3600.0)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "records-dispose": {"task": "records.dispose", "schedule": RECORDS_DISPOSAL_INTERVAL_S},
}
if PRODUCTION:
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SAMESITE = "Lax"
# Intake must not depend on Redis: the cache fails open with short timeouts (see
# contactcentre/records/resilient_cache.py); records and lockout counters live in the database.
if REDIS_URL:
    CACHES["default"]["BACKEND"] = "contactcentre.records.resilient_cache.FailOpenRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_timeout": env.float("CACHE_SOCKET_TIMEOUT_S", default=0.5),
         "socket_connect_timeout": env.float("CACHE_SOCKET_TIMEOUT_S", default=0.5)}
    )
# <<< trust settings

# >>> experience settings
# Complaint handling, customer-experience surveys, indicators and insight
# (contactcentre/complaints, contactcentre/experience; definitions in docs/indicators.md).
# A complaint is answered within this many working days of the office calendar.
COMPLAINT_ANSWER_WORKING_DAYS = env.int("COMPLAINT_ANSWER_WORKING_DAYS", default=10)
SURVEYS_ENABLED = env.bool("SURVEYS_ENABLED", default=True)
# E-mail surveys go out this long after resolution (a quick reopen cancels nothing but delays it);
# chat surveys go at once, while the resident is still there.
SURVEY_EMAIL_DELAY_MINUTES = env.int("SURVEY_EMAIL_DELAY_MINUTES", default=60)
# The signed link in a survey works this long (no account needed).
SURVEY_LINK_MAX_AGE_DAYS = env.int("SURVEY_LINK_MAX_AGE_DAYS", default=30)
# The same address is not asked again within this many days (survey fatigue skews the answers).
SURVEY_QUIET_DAYS = env.int("SURVEY_QUIET_DAYS", default=30)
# A resident whose chat widget was seen this recently gets the survey in the chat.
SURVEY_CHAT_LIVE_S = env.int("SURVEY_CHAT_LIVE_S", default=180)
# Resolved tickets this recent without an invitation are picked up by the periodic sweep.
SURVEY_SWEEP_LOOKBACK_HOURS = env.int("SURVEY_SWEEP_LOOKBACK_HOURS", default=48)
# Routing confidence below which a ticket counts as "the knowledge base had no answer" (insight).
INSIGHT_ARTICLE_CONFIDENCE = env.float("INSIGHT_ARTICLE_CONFIDENCE", default=0.5)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "experience-surveys": {"task": "experience.surveys_sweep", "schedule": env.float("SURVEY_SWEEP_INTERVAL_S", default=60.0)},
    "complaints-sweep": {"task": "complaints.sweep", "schedule": env.float("COMPLAINTS_SWEEP_INTERVAL_S", default=300.0)},
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] |= {
    "ComplaintStatusEnum": "contactcentre.complaints.models.Complaint.Status",
    "ComplaintSourceEnum": "contactcentre.complaints.models.Complaint.Source",
}
# <<< experience settings

# >>> database pool settings (intake throughput, bench/bench_intake.py)
# Under ASGI every in-flight request runs in a thread of its own, and a persistent connection per
# thread means one PostgreSQL backend per concurrent request: 64 concurrent intakes on two daphne
# processes held 85 connections and hit max_connections (HTTP 500, SMTP 451). A bounded psycopg
# pool per process instead (Django requires CONN_MAX_AGE 0 with it); on by default in production.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=8 if PRODUCTION else 0)
if DB_POOL_MAX_SIZE > 0 and not DATABASE_IS_SQLITE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": DB_POOL_MAX_SIZE,
        # A request waits this long for a free connection before it fails.
        "timeout": env.float("DB_POOL_TIMEOUT_S", default=20.0),
    }
# <<< database pool settings
