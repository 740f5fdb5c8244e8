"""Settings for the workshop site, read from the environment.

Defaults are safe for local development only; with DJANGO_ENV=production every
secret must be given and the security settings are switched on. Each setting is
listed in the README.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def stop(message):
    """Stop start-up, saying which setting is wrong and what it must be."""
    raise ImproperlyConfigured(f"Configuration error: {message}")


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or list(default)


def env_int(name, default):
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        stop(f"{name} must be a whole number, not {value!r}.")


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
if DJANGO_ENV not in {"development", "production"}:
    stop(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    stop("DEBUG must be off when DJANGO_ENV=production.")

# A fixed key is acceptable only for local development and tests: it is public in the repository.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if PRODUCTION:
    if not SECRET_KEY:
        stop("SECRET_KEY must be set when DJANGO_ENV=production.")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        stop("SECRET_KEY is the repository's development key; generate a new one for production.")
    # Django's own deployment check asks for as much (security.W009).
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        stop("SECRET_KEY must be at least 50 random characters when DJANGO_ENV=production.")
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", () if PRODUCTION else ("localhost", "127.0.0.1", "[::1]"))
if PRODUCTION and not ALLOWED_HOSTS:
    stop("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
# '*' would let any Host header build the links in e-mails (password reset poisoning).
if PRODUCTION and "*" in ALLOWED_HOSTS:
    stop("ALLOWED_HOSTS must name the site's hosts when DJANGO_ENV=production, not '*'.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def served_address(host, port):
    """Return the address `make run` serves on, from its HOST and PORT.

    A wildcard host (every interface) is reached through the loopback address on this machine.
    """
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port or 8000}"


# The public address of the site, used in e-mails, QR codes, calendars, Stripe's return links
# and Open Graph tags. In development it follows HOST and PORT (as `make run HOST=... PORT=...`
# passes them), so that links in e-mails lead to the server that sent them.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if not SITE_URL:
    SITE_URL = served_address(
        "" if PRODUCTION else os.environ.get("HOST", ""),
        "" if PRODUCTION else os.environ.get("PORT", ""),
    )
if PRODUCTION and not SITE_URL.startswith("https://"):
    stop("SITE_URL must start with https:// when DJANGO_ENV=production.")

INSTALLED_APPS = [
    # Django (the admin with the organisers' content first: workshop/admin_site.py)
    "workshop.admin_site.WorkshopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.sitemaps",
    # Third party
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.orcid",
    "allauth.socialaccount.providers.github",
    "django_tasks",
    "django_tasks_db",
    # Ours
    "workshop",
    "speakers",
    "schedule",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the page cache and whitenoise, so stored pages and static files carry it too.
    "workshop.security.PermissionsPolicyMiddleware",
    # The site's one Content-Security-Policy, built once (security.py).
    "workshop.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Brotli or gzip for answers without secrets (BREACH); before sessions, CSRF and
    # authentication, so that it sees the cookies and headers they add (compression.py).
    "workshop.compression.CompressionMiddleware",
    # Stored public pages for cookie-less visitors, before sessions and the rest (cache.py).
    "workshop.cache.PublicPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "workshop.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "workshop.security.StaffMFAMiddleware",
]

ROOT_URLCONF = "workshop.urls"
WSGI_APPLICATION = "workshop.wsgi.application"

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
                "workshop.context_processors.site",
                "speakers.context_processors.own_profile",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (or anything dj-database-url knows) by URL.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 0))
    }
except Exception as error:  # dj-database-url raises several types for bad URLs
    stop(f"DATABASE_URL is not a valid database URL ({error}).")
if not DATABASES["default"].get("ENGINE"):
    stop("DATABASE_URL is not a valid database URL.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django ignores select_for_update on SQLite; IMMEDIATE transactions take the
    # write lock at BEGIN, so capacity checks in one transaction are serialised.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# Caching: local memory by default; Redis with REDIS_URL.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # A Redis cache on redis-py's public API that misses instead of failing while
            # Redis is down (workshop/cache_backends.py).
            "BACKEND": "workshop.cache_backends.FaultTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "workshop"),
            # A Redis that is down or unreachable costs a request at most this long: pages then
            # render uncached (workshop/cache.py) and rate limits let requests through.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Room for every page's pieces of a large programme (workshop/fragments.py).
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
# Seconds a rendered public page may live in the cache (0: render every request). Changes bump
# a content version and show at once; the lifetime bounds only what changes with the clock.
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 60)
# Megabytes of stored pages each process also keeps in memory, so that a hit reads only the
# content versions from Redis, not the page (0: always read the page from Redis).
PUBLIC_PAGE_LOCAL_MB = env_int("PUBLIC_PAGE_LOCAL_MB", 8)
# Sessions live in the database, so any app server can answer any request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# E-mail: every message is kept in the outgoing mail log and sent by a task worker
# (workshop/mail.py). EMAIL_BACKEND in the environment names how the worker sends: printed to
# the console unless an SMTP host is given.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = "workshop.mail.QueuedEmailBackend"
EMAIL_DELIVERY_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
if EMAIL_DELIVERY_BACKEND == EMAIL_BACKEND:
    stop("EMAIL_BACKEND names how the worker sends e-mail; it cannot be the queue itself.")
# A failed delivery is tried again after EMAIL_RETRY_SECONDS, then 4 times longer each time
# (1, 4, 16, 64 minutes and about 4 hours with the defaults), EMAIL_MAX_ATTEMPTS in all.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 6)
EMAIL_RETRY_SECONDS = env_int("EMAIL_RETRY_SECONDS", 60)
# Sent e-mails (addresses and subjects; their bodies go once sent) stay in the log this long.
EMAIL_LOG_DAYS = env_int("EMAIL_LOG_DAYS", 30)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "workshop@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (django-tasks): stored in the database, in the transaction of the change
# that causes it, and run by `manage.py run_worker` (see workshop/worker.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A worker writes its heartbeat this often; one silent for TASKS_WORKER_TIMEOUT seconds is
# taken for dead and the tasks it was running are run again.
TASKS_HEARTBEAT_SECONDS = env_int("TASKS_HEARTBEAT_SECONDS", 10)
TASKS_WORKER_TIMEOUT = env_int("TASKS_WORKER_TIMEOUT", 60)
# Finished task results are deleted after this many days.
TASKS_KEEP_DAYS = env_int("TASKS_KEEP_DAYS", 14)
# Jobs the workers enqueue every `every` seconds (workshop/scheduler.py); no cron needed.
# Each is safe to run twice at once and after a gap, and each is also a management command.
PERIODIC_TASKS = {
    # Close the Checkout Sessions of card reservations that ran out (seats free themselves).
    "release-expired-orders": {"task": "tickets.jobs.release_expired_orders", "every": 5 * 60},
    # Remind buyers of unpaid invoice orders and expire those past the grace period.
    "process-invoice-orders": {"task": "tickets.jobs.process_invoice_orders", "every": 60 * 60},
    # Ask Stripe about bank debits still processing past its time limit (a lost webhook).
    "settle-processing-payments": {
        "task": "tickets.jobs.settle_processing_payments",
        "every": 60 * 60,
    },
    # Pass waiting-list offers not used in time on; offer seats freed by the clock.
    "process-waiting-lists": {"task": "tickets.jobs.process_waiting_lists", "every": 60},
    "anonymise-attendees": {"task": "tickets.jobs.anonymise_attendees", "every": 24 * 60 * 60},
    "send-overdue-emails": {"task": "workshop.tasks.send_overdue_emails", "every": 5 * 60},
    "prune-email-log": {"task": "workshop.tasks.prune_email_log", "every": 24 * 60 * 60},
    "prune-task-results": {"task": "workshop.tasks.prune_task_results", "every": 24 * 60 * 60},
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads on S3-compatible storage, shared by every app server (docs/deploy.md), when a bucket
# is named; needs `pip install django-storages[s3]`. Credentials come from the usual
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables, read by boto3.
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
if MEDIA_S3_BUCKET:
    try:
        import storages  # noqa: F401
    except ImportError:
        stop("MEDIA_S3_BUCKET is set but django-storages is not installed.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            "custom_domain": os.environ.get("MEDIA_S3_CUSTOM_DOMAIN") or None,
            "location": os.environ.get("MEDIA_S3_PREFIX", "media"),
            # Photos and logos are public; plain addresses let browsers and proxies cache them.
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
# Outside production whitenoise serves files straight from the source folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

SITE_ID = 1

# Security: always-on basics, and the full set in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page uses; the check-in page allows itself the camera.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# django-allauth: sign in by e-mail address, no usernames shown.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
# One address per account, changed through a verified new address; mail on account changes.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# allauth's rate limits (on by default) written out so that they are visible and tunable.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "signup": "20/m/ip,60/h/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "manage_email": "10/m/user",
    "change_password": "5/m/user",
    "confirm_email": "1/180s/key",
    "reauthenticate": "10/m/user",
}
# Claims pending speaker invitations after sign-in (see speakers/adapter.py).
ACCOUNT_ADAPTER = "speakers.adapter.AccountAdapter"
# People are shown by e-mail address, never by the user name allauth generates.
ACCOUNT_USER_DISPLAY = "speakers.adapter.user_display"
# ORCID and GitHub sign-in appear once an organiser adds a "Social application" for them in the
# admin (client id and secret); with none the site offers e-mail sign-in only.
SOCIALACCOUNT_PROVIDERS = {
    "orcid": {"BASE_DOMAIN": "orcid.org", "MEMBER_API": False},
    "github": {"SCOPE": ["user:email"]},
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
# A provider without an application answers 404 instead of 500 (speakers/adapter.py).
SOCIALACCOUNT_ADAPTER = "speakers.adapter.SocialAccountAdapter"
SOCIALACCOUNT_LOGIN_ON_GET = False

# == Security: organiser MFA and the Content Security Policy ==
# Staff must have a second factor (an authenticator app or a security key) before they reach the
# admin or /organisers/, and sign in through allauth, which asks for it. Off by default in
# development so that `make run` needs no authenticator app; on by default in production.
REQUIRE_STAFF_MFA = env_bool("REQUIRE_STAFF_MFA", PRODUCTION)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "Workshop")
# Browsers offer security keys on http://localhost only; fido2 must be told to accept that origin.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# No inline script or style anywhere; every page is held to this policy, development included, so
# that a page breaking it shows up before release. Forms may post to Stripe Checkout and to the
# sign-in providers because browsers apply form-action to the redirect that follows the post.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": [
            "'self'",
            "https://checkout.stripe.com",
            "https://github.com",
            "https://orcid.org",
            *env_list("CSP_EXTRA_FORM_ACTION"),
        ],
        "frame-ancestors": ["'none'"],
    },
}
if PRODUCTION:
    # Only the site's own forms read the CSRF token, from the page, never from the cookie.
    CSRF_COOKIE_HTTPONLY = True
# Rate limits (workshop/ratelimit.py and allauth's) count per client address. Behind the proxy
# every request comes from the proxy, so the client is the TRUSTED_PROXY_COUNT-th address from
# the right of X-Forwarded-For (the one our outermost proxy saw). 0: only REMOTE_ADDR counts.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
# Uploaded files larger than this are refused (413) while they are received (workshop/uploads.py).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # fpdf2 subsets the invoice font with fontTools, which logs each step at INFO.
        "fontTools": {"level": "WARNING"},
    },
}

# == speakers ==
# How long an invitation link to claim a speaker profile works.
SPEAKERS_INVITATION_DAYS = env_int("SPEAKERS_INVITATION_DAYS", 14)

# == tickets ==
# Without STRIPE_SECRET_KEY card payment is off; free and invoice tickets still sell.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
if PRODUCTION and STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:
    stop("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is.")
# Tests and `make run` change the API address to a local stand-in for Stripe
# (tickets/stripe_standin.py), whose payment page moves no money; production refuses it.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_USES_STANDIN = STRIPE_API_BASE != "https://api.stripe.com"
# `make bench` measures the production settings with the stand-in as Stripe (no internet there),
# and says so with this variable; no deployment sets it.
STANDIN_FOR_BENCH = os.environ.get("STRIPE_STANDIN_FOR_BENCH") == "1"
if PRODUCTION and STRIPE_USES_STANDIN and not STANDIN_FOR_BENCH:
    stop(
        f"STRIPE_API_BASE must be Stripe's (https://api.stripe.com) when DJANGO_ENV=production, "
        f"not {STRIPE_API_BASE!r}: another address is the local stand-in, which takes no money."
    )
if PRODUCTION and "standin" in STRIPE_SECRET_KEY + STRIPE_WEBHOOK_SECRET and not STANDIN_FOR_BENCH:
    stop(
        "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are the local stand-in's development keys; "
        "give the keys of the Stripe account when DJANGO_ENV=production."
    )
if STRIPE_USES_STANDIN:
    # The checkout form is redirected to the stand-in's payment page instead of Stripe's.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(STRIPE_API_BASE)
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 20)
# Stripe Checkout Sessions must stay open at least 30 minutes, so reservations do too.
TICKETS_RESERVATION_MINUTES = max(env_int("TICKETS_RESERVATION_MINUTES", 30), 30)
# Buyers may correct attendee names and e-mails until this many hours before the start.
TICKETS_ATTENDEE_EDIT_CUTOFF_HOURS = env_int("TICKETS_ATTENDEE_EDIT_CUTOFF_HOURS", 24)
# How long a buyer waits for the capacity lock before "busy, try again" (PostgreSQL).
TICKETS_LOCK_TIMEOUT_MS = env_int("TICKETS_LOCK_TIMEOUT_MS", 5000)
# Unpaid seats (pending card and invoice orders) one e-mail address or one client address may
# hold at a time, so that a bot cannot hold every seat by starting checkouts.
TICKETS_MAX_UNPAID_SEATS_PER_EMAIL = env_int("TICKETS_MAX_UNPAID_SEATS_PER_EMAIL", 10)
TICKETS_MAX_UNPAID_SEATS_PER_IP = env_int("TICKETS_MAX_UNPAID_SEATS_PER_IP", 20)
# A waiting-list offer holds its seat for the person offered this many hours (at least one).
TICKETS_WAITLIST_OFFER_HOURS = max(env_int("TICKETS_WAITLIST_OFFER_HOURS", 48), 1)
# The link that confirms a waiting-list address works this many days.
TICKETS_WAITLIST_CONFIRM_DAYS = max(env_int("TICKETS_WAITLIST_CONFIRM_DAYS", 3), 1)
# Stripe's events are a few kilobytes; anything far larger is refused (413) unread.
STRIPE_WEBHOOK_MAX_BYTES = env_int("STRIPE_WEBHOOK_MAX_BYTES", 256 * 1024)

# A function returning (stage name, stream link) of the stages that holders of paid tickets to
# an online workshop may join, on their order page and in their e-mails.
TICKETS_HOLDER_STREAMS = "schedule.streams.holder_streams"

# == organisers ==
# Rules other apps add to the workshop's validation (Workshop.clean), each called with the
# workshop and raising ValidationError: the ticket shop's money rules live with the shop.
WORKSHOP_CHECKS = ["tickets.workshop_rules.check_cancellation_fee"]
# The dashboard's panels, in order; each shows only to organisers holding its permission.
ORGANISER_DASHBOARD_PANELS = [
    "tickets.dashboard.CHECK_IN",
    "tickets.dashboard.TICKET_TYPES",
    "tickets.dashboard.REVENUE",
    "tickets.dashboard.ORDERS_BY_DAY",
    "tickets.dashboard.PENDING_INVOICES",
    "tickets.dashboard.PAYMENT_PROBLEMS",
    "schedule.dashboard.SCHEDULE_PROBLEMS",
    "schedule.dashboard.CALL_FIGURES",
    "speakers.dashboard.UNCLAIMED_INVITATIONS",
    "workshop.dashboard.FAILED_EMAILS",
]

# == the site on the web ==
# The sections of /sitemap.xml, in order: each app lists its own public pages.
SITEMAPS = {
    "workshop": "workshop.sitemaps.WorkshopSitemap",
    "pages": "workshop.sitemaps.PageSitemap",
    "programme": "schedule.sitemaps.ProgrammeSitemap",
    "talks": "schedule.sitemaps.TalkSitemap",
    "speaker-list": "speakers.sitemaps.SpeakerListSitemap",
    "speakers": "speakers.sitemaps.SpeakerSitemap",
}

# == demo ==
# `manage.py load_demo` runs these after the demo workshop is made (in this order: the programme
# refers to the speakers), each with the workshop.
DEMO_LOADERS = ["speakers.demo.load", "schedule.demo.load", "tickets.demo.load"]

# == privacy ==
# Modules with export_user_data(user) and erase_user_data(user), one section of a person's
# data each, named by the module's app.
# schedule before speakers: it finds the person's proposals through their speaker profile,
# which the speakers' part unlinks from the account.
PRIVACY_PROVIDERS = ["schedule.privacy", "speakers.privacy", "tickets.privacy"]
# Attendee and buyer details of workshops that ended this many days ago are anonymised by
# `manage.py anonymise_attendees`.
PRIVACY_ANONYMISE_AFTER_DAYS = env_int("PRIVACY_ANONYMISE_AFTER_DAYS", 90)

if "pytest" in sys.modules:
    # Fast hashing keeps the suite quick; never used outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
