"""The one place that talks to Stripe, and money in Stripe's smallest units."""

from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.conf import settings

# Stripe's zero-decimal currencies: amounts are whole units, e.g. 500 JPY is 500.
# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL_CURRENCIES = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip


def currency_exponent(currency):
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def quantize(amount, currency):
    """Round an amount to what the currency can express."""
    step = Decimal(1).scaleb(-currency_exponent(currency))
    return Decimal(amount).quantize(step, rounding=ROUND_HALF_UP)


def to_minor_units(amount, currency):
    """Return the amount as Stripe's integer in the currency's smallest unit."""
    return int(quantize(amount, currency).scaleb(currency_exponent(currency)))


def from_minor_units(value, currency):
    return quantize(Decimal(value).scaleb(-currency_exponent(currency)), currency)


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
