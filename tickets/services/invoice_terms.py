"""Payment terms of invoice orders: due date, reminder, expiry, extension and late transfers.

An invoice order is due ``Workshop.payment_terms_days`` after it is placed (never after the day
the workshop starts). Its buyer is reminded ``payment_reminder_days`` before; an order still
unpaid ``payment_grace_days`` after the due date expires: its seats go back on sale, a credit
note cancels its invoice and the buyer is told. Reminders and expiry are periodic jobs
(``send_payment_reminders``, ``expire_overdue_invoice_orders``; ``manage.py
process_invoice_orders``): each decides per order under the order's row lock, so two runs at
once, or a run after a gap, tell each buyer once.

A bank transfer recorded after expiry follows the late-payment rule: accepted if the seats
are still free, otherwise refused, and the money is recorded as owed back to the buyer
(``Order.refund_owed``), since nothing can be refunded to a bank account automatically.
"""

import datetime as dt
import enum
import logging

from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from tickets import tasks
from tickets.models import Order, Refund
from tickets.money import format_amount
from tickets.services import capacity, lifecycle
from tickets.services.credit_notes import credit_rest
from tickets.services.errors import Busy, OrderError

logger = logging.getLogger(__name__)
Status = Order.Status


class Transfer(enum.Enum):
    """What recording an invoice order's bank transfer did."""

    PAID = "paid"
    PAID_LATE = "paid late"
    REFUSED = "refused"


def reminder_day(order):
    return order.payment_due_on - dt.timedelta(days=order.workshop.payment_reminder_days)


def long_date(day):
    return date_format(day, "j F Y")


def unpaid_invoice_orders():
    return Order.objects.filter(
        status=Status.PENDING, payment_method=Order.Method.INVOICE, payment_due_on__isnull=False
    ).select_related("workshop")


def is_unpaid_invoice_order(order):
    return (
        order.status == Status.PENDING
        and order.payment_method == Order.Method.INVOICE
        and order.payment_due_on is not None
    )


def is_overdue(order, now):
    """Return whether the unpaid invoice order is past its grace period at ``now``."""
    today = timezone.localdate(now, order.workshop.tzinfo)
    return is_unpaid_invoice_order(order) and today > order.payment_last_day


def reminder_due(order, now):
    """Return whether the buyer should be reminded now: not yet, not too early, not too late.

    An order placed on or after its reminder day (short terms) gets none: its confirmation
    has just told the due date.
    """
    if not is_unpaid_invoice_order(order) or order.payment_reminder_sent_at is not None:
        return False
    tzinfo = order.workshop.tzinfo
    today = timezone.localdate(now, tzinfo)
    placed_on = timezone.localdate(order.created_at, tzinfo)
    return placed_on < reminder_day(order) <= today <= order.payment_last_day


# -- Periodic jobs ---------------------------------------------------------------------------


def send_payment_reminders(*, now=None):
    """Remind the buyers of unpaid invoice orders nearing their due date; return how many."""
    now = now or timezone.now()
    candidates = unpaid_invoice_orders().filter(payment_reminder_sent_at__isnull=True)
    return sum(remind(order, now) for order in candidates if reminder_due(order, now))


def remind(order, now):
    """Claim the order's reminder under its row lock and send it after commit, once."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if not reminder_due(locked, now):
            return False
        locked.payment_reminder_sent_at = now
        locked.save(update_fields=["payment_reminder_sent_at", "updated_at"])
        note = f"Payment reminder sent: due on {long_date(locked.payment_due_on)}."
        lifecycle.log(locked, locked.status, locked.status, note)
        tasks.send_payment_reminder.enqueue(locked.pk)
    return True


def expire_overdue_invoice_orders(*, now=None):
    """Expire unpaid invoice orders past their grace period; return how many expired."""
    now = now or timezone.now()
    return sum(expire(order, now) for order in unpaid_invoice_orders() if is_overdue(order, now))


def expire(order, now):
    """Expire the overdue order under its row lock: free the seats, credit the invoice, tell."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if not is_overdue(locked, now):
            return False
        due = long_date(locked.payment_due_on)
        lifecycle.set_status(
            locked, Status.EXPIRED, f"Not paid by {due} (and the grace period): expired."
        )
        credit_rest(order=locked, reason="Not paid in time: the order expired.")
        tasks.send_invoice_order_expired.enqueue(locked.pk)
    return True


