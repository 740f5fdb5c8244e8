"""Stripe's webhook events: checked, handled once each, and kept with what they did."""

import logging

import stripe
from django.db import transaction

from tickets import money, payments
from tickets.models import Order, StripeEvent
from tickets.services import capacity, credit_notes, lifecycle, stripe_checkout
from tickets.services.stripe_checkout import Outcome, Result

logger = logging.getLogger(__name__)

Status = Order.Status


class MalformedEvent(ValueError):
    """The event lacks an id, a type or an object."""


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
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if locked.status not in (Status.PENDING, Status.PROCESSING):
            return Result(locked, Outcome.NOTHING_TO_DO)
        lifecycle.set_status(locked, Status.EXPIRED, "The delayed payment failed.")
    return Result(locked, Outcome.PAYMENT_FAILED)


def record_charge_refund(*, charge_id):
    """Record a refund made in Stripe: fully refunded or partly refunded, never backwards."""
    charge = payments.fetch_charge(charge_id)
    order = Order.objects.filter(stripe_payment_intent_id=charge.payment_intent or "-").first()
    if order is None:
        return Result(None, Outcome.UNKNOWN_ORDER)
    refunded = money.from_minor_units(charge.amount_refunded, order.currency)
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if refunded <= locked.refunded_amount or locked.status not in Order.PAID_STATUSES:
            return Result(locked, Outcome.REFUND_ALREADY_RECORDED)
        newly = refunded - locked.refunded_amount
        locked.refunded_amount = refunded
        full = refunded >= locked.total
        status = Status.REFUNDED if full else Status.PARTLY_REFUNDED
        lifecycle.set_status(locked, status, f"Stripe refunded {refunded} {locked.currency}.")
        reason = "Refunded through Stripe."
        if full:
            credit_notes.credit_rest(order=locked, reason=reason)
        else:
            credit_notes.issue_credit_note(order=locked, amount=newly, reason=reason)
    return Result(locked, Outcome.REFUND_RECORDED)


EVENT_HANDLERS = {
    "checkout.session.completed": stripe_checkout.fulfil_checkout_session,
    "checkout.session.async_payment_succeeded": stripe_checkout.fulfil_checkout_session,
    "checkout.session.async_payment_failed": fail_async_payment,
    "checkout.session.expired": expire_checkout_session,
}


def handle_stripe_event(*, payload):
    """Process a verified webhook event once; return its Result.

    Raises stripe.StripeError when Stripe cannot be asked now, so that the webhook
    answers 5xx and Stripe delivers the event again later.
    """
    if not isinstance(payload, dict):
        raise MalformedEvent("The event is not an object.")
    event_id, event_type = payload.get("id"), payload.get("type")
    obj = (
        (payload.get("data") or {}).get("object") if isinstance(payload.get("data"), dict) else None
    )
    object_id = obj.get("id") if isinstance(obj, dict) else None
    if not all(isinstance(v, str) and v for v in (event_id, event_type, object_id)):
        raise MalformedEvent("The event lacks an id, a type or an object.")
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return Result(None, Outcome.ALREADY_PROCESSED)
    result = Result(None, Outcome.IGNORED)
    try:
        if event_type in EVENT_HANDLERS:
            result = EVENT_HANDLERS[event_type](session_id=object_id)
        elif event_type == "charge.refunded":
            result = record_charge_refund(charge_id=object_id)
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
