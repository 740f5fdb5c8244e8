"""Payments left "processing" after Stripe should have told how they ended.

A delayed payment method (a bank debit) holds the order's seats while Stripe processes it, and
Stripe tells the result by webhook. Should that event never arrive, the order would hold its
seats for ever: ``settle_processing_payments`` asks Stripe about every order still processing
past PROCESSING_LIMIT and records what it says, as the webhook would have. It is a periodic
job (``tickets.jobs.settle_processing_payments``, hourly; ``manage.py
settle_processing_payments`` by hand); running it twice at once, or after a gap, is safe, since
each order is decided under its locks as a webhook event is.
"""

import datetime as dt
import logging

import stripe
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from tickets import payments
from tickets.models import Order, OrderEvent
from tickets.services import capacity, lifecycle, stripe_checkout

logger = logging.getLogger(__name__)

Status = Order.Status

# SEPA Direct Debit, the slowest method Checkout offers, tells the result "within 14 business
# days"; 20 calendar days cover the weekends and a few bank holidays in between.
PROCESSING_LIMIT = dt.timedelta(days=20)
# PaymentIntent statuses of a payment that will not succeed without the buyer starting again.
FAILED_INTENT_STATUSES = {"requires_payment_method", "canceled"}
STILL_PROCESSING_NOTE = "Stripe was asked after its time limit: the payment is still processing."


def processing_since():
    """Return a subquery of when each order last began processing, from its history."""
    started = OrderEvent.objects.filter(order=OuterRef("pk"), to_status=Status.PROCESSING)
    return Subquery(started.order_by("-created_at").values("created_at")[:1])


def overdue_processing_orders(now):
    """Return the card orders still processing PROCESSING_LIMIT after they began."""
    return (
        Order.objects.filter(status=Status.PROCESSING, payment_method=Order.Method.STRIPE)
        .annotate(processing_since=processing_since())
        .filter(processing_since__lte=now - PROCESSING_LIMIT)
        .order_by("processing_since", "id")
    )


def settle_processing_payments(*, now=None):
    """Ask Stripe how each overdue processing payment ended and record it; return a count.

    Returns {"paid": n, "failed": n, "still processing": n, "unreachable": n}. An order
    Stripe cannot be asked about now is tried again on the next run.
    """
    counts = {"paid": 0, "failed": 0, "still processing": 0, "unreachable": 0}
    for order in overdue_processing_orders(now or timezone.now()):
        try:
            counts[settle(order)] += 1
        except stripe.StripeError as error:
            logger.warning("Could not ask Stripe about processing order %s: %s", order.code, error)
            counts["unreachable"] += 1
    return counts


def settle(order):
    """Record how Stripe says the order's processing payment ended; return which way."""
    session = payments.fetch_session(order.stripe_session_id)
    if session.payment_status == "paid":
        result = stripe_checkout.apply_session(session)
        return "paid" if result.order and result.order.is_paid else "failed"
    intent = payments.fetch_payment_intent(order.stripe_payment_intent_id)
    if intent.status in FAILED_INTENT_STATUSES:
        note = "The delayed payment failed (Stripe asked after its time limit)."
        stripe_checkout.fail_payment(order=order, note=note)
        return "failed"
    note_still_processing(order)
    return "still processing"


def note_still_processing(order):
    """Say once in the order's history that Stripe was asked and had no answer yet."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if not locked.events.filter(note=STILL_PROCESSING_NOTE).exists():
            lifecycle.log(locked, locked.status, locked.status, STILL_PROCESSING_NOTE)
