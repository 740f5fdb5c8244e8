"""The one place that talks to Stripe (amounts in its minor units: tickets/money.py)."""

import time

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


def verify_signature(payload, header):
    """Check a webhook's signature and time as Stripe signs them.

    Raises stripe.SignatureVerificationError, or ValueError for a body that is not UTF-8.
    """
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    stripe.WebhookSignature.verify_header(
        payload, header, settings.STRIPE_WEBHOOK_SECRET, tolerance=tolerance
    )
    # The library refuses timestamps older than the tolerance only; a future one is as suspect.
    fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if int(fields["t"]) > time.time() + tolerance:
        raise stripe.SignatureVerificationError("Timestamp in the future.", header, payload)


class Fetched(dict):
    """A Stripe object as plain data; a missing field reads as None."""

    __getattr__ = dict.get


def fetch_session(session_id):
    """Return the Checkout Session as Stripe knows it now."""
    return Fetched(get_client().v1.checkout.sessions.retrieve(session_id).to_dict())


def fetch_charge(charge_id):
    return Fetched(get_client().v1.charges.retrieve(charge_id).to_dict())


def fetch_payment_intent(intent_id):
    return Fetched(get_client().v1.payment_intents.retrieve(intent_id).to_dict())
