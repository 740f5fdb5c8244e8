import pytest
from django.core import mail
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings

from tests.factories import UserFactory, WorkshopFactory


@pytest.fixture(autouse=True, scope="session")
def queued_email(django_test_environment):
    """Send every e-mail through the mail log and run its task at once, into mail.outbox.

    pytest-django puts Django's locmem backend in EMAIL_BACKEND, which would skip the queue;
    the tests that prove durability run the database backend and a real worker instead.
    """
    with override_settings(
        EMAIL_BACKEND="workshop.mail.QueuedEmailBackend",
        EMAIL_DELIVERY_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        # A busy test machine (CI, or several runs at once) can hold a checkout's lock for
        # seconds; the shop's 5 s then answers 503 where a test expects a sale. The tests of
        # that answer set their own short limit.
        TICKETS_LOCK_TIMEOUT_MS=60_000,
    ):
        yield


@pytest.fixture(autouse=True)
def every_email_through_the_mail_log():
    """Fail a test whose code sent an e-mail past the outgoing mail log.

    The log gives every message a Message-ID when it is queued (workshop/mail.py); one that
    reaches mail.outbox without it was sent through a mail connection of its own.
    """
    yield
    bypassed = [
        message.subject for message in mail.outbox if "Message-ID" not in message.extra_headers
    ]
    assert bypassed == [], "e-mails sent without the outgoing mail log"


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
