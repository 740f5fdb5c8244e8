"""Stripe's webhook events: checked, handled once each, and kept with what they did."""

import json
import logging
import re

import stripe

from tickets import payments
from tickets.models import Order, StripeEvent
from tickets.services import lifecycle, payment_problems, refunds, stripe_checkout
from tickets.services.stripe_checkout import Outcome, Result

logger = logging.getLogger(__name__)

Status = Order.Status


# Stripe's ids (evt_..., cs_..., ch_...) and event types (checkout.session.completed, ping).
STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
EVENT_TYPE = re.compile(r"[a-z_]+(\.[a-z_]+)*")
# Stripe's events nest a few levels; far deeper is an attack on the parser, not an event.
MAX_DEPTH = 32


class MalformedEvent(ValueError):
    """The body is not an event as Stripe sends them."""


def parse_event(body):
    """Return a verified webhook body as an event; raise MalformedEvent for anything else.

    Refused: invalid JSON, NaN and infinities, nesting deeper than MAX_DEPTH, NUL characters
    (PostgreSQL cannot store them), and ids or types that are not as Stripe writes them.
    """
    try:
        payload = json.loads(body, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as error:
        raise MalformedEvent("Malformed payload.") from error
    if not isinstance(payload, dict):
        raise MalformedEvent("Malformed payload.")
    check_values(payload)
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    object_id = obj.get("id") if isinstance(obj, dict) else None
    event_type = payload.get("type")
    if not all(isinstance(v, str) for v in (payload.get("id"), event_type, object_id)):
        raise MalformedEvent("The event lacks an id, a type or an object.")
    if not (STRIPE_ID.fullmatch(payload["id"]) and STRIPE_ID.fullmatch(object_id)):
        raise MalformedEvent("The event's ids are not Stripe ids.")
    if len(event_type) > 100 or not EVENT_TYPE.fullmatch(event_type):
        raise MalformedEvent("The event's type is not a Stripe event type.")
    return payload


def refuse_constant(name):
    raise ValueError(f"{name} is not a number Stripe sends.")


def check_values(payload):
    """Raise MalformedEvent for nesting deeper than MAX_DEPTH or a NUL character anywhere."""
    pending = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise MalformedEvent("The event is nested too deeply.")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in [*value, *value.values()])
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            raise MalformedEvent("The event holds a NUL character.")


def expire_checkout_session(*, session_id):
    """Release the seats of an order whose Checkout Session Stripe says has expired."""
    session = payments.fetch_session(session_id)
    if session.status != "expired":
        return stripe_checkout.apply_session(session)
    order = Order.objects.filter(code=session.client_reference_id or "").first()
    if order is None:
        return Result(None, Outcome.UNKNOWN_ORDER)
    order = lifecycle.release_order(order=order, note=f"Checkout Session {session.id} expired.")
    return Result(
        order, Outcome.RELEASED if order.status == Status.EXPIRED else Outcome.NOTHING_TO_DO
    )


def fail_async_payment(*, session_id):
    """Release the seats of an order whose delayed payment failed."""
    session = payments.fetch_session(session_id)
    order = Order.objects.filter(code=session.client_reference_id or "").first()
    if order is None:
        return Result(None, Outcome.UNKNOWN_ORDER)
    return stripe_checkout.fail_payment(order=order, note="The delayed payment failed.")


def record_charge_refund(*, charge_id):
    """Record the refunds of a charge as Stripe has them, each once (refunds.py matches them).

    Stripe may deliver the refund before the payment's own event: the payment is then
    recorded first, from its Checkout Session, so the refund is never lost.
    """
    charge = payments.fetch_charge(charge_id)
    order = order_of_payment(charge.payment_intent or "")
    if order is None:
        return Result(None, Outcome.UNKNOWN_ORDER)
    return record_refunds_of(order, charge.payment_intent)


def record_refund(*, refund_id):
    """Record what Stripe says of one refund (``refund.*`` events) with the rest of the order's."""
    stripe_refund = payments.fetch_refund(refund_id)
    order = order_of_payment(stripe_refund.payment_intent or "")
    if order is None:
        return Result(None, Outcome.UNKNOWN_ORDER)
    return record_refunds_of(order, stripe_refund.payment_intent)


def record_refunds_of(order, intent_id):
    if order.status not in Order.PAID_STATUSES and order.stripe_session_id:
        stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
        order.refresh_from_db()
    if intent_id != order.stripe_payment_intent_id:
        # A payment refused for not matching the order was refunded; the order paid nothing.
        return Result(order, Outcome.NOTHING_TO_DO, "not the order's payment")
    new = refunds.reconcile_stripe_refunds(order=order)
    order.refresh_from_db()
    if not new:
        return Result(order, Outcome.REFUND_ALREADY_RECORDED)
    amounts = ", ".join(str(row.amount) for row in new)
    return Result(order, Outcome.REFUND_RECORDED, f"{amounts} {order.currency}")


def order_of_payment(intent_id):
    """Return the order a PaymentIntent paid for: recorded on it, or named in its metadata."""
    if not intent_id:
        return None
    order = Order.objects.filter(stripe_payment_intent_id=intent_id).first()
    if order is not None:
        return order
    code = (payments.fetch_payment_intent(intent_id).metadata or {}).get("order_code", "")
    return Order.objects.filter(code=code).first() if code else None


def record_dispute(*, dispute_id):
    """Record a dispute of a payment as Stripe has it now, whichever event told of it."""
    dispute = payments.fetch_dispute(dispute_id)
    order = order_of_payment(dispute.payment_intent or "")
    if order is None:
        return Result(None, Outcome.UNKNOWN_ORDER)
    return Result(order, payment_problems.record_dispute(order=order, dispute=dispute))


# Stripe's events about one refund (``charge.refund.updated`` is the older name).
REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}

EVENT_HANDLERS = {
    "checkout.session.completed": stripe_checkout.fulfil_checkout_session,
    "checkout.session.async_payment_succeeded": stripe_checkout.fulfil_checkout_session,
    "checkout.session.async_payment_failed": fail_async_payment,
    "checkout.session.expired": expire_checkout_session,
}


def handle_stripe_event(*, payload):
    """Process an event from parse_event once; return its Result.

    Raises stripe.StripeError when Stripe cannot be asked now, so that the webhook
    answers 5xx and Stripe delivers the event again later.
    """
    event_id, event_type = payload["id"], payload["type"]
    object_id = payload["data"]["object"]["id"]
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return Result(None, Outcome.ALREADY_PROCESSED)
    result = Result(None, Outcome.IGNORED)
    try:
        if event_type in EVENT_HANDLERS:
            result = EVENT_HANDLERS[event_type](session_id=object_id)
        elif event_type == "charge.refunded":
            result = record_charge_refund(charge_id=object_id)
        elif event_type in REFUND_EVENTS:
            result = record_refund(refund_id=object_id)
        elif event_type.startswith("charge.dispute."):
            result = record_dispute(dispute_id=object_id)
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing":
            # Stripe refused something we asked (a refund of a disputed charge, say): answer
            # 5xx so that Stripe delivers the event again, rather than forget the money.
            raise
        # The object does not exist in our Stripe account: nothing of ours to update.
        result = Result(None, Outcome.UNKNOWN_OBJECT, str(error.user_message or error))
    StripeEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "type": event_type[:100],
            "order": result.order,
            "object_id": object_id[:255],
            "payload": payload,
            "result": str(result)[:300],
        },
    )
    return result
