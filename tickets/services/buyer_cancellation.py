"""A buyer cancels their own order on its page, until the cut-off the organisers set.

The workshop says until when buyers may cancel (``Workshop.buyer_cancellation_until``; none:
never), whether paid orders may be cancelled too, and the fee kept from their refund. An order
on which nothing was paid (a free order, an unpaid card or invoice order) is cancelled at once
and its seats are freed. ``cancellation_terms`` says what cancelling would do, or why it cannot
be done; the order page shows it, and ``cancel_by_buyer`` decides again under the order's row
lock with the clock read under it, so a second click, a payment arriving meanwhile or the
cut-off passing are judged on the order as it is.
"""

import enum
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from tickets import emails, money, tasks
from tickets.models import Order
from tickets.services import capacity, lifecycle, refunds, stripe_checkout
from tickets.services.errors import OrderError

Status = Order.Status
Method = Order.Method
BUYER_NOTE = "Cancelled by the buyer on the order page."


class Refusal(enum.Enum):
    """Why an order cannot be cancelled by its buyer now."""

    NOT_OFFERED = "not offered"  # the organisers set no cut-off
    TOO_LATE = "too late"
    PAID = "paid"  # the organisers do not let buyers cancel paid orders
    NOTHING_BACK = "nothing back"  # the fee is all that was paid
    USED = "used"  # a ticket was checked in
    PROCESSING = "processing"
    ENDED = "ended"  # cancelled, expired or refunded already
    PARTLY_REFUNDED = "partly refunded"
    CHANGED = "changed"  # the order changed between the confirmation page and the click


# Refusals by the organisers' rules (403) rather than by the order's state (409).
FORBIDDEN = {
    Refusal.NOT_OFFERED,
    Refusal.TOO_LATE,
    Refusal.PAID,
    Refusal.NOTHING_BACK,
}


class CancellationRefused(OrderError):
    """The buyer may not cancel the order now; ``refusal`` says why, the message in words."""

    def __init__(self, message, refusal):
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class Terms:
    """What cancelling the order now would do, or the refusal and why."""

    refusal: Refusal | None = None
    problem: str = ""
    paid: Decimal = Decimal("0")
    fee: Decimal = Decimal("0")
    refund: Decimal = Decimal("0")
    until: object = None

    @property
    def allowed(self):
        return self.refusal is None

    @property
    def version(self):
        """Return what the buyer agreed to, so that a change since is noticed."""
        return f"{self.paid}:{self.refund}"


def contact(workshop):
    if workshop.contact_email:
        return f"please write to the organisers at {workshop.contact_email}"
    return "please write to the organisers"


def long_time(when, workshop):
    return date_format(timezone.localtime(when, workshop.tzinfo), "j F Y, H:i T")


def cancellation_terms(order, now=None):
    """Return the Terms on which the buyer may cancel ``order`` at ``now``."""
    now = now or timezone.now()
    workshop = order.workshop
    until = workshop.buyer_cancellation_until
    if refusal := state_refusal(order):
        return Terms(refusal, state_problem(order, refusal))
    if until is None:
        problem = f"Orders cannot be cancelled on this site; {contact(workshop)}."
        return Terms(Refusal.NOT_OFFERED, problem)
    if now >= until:
        problem = (
            f"Orders could be cancelled here until {long_time(until, workshop)}. "
            f"To ask for an exception, {contact(workshop)}."
        )
        return Terms(Refusal.TOO_LATE, problem, until=until)
    if order.tickets.filter(checked_in_at__isnull=False).exists():
        return Terms(Refusal.USED, f"A ticket of order {order.code} was used at the door.")
    if order.status == Status.PAID and order.total > 0:
        return paid_terms(order, until)
    return Terms(until=until)


def paid_terms(order, until):
    workshop = order.workshop
    if not workshop.buyer_cancellation_paid:
        problem = f"Paid orders cannot be cancelled on this site; {contact(workshop)}."
        return Terms(Refusal.PAID, problem, until=until)
    paid = refunds.refundable(order)
    fee = cancellation_fee(workshop, paid)
    if fee >= paid:
        problem = (
            f"The cancellation fee is {money.format_amount(fee, order.currency)}, all that was "
            f"paid, so cancelling would refund nothing; {contact(workshop)}."
        )
        return Terms(Refusal.NOTHING_BACK, problem, paid=paid, fee=fee, until=until)
    return Terms(paid=paid, fee=fee, refund=paid - fee, until=until)


