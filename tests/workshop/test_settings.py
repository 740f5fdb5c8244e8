"""Settings are read from the environment; each case runs Django in a fresh process."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "workshop.example.org",
    "SITE_URL": "https://workshop.example.org",
    "DATABASE_URL": "sqlite:////tmp/workshop-settings-test.sqlite3",
}


def run_django(code, **env):
    """Run ``code`` after django.setup() with only ``env`` on top of a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    for name in ["SECRET_KEY", "DEBUG", "REDIS_URL", "EMAIL_HOST", "ALLOWED_HOSTS", "SITE_URL"]:
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="workshop.settings")
    script = f"import django; django.setup()\nfrom django.conf import settings\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_debug_is_off_by_default():
    result = run_django("print(settings.DEBUG, settings.DATABASES['default']['ENGINE'])")

    assert result.stdout.split() == ["False", "django.db.backends.sqlite3"]


def test_sqlite_uses_immediate_transactions():
    result = run_django("print(settings.DATABASES['default']['OPTIONS'])")

    assert result.stdout.strip() == "{'transaction_mode': 'IMMEDIATE', 'timeout': 20}"


def configuration_error(result):
    """Return the message of the ImproperlyConfigured that stopped the process."""
    return result.stderr.strip().splitlines()[-1].removeprefix(IMPROPERLY_CONFIGURED)


IMPROPERLY_CONFIGURED = "django.core.exceptions.ImproperlyConfigured: "


def test_production_requires_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}

    result = run_django("print('started')", **env)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        IMPROPERLY_CONFIGURED
        + "Configuration error: SECRET_KEY must be set when DJANGO_ENV=production."
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"},
            "SECRET_KEY is the repository's development key; generate a new one for production.",
        ),
        (
            {"SECRET_KEY": "short-but-not-empty"},
            "SECRET_KEY must be at least 50 random characters when DJANGO_ENV=production.",
        ),
        (
            {"SECRET_KEY": "ab" * 40},
            "SECRET_KEY must be at least 50 random characters when DJANGO_ENV=production.",
        ),
        (
            {"ALLOWED_HOSTS": "*"},
            "ALLOWED_HOSTS must name the site's hosts when DJANGO_ENV=production, not '*'.",
        ),
        (
            {"ALLOWED_HOSTS": "workshop.example.org, *"},
            "ALLOWED_HOSTS must name the site's hosts when DJANGO_ENV=production, not '*'.",
        ),
    ],
)
def test_production_refuses_weak_secret_key_and_any_host(env, message):
    result = run_django("print('started')", **{**PRODUCTION_ENV, **env})

    assert result.returncode == 1
    assert result.stdout == ""
    assert configuration_error(result) == f"Configuration error: {message}"


def test_development_keeps_its_fixed_key_and_local_hosts():
    result = run_django(
        "print(settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY, settings.ALLOWED_HOSTS)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['localhost', '127.0.0.1', '[::1]']"


def test_malformed_database_url_stops_with_a_clear_message():
    result = run_django("print('started')", DATABASE_URL="not a url at all")

    assert result.returncode == 1
    assert configuration_error(result).startswith(
        "Configuration error: DATABASE_URL is not a valid database URL"
    )


def test_postgres_database_url_is_parsed():
    result = run_django(
        "d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'])",
        DATABASE_URL="postgres://someone@db.example:5433/workshop",
    )

    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "workshop",
        "db.example",
        "5433",
    ]


def test_redis_url_selects_the_redis_cache():
    result = run_django(
        "c = settings.CACHES['default']; print(c['BACKEND'], c['LOCATION'])",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )

    assert result.stdout.split() == [
        "workshop.cache_backends.FaultTolerantRedisCache",  # Django's, degrading when Redis is down
        "redis://127.0.0.1:6379/3",
    ]


def test_cache_defaults_to_local_memory():
    result = run_django("print(settings.CACHES['default']['BACKEND'])")

    assert result.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"


def test_email_queued_and_sent_to_the_console_by_default_and_smtp_with_host():
    console = run_django("print(settings.EMAIL_BACKEND, settings.EMAIL_DELIVERY_BACKEND)")
    smtp = run_django(
        "print(settings.EMAIL_DELIVERY_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)",
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="2525",
    )

    assert console.stdout.split() == [
        "workshop.mail.QueuedEmailBackend",
        "django.core.mail.backends.console.EmailBackend",
    ]
    assert smtp.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "2525",
    ]


def test_email_backend_cannot_be_the_queue_itself():
    result = run_django("", EMAIL_BACKEND="workshop.mail.QueuedEmailBackend")

    assert result.returncode != 0
    assert "EMAIL_BACKEND names how the worker sends e-mail" in result.stderr


def test_hosts_and_origins_from_environment():
    result = run_django(
        "print(settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS, settings.SITE_URL)",
        ALLOWED_HOSTS="a.example, b.example",
        CSRF_TRUSTED_ORIGINS="https://a.example",
        SITE_URL="https://a.example/",
    )

    assert result.stdout.strip() == (
        "['a.example', 'b.example'] ['https://a.example'] https://a.example"
    )


def test_production_check_deploy_is_clean():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(PRODUCTION_ENV)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_production_uses_hashed_compressed_static_files():
    result = run_django(
        "print(settings.STORAGES['staticfiles']['BACKEND'], settings.SECURE_HSTS_SECONDS,"
        " settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)",
        **PRODUCTION_ENV,
    )

    assert result.stdout.split() == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "31536000",
        "True",
        "True",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set when DJANGO_ENV=production."),
        ({"SITE_URL": "http://x.example"}, "SITE_URL must start with https://"),
        ({"DEBUG": "1"}, "DEBUG must be off when DJANGO_ENV=production."),
    ],
)
def test_production_refuses_unsafe_configuration(env, message):
    result = run_django("print('started')", **{**PRODUCTION_ENV, **env})

    assert result.returncode == 1
    assert configuration_error(result).startswith(f"Configuration error: {message}")
