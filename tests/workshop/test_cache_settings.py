"""Settings for several app servers: sessions, shared cache, media storage."""

import importlib.util

import pytest

from tests.workshop.test_settings import run_django


def test_sessions_are_kept_in_the_database_not_the_process():
    result = run_django("print(settings.SESSION_ENGINE)")

    assert result.stdout.split() == ["django.contrib.sessions.backends.db"]


def test_redis_url_gives_a_shared_cache_that_gives_up_quickly():
    code = "c = settings.CACHES['default']; print(c['BACKEND'], c['LOCATION'], c['OPTIONS'])"

    result = run_django(code, REDIS_URL="redis://cache.internal:6379/2")

    assert result.stdout.strip() == (
        "workshop.cache_backends.FaultTolerantRedisCache redis://cache.internal:6379/2 "
        "{'socket_connect_timeout': 1, 'socket_timeout': 2}"
    )


def test_media_on_the_file_system_by_default():
    result = run_django("print(settings.STORAGES['default']['BACKEND'])")

    assert result.stdout.split() == ["django.core.files.storage.FileSystemStorage"]


@pytest.mark.skipif(
    importlib.util.find_spec("storages") is not None, reason="django-storages is installed"
)
def test_s3_media_without_django_storages_stops_with_one_line():
    result = run_django("print('started')", MEDIA_S3_BUCKET="workshop-media")

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        "Configuration error: MEDIA_S3_BUCKET is set but django-storages is not installed."
    )


def test_page_cache_lifetime_from_environment():
    result = run_django("print(settings.PUBLIC_PAGE_CACHE_SECONDS)", PUBLIC_PAGE_CACHE_SECONDS="0")

    assert result.stdout.split() == ["0"]
