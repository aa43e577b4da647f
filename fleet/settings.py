"""Django settings, read from the environment.

Defaults run anywhere (SQLite, no services); `DATABASE_URL` selects PostgreSQL,
`REDIS_URL` the Celery broker, and `DJANGO_ENV=production` turns on every
hardening `manage.py check --deploy` asks for and requires real secrets.
"""

from pathlib import Path

import dj_database_url

from fleet.env import EnvironmentConfigError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FUSEGUARD_VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env_choice("DJANGO_ENV", "development", ("development", "production"))
PRODUCTION = DJANGO_ENV == "production"

_DEVELOPMENT_SECRET_KEY = "development-only-not-secret-" + "x" * 40
if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise EnvironmentConfigError("DJANGO_SECRET_KEY must be at least 50 characters of real randomness")
    DEBUG = False
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise EnvironmentConfigError("DJANGO_ALLOWED_HOSTS must name the server's host names in production")
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEVELOPMENT_SECRET_KEY)
    DEBUG = env_bool("DJANGO_DEBUG", True)
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fleet",
]

MIDDLEWARE = [
    "fleet.node_header.NodeHeaderMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fleet.urls"
WSGI_APPLICATION = "fleet.wsgi.application"

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
            ],
        },
    },
]

if not env_str("DATABASE_URL", ""):
    # The embedded default keeps its SQLite file here; create it so a fresh checkout just runs.
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'fuseguard.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE_S", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's server, scheduler and telemetry all write at once: WAL lets readers run beside the
    # writer, IMMEDIATE transactions queue writers instead of failing them with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)
"""DATABASE_URL points at a pooler in transaction mode (PgBouncer's pool_mode=transaction), where consecutive
transactions of one process may run on different server connections: then no server-side cursors (a
queryset's .iterator() keeps one open across transactions). Django already turns psycopg's prepared
statements off, and the ingest's temporary table is created and used within one transaction."""
if DATABASE_TRANSACTION_POOLING and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
"""Celery broker; empty in the embedded default, where tasks run in-process."""
if PRODUCTION and not REDIS_URL:
    # Without a broker the alert evaluation would silently never run in a real deployment.
    raise EnvironmentConfigError("REDIS_URL must be set in production (Celery broker for alerts and retention)")

# Throttling and other counters must be shared by every web worker: Redis when there is one.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

TELEMETRY_RAW_RETENTION_DAYS = env_int("TELEMETRY_RAW_RETENTION_DAYS", 7, minimum=1)
"""Raw samples (one per network and cycle) older than this are folded into downsampled rows."""
TELEMETRY_DOWNSAMPLE_RESOLUTION_S = env_int("TELEMETRY_DOWNSAMPLE_RESOLUTION_S", 300, minimum=10, maximum=86400)
TELEMETRY_RETENTION_DAYS = env_int("TELEMETRY_RETENTION_DAYS", 400, minimum=1)
"""Downsampled samples and events older than this are deleted."""

