"""The one place that talks to Stripe (amounts in its minor units: tickets/money.py)."""

import time

import stripe
from django.conf import settings


def card_payment_enabled():
    """Return whether Stripe keys are configured, so that card payment can be offered."""
    return bool(settings.STRIPE_SECRET_KEY)


def uses_standin():
    """Return whether payments go to the local stand-in (development), which moves no money."""
    return settings.STRIPE_API_BASE != "https://api.stripe.com"


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


def fetch_dispute(dispute_id):
    return Fetched(get_client().v1.disputes.retrieve(dispute_id).to_dict())


def refund_rest(intent_id, *, key, metadata):
    """Refund whatever of the payment Stripe still holds; return the refund, or None if none.

    No amount is sent: Stripe refunds what is left of the charge, whatever was refunded
    before (from the Stripe dashboard, say), so the request cannot ask for more than is left
    and be refused again on every retry. ``key`` makes a repeated call refund once.
    """
    try:
        refund = get_client().v1.refunds.create(
            {"payment_intent": intent_id, "metadata": metadata}, {"idempotency_key": key}
        )
    except stripe.InvalidRequestError as error:
        if error.code != "charge_already_refunded":
            raise
        return None
    return Fetched(refund.to_dict())


def create_refund(intent_id, *, amount, key, metadata):
    """Ask Stripe to refund ``amount`` (minor units) of a payment; return the refund as Stripe
    has it (its ``status`` may be pending, succeeded or failed). ``key`` makes a repeated call
    refund once."""
    refund = get_client().v1.refunds.create(
        {"payment_intent": intent_id, "amount": amount, "metadata": metadata},
        {"idempotency_key": key},
    )
    return Fetched(refund.to_dict())


def list_refunds(intent_id):
    """Return every refund of a payment as Stripe has it now, newest first."""
    listing = get_client().v1.refunds.list({"payment_intent": intent_id, "limit": 100})
    return [Fetched(refund.to_dict()) for refund in listing.data]


def fetch_refund(refund_id):
    return Fetched(get_client().v1.refunds.retrieve(refund_id).to_dict())
