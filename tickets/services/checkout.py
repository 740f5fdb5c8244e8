"""Stripe Checkout: sessions, fulfilment, refunds, expiry and webhook events."""

import datetime as dt
import logging
from collections import Counter

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets import emails, money, payments
from tickets.models import Order, StripeEvent
from tickets.services import credit_notes, orders
from tickets.services.orders import (
    Method,
    OrderError,
    PaymentUnavailable,
    Status,
    lock_order,
    lock_order_and_seats,
    log,
    release_order,
    seats_remain_for,
    set_status,
)

logger = logging.getLogger(__name__)

# -- Stripe Checkout -------------------------------------------------------------------


def start_checkout(*, order):
    """Create the Stripe Checkout Session for a card order and return its URL.

    If Stripe fails, the order expires at once so its seats go back on sale.
    """
    now = timezone.now()
    # Stripe wants expires_at at least 30 minutes ahead; the reservation follows it.
    expires_at = max(order.reserved_until, now + dt.timedelta(minutes=31))
    order_url = settings.SITE_URL + order.get_absolute_url()
    params = {
        "mode": "payment",
        "client_reference_id": order.code,
        "metadata": {"order_code": order.code},
        "payment_intent_data": {"metadata": {"order_code": order.code}},
        "customer_email": order.buyer_email,
        "expires_at": int(expires_at.timestamp()),
        "line_items": checkout_line_items(order),
        "success_url": order_url + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": order_url + "?cancelled=1",
    }
    try:
        session = payments.get_client().v1.checkout.sessions.create(
            params, {"idempotency_key": f"order-{order.code}-checkout"}
        )
    except stripe.StripeError as error:
        logger.warning("Stripe Checkout Session for %s failed: %s", order.code, error)
        release_order(order=order, note=f"Card payment could not start: {error}")
        raise PaymentUnavailable(
            "Card payment is not available right now, so your seats were released. "
            "Nothing was charged. Please try again in a few minutes."
        ) from error
    with transaction.atomic():
        locked = lock_order(order)
        locked.stripe_session_id = session.id
        locked.stripe_session_url = session.url
        still_pending = locked.status == Status.PENDING
        if still_pending:
            locked.reserved_until = expires_at
        locked.save()
        log(locked, locked.status, locked.status, f"Checkout Session {session.id} created.")
    if not still_pending:
        # Cancelled (or expired) while Stripe made the session: never send the buyer to pay.
        close_session_of_closed_order(locked)
        raise OrderError(
            f"Order {locked.code} was {locked.get_status_display().lower()} before payment "
            "started, so it cannot be paid. Nothing was charged."
        )
    return session.url


def close_session_of_closed_order(order):
    try:
        close_checkout_session(order)
    except stripe.StripeError as error:
        # The buyer is not sent to it; a payment through it anyway would be refunded.
        logger.warning("Could not expire session of %s: %s", order.code, error)


def checkout_line_items(order):
    grouped = Counter(
        (t.ticket_type.name, t.price) for t in order.tickets.select_related("ticket_type")
    )
    return [
        {
            "quantity": quantity,
            "price_data": {
                "currency": order.currency.lower(),
                "unit_amount": money.to_minor_units(price, order.currency),
                "product_data": {"name": f"{order.workshop.title}: {name}"},
            },
        }
        for (name, price), quantity in sorted(grouped.items())
    ]


def session_problem(order, session):
    """Return why a Checkout Session does not belong to this order, or ''."""
    if order.payment_method != Method.STRIPE:
        return "order is not a card order"
    if order.stripe_session_id and order.stripe_session_id != session.id:
        return "session id differs from the order's"
    if (session.metadata or {}).get("order_code") != order.code:
        return "metadata names another order"
    if session.amount_total != money.to_minor_units(order.total, order.currency):
        return f"amount {session.amount_total} differs from the order total"
    if (session.currency or "").lower() != order.currency.lower():
        return f"currency {session.currency} differs from {order.currency}"
    return ""


def fulfil_checkout_session(*, session_id):
    """Bring the order of a Checkout Session up to date with Stripe; safe to repeat.

    The session is fetched from the API, never taken from the request, and the
    order row is locked, so the success page and the webhook may race harmlessly.
    Returns a short description of what happened.
    """
    session = payments.fetch_session(session_id)
    return apply_session(session)


