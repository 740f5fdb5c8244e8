"""The one place that talks to Stripe (amounts in its minor units: tickets/money.py)."""

import stripe
from django.conf import settings


def card_payment_enabled():
    """Return whether Stripe keys are configured, so that card payment can be offered."""
    return bool(settings.STRIPE_SECRET_KEY)


def get_client():
    """Build the Stripe client; tests point ``STRIPE_API_BASE`` at a local stand-in."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


def construct_event(payload, signature):
    """Verify a webhook's signature and return the event (raises ValueError or
    stripe.SignatureVerificationError)."""
    try:
        return stripe.Webhook.construct_event(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )
    except (AttributeError, TypeError) as error:
        # The library expects a JSON object; a string or list fails inside it.
        raise ValueError("The payload is not an event object.") from error


class Fetched(dict):
    """A Stripe object as plain data; a missing field reads as None."""

    __getattr__ = dict.get


def fetch_session(session_id):
    """Return the Checkout Session as Stripe knows it now."""
    return Fetched(get_client().v1.checkout.sessions.retrieve(session_id).to_dict())


def fetch_charge(charge_id):
    return Fetched(get_client().v1.charges.retrieve(charge_id).to_dict())
