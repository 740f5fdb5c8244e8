"""Payments that went wrong after the buyer paid: charges that do not match, and disputes.

A Checkout Session whose charge does not match its order (amount, currency, the order named)
is never recorded as the order's payment: the money is refunded at once and the payment kept
as a RejectedPayment for the organisers. A dispute (chargeback) is kept as a Dispute, updated
from Stripe whatever event tells of it; when the bank rules for the buyer the money is gone,
and the order records it as money returned, so that its tickets no longer count as paid.
Stripe is called outside transactions; what is recorded is decided under the order's lock.
"""

import datetime as dt
import enum
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tickets import money, payments
from tickets.models import Dispute, Order, RejectedPayment
from tickets.services import capacity, credit_notes, lifecycle

logger = logging.getLogger(__name__)

Status = Order.Status

# Stripe's dispute statuses that end one; the others (needs_response, under_review and their
# warning_ forms for inquiries) leave it open.
CLOSING_STATUSES = {
    "won": Dispute.Status.WON,
    "lost": Dispute.Status.LOST,
    "warning_closed": Dispute.Status.CLOSED,
}


class DisputeOutcome(enum.StrEnum):
    """What recording a dispute did."""

    OPENED = "dispute opened"
    UPDATED = "dispute updated"
    WON = "dispute won"
    LOST = "dispute lost: money returned to the buyer"
    CLOSED = "dispute closed"
    UNCHANGED = "dispute unchanged"


def intent_id_of(session):
    intent = session.payment_intent
    return intent if isinstance(intent, str) else (intent or {}).get("id", "")


def refund_rejected_payment(*, order, session, reason):
    """Refund in full the money a session took that does not match its order; keep it shown.

    Return whether the payment was refunded (now or before). A session not paid yet takes no
    money: it is refunded once it is, when Stripe tells of it again.
    """
    intent_id = intent_id_of(session)
    if session.payment_status != "paid" or not intent_id:
        return False
    if RejectedPayment.objects.filter(stripe_payment_intent_id=intent_id).exists():
        return True
    refund = payments.refund_rest(
        intent_id, key=f"rejected-{intent_id}-refund", metadata={"order_code": order.code}
    )
    refund_id = refund.id if refund else ""
    currency = (session.currency or "").upper()
    amount = Decimal(session.amount_total or 0).scaleb(-money.currency(currency).exponent)
    with transaction.atomic():
        locked = capacity.lock_order(order)
        _, created = RejectedPayment.objects.get_or_create(
            stripe_payment_intent_id=intent_id,
            defaults={
                "order": locked,
                "stripe_session_id": session.id,
                "amount": amount,
                "currency": currency,
                "reason": reason[:300],
                "stripe_refund_id": refund_id,
            },
        )
        if created:
            taken = money.format_amount(amount, currency)
            note = f"A payment of {taken} did not match the order ({reason}): refunded at once."
            lifecycle.log(locked, locked.status, locked.status, note)
    return True


def record_dispute(*, order, dispute):
    """Record a dispute of the order's payment as Stripe has it now; return what changed.

    Any dispute event leads here with the dispute fetched from Stripe, so events that come
    late, twice or out of order record the same thing.
    """
    status = CLOSING_STATUSES.get(dispute.status, Dispute.Status.OPEN)
    currency = (dispute.currency or order.currency).upper()
    with transaction.atomic():
        locked = capacity.lock_order(order)
        row, created = Dispute.objects.select_for_update().get_or_create(
            stripe_dispute_id=dispute.id,
            defaults={
                "order": locked,
                "stripe_charge_id": dispute.charge or "",
                "amount": money.from_minor_units(dispute.amount or 0, currency),
                "currency": currency,
                "reason": (dispute.reason or "")[:50],
                "respond_by": respond_by(dispute),
            },
        )
        if created:
            note_opened(locked, row)
        if row.status == status or row.status != Dispute.Status.OPEN:
            # Stripe never reopens a closed dispute.
            return DisputeOutcome.OPENED if created else DisputeOutcome.UNCHANGED
        if status == Dispute.Status.OPEN:
            return DisputeOutcome.UPDATED
        return close_dispute(locked, row, status, paid_with=dispute.payment_intent)


def respond_by(dispute):
    due = (dispute.evidence_details or {}).get("due_by")
    return dt.datetime.fromtimestamp(due, tz=dt.UTC) if due else None


def note_opened(order, row):
    amount = money.format_amount(row.amount, row.currency)
    reason = row.reason.replace("_", " ") or "no reason given"
    note = f"The buyer's bank disputes {amount} of the payment ({reason}); see Stripe's dashboard."
    lifecycle.log(order, order.status, order.status, note)


def close_dispute(order, row, status, *, paid_with):
    """Close the locked dispute; a lost one is recorded on the order as money returned."""
    row.status = status
    row.closed_at = timezone.now()
    row.save(update_fields=["status", "closed_at"])
    lifecycle.log(order, order.status, order.status, f"Dispute {row.get_status_display()}.")
    if status == Dispute.Status.WON:
        return DisputeOutcome.WON
    if status == Dispute.Status.CLOSED:
        return DisputeOutcome.CLOSED
    # Only a dispute of the payment recorded for the order takes from what it paid.
    if paid_with == order.stripe_payment_intent_id and order.status in Order.PAID_STATUSES:
        record_chargeback(order, min(row.amount, order.total - order.refunded_amount))
    return DisputeOutcome.LOST


def record_chargeback(order, amount):
    """Record on the locked, paid order that its bank took ``amount`` back for the buyer."""
    if amount <= 0:
        return
    order.refunded_amount += amount
    full = order.refunded_amount >= order.total
    returned = money.format_amount(amount, order.currency)
    note = f"Dispute lost: the buyer's bank took back {returned}."
    lifecycle.set_status(order, Status.REFUNDED if full else Status.PARTLY_REFUNDED, note)
    reason = "Payment disputed by the buyer's bank and returned."
    if full:
        credit_notes.credit_rest(order=order, reason=reason)
    else:
        credit_notes.issue_credit_note(order=order, amount=amount, reason=reason)