def apply_session(session):
    """Record what a Checkout Session says about its order, deciding under the order's locks."""
    order = Order.objects.filter(code=session.client_reference_id or "").first()
    if order is None:
        logger.warning("Checkout Session %s names no known order.", session.id)
        return None, "unknown order"
    with transaction.atomic():
        order, now = lock_order_and_seats(order)
        problem = session_problem(order, session)
        if problem:
            logger.error("Checkout Session %s rejected for %s: %s", session.id, order.code, problem)
            log(order, order.status, order.status, f"Session {session.id} rejected: {problem}.")
            return order, f"rejected: {problem}"
        if not order.stripe_session_id:
            order.stripe_session_id = session.id
        intent = session.payment_intent
        if intent:
            order.stripe_payment_intent_id = intent if isinstance(intent, str) else intent["id"]
        if session.payment_status in ("paid", "no_payment_required"):
            result = record_payment(order, now=now)
        elif session.status == "complete":
            result = record_processing(order, now=now)
        else:
            order.save()
            result = f"session is {session.status}, not paid yet"
    if result == "refund due":
        result = refund_late_payment(order=order)
    return order, result


def record_payment(order, *, now):
    """Mark the locked order paid, or decide to refund a payment that came too late."""
    if order.status in (Status.PAID, Status.PARTLY_REFUNDED, Status.REFUNDED):
        order.save()
        return "already refunded" if order.status == Status.REFUNDED else "already paid"
    if order.holds_seats(now):
        set_status(order, Status.PAID, "Card payment received.", paid=True)
        return "paid"
    if order.status != Status.CANCELLED and seats_remain_for(order, now=now):
        set_status(order, Status.PAID, "Late card payment accepted: seats remained.", paid=True)
        return "paid late"
    order.save()
    log(order, order.status, order.status, "Card payment arrived without seats: refund due.")
    return "refund due"


def record_processing(order, *, now):
    """Hold the seats of a pending order whose payment Stripe is still processing."""
    if order.status != Status.PENDING:
        order.save()
        return f"nothing to do for a {order.status} order"
    if order.holds_seats(now) or seats_remain_for(order, now=now):
        set_status(order, Status.PROCESSING, "Stripe is processing the payment.")
        return "processing"
    order.save()
    return "no seats left for a processing payment"


def refund_late_payment(*, order):
    """Refund in full a payment that arrived when no seats were left, and tell the buyer."""
    if refund_through_stripe(order, note="Refunded automatically: the seats were gone."):
        transaction.on_commit(lambda: emails.send_late_refund(order), robust=True)
    return "refunded late payment"


def refund_through_stripe(order, *, note, actor=None):
    """Refund what is left of the order's card payment and record it once.

    Return whether this call recorded the refund (False when a concurrent call
    with the same idempotency key already had).
    """
    if not order.stripe_payment_intent_id:
        raise OrderError("This order has no card payment to refund.")
    amount = order.total - order.refunded_amount
    already = money.to_minor_units(order.refunded_amount, order.currency)
    try:
        refund = payments.get_client().v1.refunds.create(
            {
                "payment_intent": order.stripe_payment_intent_id,
                "amount": money.to_minor_units(amount, order.currency),
                "metadata": {"order_code": order.code},
            },
            {"idempotency_key": f"order-{order.code}-refund-after-{already}"},
        )
        note = f"{note} Stripe refund {refund.id}."
    except stripe.InvalidRequestError as error:
        if error.code != "charge_already_refunded":
            raise
        # Someone refunded it in the Stripe dashboard already; record what is true.
        note = f"{note} Stripe says it was already refunded."
    with transaction.atomic():
        locked = lock_order(order)
        recorded = locked.status != Status.REFUNDED
        if recorded:
            locked.refunded_amount = locked.total
            set_status(locked, Status.REFUNDED, note, actor=actor)
            credit_notes.credit_rest(order=locked, reason="Refunded in full.", actor=actor)
    order.refresh_from_db()
    return recorded


def expire_checkout_session(*, session_id):
    """Release the seats of an order whose Checkout Session Stripe says has expired."""
    session = payments.fetch_session(session_id)
    if session.status != "expired":
        return apply_session(session)
    order = Order.objects.filter(code=session.client_reference_id or "").first()
    if order is None:
        return None, "unknown order"
    order = release_order(order=order, note=f"Checkout Session {session.id} expired.")
    return order, f"order is {order.status}"


def fail_async_payment(*, session_id):
    """Release the seats of an order whose delayed payment failed."""
    session = payments.fetch_session(session_id)
    order = Order.objects.filter(code=session.client_reference_id or "").first()
    if order is None:
        return None, "unknown order"
    with transaction.atomic():
        locked = lock_order(order)
        if locked.status in (Status.PENDING, Status.PROCESSING):
            set_status(locked, Status.EXPIRED, "The delayed payment failed.")
    return locked, f"order is {locked.status}"


