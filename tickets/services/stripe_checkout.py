"""Card payments through Stripe Checkout: sessions, fulfilment, refunds and webhook events.

One payment, read top to bottom: start_checkout creates the Checkout Session; the buyer's return
(fulfil_checkout_session) and the webhook (handle_stripe_event) both fetch the session from
Stripe and apply_session records it through lifecycle.record_payment, under the same locks as a
new order; a payment that came too late is refunded here. Stripe is called outside transactions.
Webhook events are read in stripe_events.py.
"""

import datetime as dt
import enum
import logging
from collections import Counter
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets import money, payments, tasks
from tickets.models import Order, Refund
from tickets.services import capacity, credit_notes, lifecycle, payment_problems
from tickets.services.errors import OrderError, PaymentUnavailable

logger = logging.getLogger(__name__)

Status = Order.Status
Method = Order.Method


class Outcome(enum.StrEnum):
    """What a Checkout Session or webhook event did to its order (besides lifecycle.Payment)."""

    REFUNDED_LATE = "refunded late payment"
    PROCESSING = "processing"
    NO_SEATS_FOR_PROCESSING = "no seats left for a processing payment"
    NOT_PAID_YET = "not paid yet"
    NOTHING_TO_DO = "nothing to do"
    RELEASED = "released"
    PAYMENT_FAILED = "payment failed"
    REFUND_RECORDED = "refund recorded"
    REFUND_ALREADY_RECORDED = "refund already recorded"
    REJECTED = "rejected"
    REJECTED_REFUNDED = "rejected and refunded"
    UNKNOWN_ORDER = "unknown order"
    UNKNOWN_OBJECT = "unknown object"
    IGNORED = "ignored"
    ALREADY_PROCESSED = "already processed"


@dataclass(frozen=True)
class Result:
    """The order concerned (None when unknown), what happened, and details for the record."""

    order: Order | None
    outcome: enum.StrEnum
    detail: str = ""

    def __str__(self):
        return f"{self.outcome}: {self.detail}" if self.detail else str(self.outcome)


# -- Checkout Sessions -----------------------------------------------------------------


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
        lifecycle.release_order(order=order, note=f"Card payment could not start: {error}")
        raise PaymentUnavailable(
            "Card payment is not available right now, so your seats were released. "
            "Nothing was charged. Please try again in a few minutes."
        ) from error
    with transaction.atomic():
        locked = capacity.lock_order(order)
        locked.stripe_session_id = session.id
        locked.stripe_session_url = session.url
        still_pending = locked.status == Status.PENDING
        if still_pending:
            locked.reserved_until = expires_at
        locked.save()
        note = f"Checkout Session {session.id} created."
        lifecycle.log(locked, locked.status, locked.status, note)
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

    The session is fetched from the API, never taken from the request, and the order is
    locked, so the success page and the webhook may race harmlessly.
    """
    return apply_session(payments.fetch_session(session_id))


def apply_session(session):
    """Record what a Checkout Session says about its order, deciding under the order's locks."""
    order = Order.objects.filter(code=session.client_reference_id or "").first()
    if order is None:
        logger.warning("Checkout Session %s names no known order.", session.id)
        return Result(None, Outcome.UNKNOWN_ORDER)
    with transaction.atomic():
        order, now = capacity.lock_order_and_seats(order)
        problem = session_problem(order, session)
        if problem:
            logger.error("Checkout Session %s rejected for %s: %s", session.id, order.code, problem)
            note = f"Session {session.id} rejected: {problem}."
            lifecycle.log(order, order.status, order.status, note)
        else:
            outcome = record_session(order, session, now)
    if problem:
        # Money taken for something the order is not must go back, whatever the order does.
        refunded = payment_problems.refund_rejected_payment(
            order=order, session=session, reason=problem
        )
        return Result(order, Outcome.REJECTED_REFUNDED if refunded else Outcome.REJECTED, problem)
    if outcome is lifecycle.Payment.REFUND_DUE:
        return refund_late_payment(order=order)
    return Result(order, outcome)