def cancellation_fee(workshop, paid):
    """Return the fee kept from a refund of ``paid``: the workshop's, in its currency's
    smallest unit, never more than was paid."""
    return min(money.quantize(workshop.buyer_cancellation_fee, workshop.currency), paid)


def state_refusal(order):
    """Return the Refusal that the order's status alone makes, or None (no query)."""
    if order.status in (Status.CANCELLED, Status.EXPIRED, Status.REFUNDED):
        return Refusal.ENDED
    if order.status == Status.PROCESSING:
        return Refusal.PROCESSING
    if order.status == Status.PARTLY_REFUNDED:
        return Refusal.PARTLY_REFUNDED
    return None


def state_problem(order, refusal):
    status = order.get_status_display().lower()
    if refusal == Refusal.ENDED:
        return f"Order {order.code} is {status} already."
    if refusal == Refusal.PROCESSING:
        return (
            f"The payment of order {order.code} is still being processed, so it cannot be "
            f"cancelled now; {contact(order.workshop)}."
        )
    return f"Part of order {order.code} was refunded already; {contact(order.workshop)}."


def cancel_by_buyer(*, order, version, actor=None):
    """Cancel the order for its buyer on the terms they saw (``version``); return it.

    Raise CancellationRefused, changing nothing, when the terms refuse it now or differ from
    what the buyer saw. An unpaid card order's Checkout Session is closed first, outside the
    transaction, so that it can no longer be paid; a payment made at the last second is
    recorded instead, and the changed order is then refused.
    """
    terms = cancellation_terms(order)
    if not terms.allowed:
        raise CancellationRefused(terms.problem, terms.refusal)
    if terms.refund and order.payment_method == Method.STRIPE:
        return cancel_paid(order, version, actor)
    if order.payment_method == Method.STRIPE and order.status == Status.PENDING:
        stripe_checkout.close_checkout_session_or_refuse(order)
    with transaction.atomic():
        locked = capacity.lock_order(order)
        terms = cancellation_terms(locked, timezone.now())
        if not terms.allowed:
            raise CancellationRefused(terms.problem, terms.refusal)
        if terms.version != version:
            raise CancellationRefused(changed_problem(locked), Refusal.CHANGED)
        if terms.fee:
            cancel_paid_by_transfer(locked, terms, actor)
        else:
            lifecycle.cancel_locked(
                locked, note=BUYER_NOTE, ending=emails.Ending.CANCELLED_BY_BUYER, actor=actor
            )
    return locked


def cancel_paid_by_transfer(order, terms, actor):
    """Cancel the locked order paid by bank transfer, keeping the fee: the credit note keeps
    it, and the rest is recorded as owed back until the organisers record the transfer."""
    valid = tuple(refunds.valid_tickets(order))
    lifecycle.set_status(order, Status.CANCELLED, BUYER_NOTE, actor=actor)
    plan = refunds.Plan(order, refunds.Kind.ORDER, terms.refund, valid, terms.fee, True)
    refunds.credit(plan, reason="Cancelled by the buyer, less the cancellation fee.", actor=actor)
    why = (
        f"Cancelled by the buyer, less the fee of {money.format_amount(terms.fee, order.currency)}"
    )
    lifecycle.owe_transfer(order, terms.refund, why, actor)
    tasks.send_order_cancelled.enqueue(order.pk, emails.Ending.CANCELLED_BY_BUYER)


def cancel_paid(order, version, actor):
    """Cancel a paid card order by refunding all of it but the fee, through the refund service.

    The terms are decided again under the order's lock the refund takes.
    """

    def check(locked):
        terms = cancellation_terms(locked, timezone.now())
        if not terms.allowed:
            raise CancellationRefused(terms.problem, terms.refusal)
        if terms.version != version:
            raise CancellationRefused(changed_problem(locked), Refusal.CHANGED)
        return terms.fee

    try:
        refunds.refund(
            order=order,
            kind=refunds.Kind.ORDER,
            reason=BUYER_NOTE,
            actor=actor,
            ending=emails.Ending.CANCELLED_BY_BUYER,
            check=check,
        )
    except refunds.RefundRefused as error:
        raise CancellationRefused(str(error), Refusal.CHANGED) from error
    order.refresh_from_db()
    return order


def changed_problem(order):
    return (
        f"Order {order.code} changed since you opened this page (it is now "
        f"{order.get_status_display().lower()}), so nothing was cancelled. "
        "Please read what cancelling would do now."
    )
