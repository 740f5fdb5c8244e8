import pytest
from django.core import mail
from django.core.cache import cache

from tests.factories import TicketTypeFactory
from tickets.stripe_standin import StripeStandIn

WEBHOOK = "/tickets/stripe/webhook/"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache; start every test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def standin(settings, client):
    """A local Stripe stand-in; its events reach the webhook through the test client."""

    def post_to_webhook(payload, signature):
        response = client.post(
            WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        return response.status_code

    with StripeStandIn(webhook_url=post_to_webhook) as server:
        settings.STRIPE_SECRET_KEY = server.api_key
        settings.STRIPE_WEBHOOK_SECRET = server.webhook_secret
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.STRIPE_TIMEOUT = 5
        yield server


@pytest.fixture
def no_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


@pytest.fixture
def paid_type(workshop):
    return TicketTypeFactory(workshop=workshop, name="Regular", price="25.00", capacity=10)


@pytest.fixture
def free_type(workshop):
    return TicketTypeFactory(workshop=workshop, name="Community", price="0.00", capacity=5)


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


def people(count, name="Ada"):
    return [
        {"name": f"{name} {n}", "email": f"{name.lower()}{n}@example.org"} for n in range(count)
    ]


BUYER = {"name": "Ada Buyer", "email": "ada@example.org"}