def record_charge_refund(*, charge_id):
    """Record a refund made in Stripe: fully refunded or partly refunded, never backwards."""
    charge = payments.fetch_charge(charge_id)
    order = Order.objects.filter(stripe_payment_intent_id=charge.payment_intent or "-").first()
    if order is None:
        return None, "unknown order"
    refunded = money.from_minor_units(charge.amount_refunded, order.currency)
    with transaction.atomic():
        locked = lock_order(order)
        if refunded <= locked.refunded_amount or locked.status not in Order.PAID_STATUSES:
            return locked, "refund already recorded"
        newly = refunded - locked.refunded_amount
        locked.refunded_amount = refunded
        full = refunded >= locked.total
        status = Status.REFUNDED if full else Status.PARTLY_REFUNDED
        set_status(locked, status, f"Stripe refunded {refunded} {locked.currency}.")
        reason = "Refunded through Stripe."
        if full:
            credit_notes.credit_rest(order=locked, reason=reason)
        else:
            credit_notes.issue_credit_note(order=locked, amount=newly, reason=reason)
    return locked, f"order is {status}"


def close_checkout_session(order):
    """Expire the order's open Checkout Session so it can no longer be paid.

    A session that turns out complete is fulfilled instead, so a payment made at the
    last second is never lost. Raises stripe.StripeError when Stripe cannot be asked.
    """
    if not (order.stripe_session_id and payments.card_payment_enabled()):
        return
    try:
        payments.get_client().v1.checkout.sessions.expire(order.stripe_session_id)
    except stripe.InvalidRequestError:
        apply_session(payments.fetch_session(order.stripe_session_id))


def release_expired_orders(*, now=None):
    """Expire card orders whose reservation has run out; return how many were released."""
    now = now or timezone.now()
    stale = Order.objects.filter(
        status=Status.PENDING, payment_method=Method.STRIPE, reserved_until__lte=now
    )
    released = 0
    for order in stale:
        try:
            close_checkout_session(order)
        except stripe.StripeError as error:
            logger.warning("Could not expire session of %s: %s", order.code, error)
            continue
        order = release_order(order=order, note="Reservation ran out.")
        released += order.status == Status.EXPIRED
    return released


def cancel_order(*, order, actor=None):
    """Cancel an order as an organiser, closing its Checkout Session first."""
    if order.payment_method == Method.STRIPE and order.status == Status.PENDING:
        try:
            close_checkout_session(order)
        except stripe.StripeError as error:
            raise OrderError(
                f"Stripe could not be reached to close {order.code}: {error}"
            ) from error
    return orders.cancel_order(order=order, actor=actor)


def refund_order(*, order, actor=None):
    """Refund a paid card order in full through Stripe and record it."""
    order.refresh_from_db()
    if order.payment_method != Method.STRIPE or order.status not in Order.PAID_STATUSES:
        raise OrderError(f"Order {order.code} is not a paid card order.")
    try:
        refund_through_stripe(order, note="Refunded in full by an organiser.", actor=actor)
    except stripe.StripeError as error:
        raise OrderError(f"Stripe did not refund order {order.code}: {error}") from error
    return order


# -- Stripe webhook events -------------------------------------------------------------


class MalformedEvent(ValueError):
    """The event lacks an id, a type or an object."""


EVENT_HANDLERS = {
    "checkout.session.completed": fulfil_checkout_session,
    "checkout.session.async_payment_succeeded": fulfil_checkout_session,
    "checkout.session.async_payment_failed": fail_async_payment,
    "checkout.session.expired": expire_checkout_session,
}


def handle_stripe_event(*, payload):
    """Process a verified webhook event once; return what happened in a few words.

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
        return "already processed"
    order, result = None, "ignored"
    try:
        if event_type in EVENT_HANDLERS:
            order, result = EVENT_HANDLERS[event_type](session_id=object_id)
        elif event_type == "charge.refunded":
            order, result = record_charge_refund(charge_id=object_id)
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing":
            # Stripe refused something we asked (a refund of a disputed charge, say): answer
            # 5xx so that Stripe delivers the event again, rather than forget the money.
            raise
        # The object does not exist in our Stripe account: nothing of ours to update.
        result = f"unknown object: {error.user_message or error}"[:300]
    StripeEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "type": event_type[:100],
            "order": order,
            "object_id": object_id[:255],
            "payload": payload,
            "result": result[:300],
        },
    )
    return result