API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
"""Largest request body of the operator API; its bodies are a few hundred bytes (answer: 413)."""
GATEWAY_MAX_BODY_BYTES = env_int("GATEWAY_MAX_BODY_BYTES", 16 * 1024 * 1024, minimum=1024 * 1024)
"""Largest telemetry batch in bytes: the largest legitimate batch (5,000 samples of 10 chargers each)
measures about 7.4 MB, so 16 MiB leaves room for long charger ids (answer: 413)."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fleet.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON within API_MAX_BODY_BYTES and 32 levels of nesting; forms only for the browsable API's HTML forms.
    "DEFAULT_PARSER_CLASSES": ["fleet.json_body.JsonBodyParser", "fleet.json_body.BoundedFormParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "fleet.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "6000/hour"),
        "anon": env_str("API_THROTTLE_ANON", "120/hour"),
        "gateway": env_str("API_THROTTLE_GATEWAY", "36000/hour"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FuseGuard fleet API",
    "DESCRIPTION": "Sites, charging networks, meters, chargers, telemetry and alerts of a FuseGuard fleet; "
    "and the gateway sync endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MeterModelEnum": "fleet.validators.meter_model_keys",
        "PhaseRotationEnum": "balancing.PHASE_ROTATIONS",
        "ChargerDriverEnum": "gateways.protocol.CHARGER_DRIVERS",
        "EventTypeEnum": "fleet.models.telemetry.EventType",
        "CapacityPlanStatusEnum": "fleet.models.plans.PlanStatus",
        "StatusEnum": "fleet.models.alerts.IncidentStatus",  # the name it had before plans had a status too
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production, serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))},
    # One line per task run every few seconds says nothing; failures are still logged.
    "loggers": {"celery.app.trace": {"level": "WARNING"}},
}

# --- Alerts, notifications and Celery (issue 7) -------------------------------------------------
# The evaluation runs on Celery beat with Redis as the broker. Without REDIS_URL (the embedded
# demo) tasks run eagerly in the calling process and `fleet.celery.start_in_process_scheduler()`
# runs the same beat table in a thread.
ALERTS_EVALUATION_INTERVAL_S = env_int("ALERTS_EVALUATION_INTERVAL_S", 10, minimum=1, maximum=3600)
ALERTS_METER_GRACE_PERIOD_S = env_int("ALERTS_METER_GRACE_PERIOD_S", 60, minimum=1)
ALERTS_GATEWAY_GRACE_PERIOD_S = env_int("ALERTS_GATEWAY_GRACE_PERIOD_S", 120, minimum=1)
ALERTS_FLAP_WINDOW_S = env_int("ALERTS_FLAP_WINDOW_S", 900, minimum=0)
ALERTS_FLAP_THRESHOLD = env_int("ALERTS_FLAP_THRESHOLD", 3, minimum=2)
# A connectivity outage (issue 18): at least this many gateways of one organisation, and this share of
# those online at the window's start, fell silent within the window.
ALERTS_OUTAGE_MIN_GATEWAYS = env_int("ALERTS_OUTAGE_MIN_GATEWAYS", 10, minimum=2)
ALERTS_OUTAGE_MIN_SHARE_PCT = env_int("ALERTS_OUTAGE_MIN_SHARE_PCT", 30, minimum=1, maximum=100)
ALERTS_OUTAGE_WINDOW_S = env_int("ALERTS_OUTAGE_WINDOW_S", 120, minimum=1)
ALERTS_REPEAT_INTERVAL_S = env_int("ALERTS_REPEAT_INTERVAL_S", 4 * 3600, minimum=60)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8, minimum=1)
NOTIFICATIONS_RETRY_BASE_S = env_int("NOTIFICATIONS_RETRY_BASE_S", 30, minimum=1)
NOTIFICATIONS_RETRY_MAX_S = env_int("NOTIFICATIONS_RETRY_MAX_S", 3600, minimum=1)
NOTIFICATIONS_TIMEOUT_S = env_int("NOTIFICATIONS_TIMEOUT_S", 10, minimum=1, maximum=120)
# Grouping (issue 18), the Alertmanager's three timers; a channel may set its own.
NOTIFICATIONS_GROUP_WAIT_S = env_int("NOTIFICATIONS_GROUP_WAIT_S", 30, minimum=0, maximum=3600)
NOTIFICATIONS_GROUP_INTERVAL_S = env_int("NOTIFICATIONS_GROUP_INTERVAL_S", 300, minimum=1, maximum=86400)
NOTIFICATIONS_GROUP_MAX_LISTED = env_int("NOTIFICATIONS_GROUP_MAX_LISTED", 500, minimum=1)

# Prometheus metrics at /metrics (issue 18): scrapers send `Authorization: Bearer <METRICS_TOKEN>`;
# without a token the endpoint does not exist. Organisations beyond the largest N share one label.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_MAX_ORGANIZATIONS = env_int("METRICS_MAX_ORGANIZATIONS", 50, minimum=1, maximum=1000)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FuseGuard <alerts@localhost>")
# --- end of alerts, notifications and Celery ---------------------------------------------------
