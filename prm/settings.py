"""OpenPRM settings: everything comes from environment variables, read here and nowhere else.

Nothing set gives the embedded default (SQLite file, a server-less Celery broker, local-memory
cache, console email). ``PRM_PRODUCTION=true`` switches on the hardened production mode.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PRM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
PRODUCTION = env.bool("PRM_PRODUCTION", default=False)

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-only-for-the-embedded-default")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    "django_celery_beat",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "prm",
    "partners",
    "deals",
    "training",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "prm.middleware.SessionLifetimeMiddleware",
    "prm.middleware.RequireStaffMFAMiddleware",
]

if PRODUCTION:
    # gunicorn serves the static files itself in production; runserver does it on a laptop.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "prm.urls"
WSGI_APPLICATION = "prm.wsgi.application"
ASGI_APPLICATION = "prm.asgi.application"

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
                "prm.context_processors.portal",
                "partners.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'openprm.sqlite3'}", engine=None
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: a transaction takes the write lock when it begins
    # (IMMEDIATE), so a writer waits for the busy timeout instead of failing at once with
    # "database is locked" when it upgrades a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # One cache for every web process: login rate limits must count across all of them.
    # prm.cache: a Redis that is down is an empty cache (short timeouts), never a failed page.
    CACHES = {
        "default": {
            "BACKEND": "prm.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "openprm",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's filesystem transport: a broker that needs no server (the embedded default).
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    for _folder in ("celery-broker", "celery-processed", "celery-control"):
        (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }

# The queue web and workers send tasks to; tests give each live worker its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# django-celery-beat's DatabaseScheduler that sends only while it holds the "beat" lease: a
# second beat started by mistake stands by (prm/beat.py). Used by `beat` and `worker -B` alike.
CELERY_BEAT_SCHEDULER = "prm.beat:LeasedScheduler"
# How long the lease lasts unless renewed: how soon a standby beat takes over from one that died.
PRM_BEAT_LEASE_SECONDS = env.int("PRM_BEAT_LEASE_SECONDS", default=60)
# Installed into django-celery-beat's tables on beat start; admins edit them there.
CELERY_BEAT_SCHEDULE = {
    "resend-pending-tasks": {"task": "prm.resend_pending_tasks", "schedule": 60.0},
    "return-overdue-leads": {"task": "deals.return_overdue_leads", "schedule": 300.0},
    "expire-registrations": {"task": "deals.expire_registrations", "schedule": 3600.0},
    "warn-expiring-registrations": {
        "task": "deals.warn_expiring_registrations",
        "schedule": 3600.0,
    },
    "remind-expiring-certificates": {
        "task": "training.remind_expiring_certificates",
        "schedule": 6 * 3600.0,  # a few times a day: each certificate is reminded once
    },
    "refresh-checklists": {"task": "training.refresh_checklists", "schedule": 3600.0},
    # The kept partner scores behind the ranked table (writes that change them refresh early).
    "refresh-partner-scores": {"task": "analytics.refresh_scores", "schedule": 900.0},
    # Alert rules: each active rule runs when its own interval (every_minutes) has passed.
    "evaluate-alert-rules": {"task": "analytics.evaluate_alert_rules", "schedule": 300.0},
    # Feedback surveys: invitations of due distributions (idempotent per occasion), reminders.
    "distribute-surveys": {"task": "analytics.distribute_surveys", "schedule": 3600.0},
    "remind-survey-non-responders": {
        "task": "analytics.remind_survey_non_responders",
        "schedule": 24 * 3600.0,  # each invitation is reminded once (reminded_at)
    },
    # Quarterly reviews: hourly, not a local-time crontab (beat keeps UTC); the task reviews the
    # last complete quarter in TIME_ZONE, once per account (unique), catching up missed runs.
    "create-quarter-reviews": {"task": "analytics.create_quarter_reviews", "schedule": 3600.0},
    # The daily digest emails: hourly; each person's goes once per local day at PRM_DIGEST_HOUR.
    "send-digests": {"task": "prm.send_digests", "schedule": 3600.0},
}
# A request must never hang on a dead broker: fail fast, prm.tasks keeps the work.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # A task a killed worker had taken is delivered again after this many seconds.
        "visibility_timeout": env.int("PRM_BROKER_VISIBILITY_TIMEOUT", default=3600),
    }

# --- Email -----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OpenPRM <no-reply@openprm.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_NAME = env.str("PRM_SITE_NAME", default="OpenPRM")
# Absolute address of the portal, for links in emails sent by workers (no request there).
PRM_BASE_URL = env.str("PRM_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The local hour (in TIME_ZONE) from which the daily digest emails go out.
PRM_DIGEST_HOUR = env.int("PRM_DIGEST_HOUR", default=8)

# --- Authentication --------------------------------------------------------------------------
AUTH_USER_MODEL = "prm.User"
AUTHENTICATION_BACKENDS = [
    "partners.auth.PortalAuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "partners.auth.PortalAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# allauth's default login_failed limit is "10/m/ip,5/300s/key": the 6th wrong password within
# five minutes is refused. Stated here so that nobody loosens it by accident.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key", "login": "30/m/ip"}
# Behind a reverse proxy the client address is the last hop the proxy appended.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Admins and partner managers must enrol TOTP before they can use the portal.
PRM_MFA_REQUIRED_FOR_STAFF = env.bool("PRM_MFA_REQUIRED_FOR_STAFF", default=PRODUCTION)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: 2 hours idle, 12 hours at most (prm.middleware.SessionLifetimeMiddleware).
PRM_SESSION_IDLE_SECONDS = env.int("PRM_SESSION_IDLE_SECONDS", default=2 * 3600)
PRM_SESSION_MAX_SECONDS = env.int("PRM_SESSION_MAX_SECONDS", default=12 * 3600)
SESSION_COOKIE_AGE = PRM_SESSION_MAX_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

PRM_INVITATION_DAYS = env.int("PRM_INVITATION_DAYS", default=7)
# Largest file an admin may upload to the resource library (training.admin.ResourceForm).
PRM_MAX_UPLOAD_MB = env.int("PRM_MAX_UPLOAD_MB", default=25)
#: Money KPIs are summed in this currency; others convert by the rates in admin (Currency rates).
PRM_REPORTING_CURRENCY = env.str("PRM_REPORTING_CURRENCY", default="USD").upper()

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None

# --- Security (production mode) --------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

# --- I18N, static ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
#: Covering indexes (Index.include) serve PostgreSQL; SQLite builds them without the extra
#: columns, which is what we want there (deals.Opportunity's open-pipeline indexes).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

#: Periods (months, quarters) and schedules follow this zone; stored times stay UTC.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
MESSAGE_TAGS = {40: "danger"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
