import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from tests.factories import UserFactory, WorkshopFactory


@pytest.fixture(autouse=True)
def fresh_page_cache():
    """Start each test without pages cached by another (its query counts assume none)."""
    if isinstance(caches["default"], LocMemCache):
        cache.clear()
    else:
        # Never flush a shared Redis: new versions make every stored page unreachable.
        from workshop.cache import forget_cached_pages

        forget_cached_pages()


@pytest.fixture
def workshop(db):
    """The current workshop."""
    return WorkshopFactory()


@pytest.fixture
def organiser(db):
    """A staff superuser."""
    return UserFactory(username="organiser", is_staff=True, is_superuser=True)


@pytest.fixture
def organiser_client(client, organiser):
    """A test client signed in as an organiser."""
    client.force_login(organiser)
    return client