# -- Organiser actions -------------------------------------------------------------------------


def extend_payment_due(*, order, due_on, actor=None):
    """Move an unpaid invoice order's due date later; its buyer is reminded again before it."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if not is_unpaid_invoice_order(locked):
            raise OrderError(f"Order {locked.code} is not an unpaid invoice order.")
        previous = locked.payment_due_on
        if due_on <= previous:
            raise OrderError(
                f"Order {locked.code} is due on {long_date(previous)}; choose a later day."
            )
        if due_on < timezone.localdate(timezone.now(), locked.workshop.tzinfo):
            raise OrderError("The new due date is in the past.")
        locked.payment_due_on = due_on
        locked.payment_reminder_sent_at = None
        locked.save(update_fields=["payment_due_on", "payment_reminder_sent_at", "updated_at"])
        note = f"Payment due date moved from {long_date(previous)} to {long_date(due_on)}."
        lifecycle.log(locked, locked.status, locked.status, note, actor)
    return locked


def record_bank_transfer(*, order, actor=None):
    """Record that an invoice order's bank transfer arrived; return a ``Transfer`` outcome.

    A transfer for an expired order is accepted if its seats (and a use of its voucher) are
    still free, under the locks every payment takes; otherwise, and for a cancelled order, it
    is refused and the amount is recorded as owed back to the buyer.
    """
    try:
        with transaction.atomic():
            locked, now = capacity.lock_order_and_seats(order)
            return apply_transfer(locked, now, actor)
    except OperationalError as error:
        if capacity.is_lock_failure(error):
            raise Busy("Tickets are being sold right now. Please try again.") from error
        raise


def apply_transfer(order, now, actor):
    if order.payment_method != Order.Method.INVOICE:
        raise OrderError(f"Order {order.code} is not an invoice order.")
    if order.status == Status.PENDING:
        lifecycle.set_status(order, Status.PAID, "Invoice marked paid.", actor=actor, paid=True)
        return Transfer.PAID
    if order.status not in (Status.EXPIRED, Status.CANCELLED):
        raise OrderError(f"Order {order.code} is {order.get_status_display().lower()}.")
    if order.refund_owed > 0:
        owed = format_amount(order.refund_owed, order.currency)
        raise OrderError(
            f"Order {order.code} already has {owed} to return to the buyer; "
            "record that it was returned first."
        )
    if order.status == Status.EXPIRED and capacity.seats_remain_for(order, now=now):
        note = "Late bank transfer accepted: the seats were still free."
        lifecycle.set_status(order, Status.PAID, note, actor=actor, paid=True)
        return Transfer.PAID_LATE
    why = "expired and its seats were sold" if order.status == Status.EXPIRED else "cancelled"
    lifecycle.owe_transfer(
        order, order.total, f"Bank transfer arrived after the order {why}", actor
    )
    return Transfer.REFUSED


def record_transfer_returned(*, order, actor=None):
    """Record that the organisers sent back the money owed to the buyer by bank transfer."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if locked.refund_owed <= 0:
            raise OrderError(f"Order {locked.code} has no money to return.")
        amount = locked.refund_owed
        locked.refund_owed = 0
        locked.refunded_amount += amount
        note = f"{format_amount(amount, locked.currency)} returned by bank transfer."
        Refund.objects.create(
            order=locked,
            amount=amount,
            currency=locked.currency,
            method=Refund.Method.BANK_TRANSFER,
            status=Refund.Status.SUCCEEDED,
            reason="Money owed back, returned by bank transfer.",
            created_by=actor,
        )
        still_paid = locked.status in (Status.PAID, Status.PARTLY_REFUNDED)
        partly = still_paid and locked.refunded_amount < locked.total
        lifecycle.set_status(
            locked, Status.PARTLY_REFUNDED if partly else Status.REFUNDED, note, actor=actor
        )
    return locked