def record_session(order, session, now):
    """Record a session that matches the order, locked by lock_order_and_seats at ``now``."""
    if not order.stripe_session_id:
        order.stripe_session_id = session.id
    if intent_id := payment_problems.intent_id_of(session):
        order.stripe_payment_intent_id = intent_id
    if session.payment_status in ("paid", "no_payment_required"):
        return lifecycle.record_payment(
            order,
            now=now,
            note="Card payment received.",
            late_note="Late card payment accepted: seats remained.",
        )
    if session.status == "complete":
        return record_processing(order, now=now)
    order.save()
    return Outcome.NOT_PAID_YET


def record_processing(order, *, now):
    """Hold the seats of a pending order whose payment Stripe is still processing."""
    if order.status != Status.PENDING:
        order.save()
        return Outcome.NOTHING_TO_DO
    if order.holds_seats(now) or capacity.seats_remain_for(order, now=now):
        lifecycle.set_status(order, Status.PROCESSING, "Stripe is processing the payment.")
        return Outcome.PROCESSING
    order.save()
    return Outcome.NO_SEATS_FOR_PROCESSING


def fail_payment(*, order, note):
    """Expire an order whose payment failed, so its seats go back on sale."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if locked.status not in (Status.PENDING, Status.PROCESSING):
            return Result(locked, Outcome.NOTHING_TO_DO)
        lifecycle.set_status(locked, Status.EXPIRED, note)
        tasks.send_payment_failed.enqueue(locked.pk)
    return Result(locked, Outcome.PAYMENT_FAILED)


def refund_late_payment(*, order):
    """Refund in full a payment that arrived when no seats were left, and tell the buyer.

    What Stripe still holds of the payment is refunded, not the order's total: after a refund
    made in the Stripe dashboard first, asking for the total would be refused on every retry
    of the webhook, for ever.
    """
    stripe_refund = payments.refund_rest(
        order.stripe_payment_intent_id,
        key=f"order-{order.code}-late-refund",
        metadata={"order_code": order.code},
    )
    done = (
        f"Stripe refund {stripe_refund.id}."
        if stripe_refund
        else "Stripe says it was already refunded."
    )
    note = f"Refunded automatically: the seats were gone. {done}"
    if record_full_refund(order, note=note, stripe_refund=stripe_refund):
        tasks.send_late_refund.enqueue(order.pk)
    return Result(order, Outcome.REFUNDED_LATE)


def record_full_refund(order, *, note, stripe_refund=None, actor=None):
    """Record once that the order's payment went back in full; return whether this call did.

    The Stripe refund is kept as the order's Refund, unless Stripe's own event recorded it
    first (tickets/services/refunds.py matches them by id).
    """
    with transaction.atomic():
        locked = capacity.lock_order(order)
        recorded = locked.status != Status.REFUNDED
        if recorded:
            amount = locked.total - locked.refunded_amount
            known = stripe_refund and Refund.objects.filter(stripe_refund_id=stripe_refund.id)
            if stripe_refund and amount > 0 and not known.exists():
                Refund.objects.create(
                    order=locked,
                    amount=amount,
                    currency=locked.currency,
                    method=Refund.Method.CARD,
                    status=Refund.Status.SUCCEEDED
                    if stripe_refund.status == "succeeded"
                    else Refund.Status.PENDING,
                    reason="The payment came late and the seats were gone.",
                    stripe_refund_id=stripe_refund.id,
                )
            locked.refunded_amount = locked.total
            lifecycle.set_status(locked, Status.REFUNDED, note, actor=actor)
            credit_notes.credit_rest(order=locked, reason="Refunded in full.", actor=actor)
    order.refresh_from_db()
    return recorded


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
        order = lifecycle.release_order(order=order, note="Reservation ran out.")
        released += order.status == Status.EXPIRED
    return released


def close_checkout_session_or_refuse(order):
    """Close the order's Checkout Session before it is cancelled; OrderError if Stripe cannot."""
    try:
        close_checkout_session(order)
    except stripe.StripeError as error:
        raise OrderError(f"Stripe could not be reached to close {order.code}: {error}") from error
