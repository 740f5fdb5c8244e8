"""Refunds: money back to an order's buyer, of the whole order, of chosen tickets or an amount.

A refund is decided once, under the order's row lock (``refund``): what is left to refund is
read there (``refundable``: what was paid, less what was refunded or is owed back already), the
refund is recorded and counted in ``Order.refunded_amount``, its tickets stop admitting their
holders and free their seats, an invoiced order gets a credit note, and the buyer and the
attendees of the refunded tickets are told after the commit. Two organisers refunding the last
euro at once therefore queue on the lock, and the second is refused.

A card refund is then sent to Stripe outside the transaction, with an idempotency key of its
own (``refund-<id>``), and the status Stripe gives it is recorded: pending, succeeded or
failed. A failed refund no longer counts; its tickets stay cancelled and the money is still
owed (refund it again, or return it by bank transfer). A refund Stripe could not be asked about
stays pending and is sent again by ``send_unsent_refunds`` with the same key. Invoice orders
are refunded by bank transfer, which the organisers make themselves: recording it here says
the money went back.

Refunds made in Stripe's dashboard are recorded when Stripe tells of them
(``reconcile_stripe_refunds``): each Stripe refund is matched to ours by its id, or by the
``refund_id`` our request put in its metadata, so none is counted twice.
"""

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import stripe
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from tickets import emails, money, payments, tasks
from tickets.models import Dispute, Invoice, Order, Refund, Ticket
from tickets.services import capacity, credit_notes, lifecycle, waitlist
from tickets.services.errors import OrderError
from tickets.services.invoices import credited

logger = logging.getLogger(__name__)

Status = Order.Status
ZERO = Decimal("0")
# A refund Stripe could not be asked about is sent again after this long (seconds).
RESEND_AFTER = 60
# A refund pending at Stripe this long is asked about again (its event may have been lost).
STALE_PENDING = dt.timedelta(days=1)
# What Stripe's refund statuses mean here ("requires_action": the buyer must give bank details).
STRIPE_STATUSES = {
    "pending": Refund.Status.PENDING,
    "requires_action": Refund.Status.PENDING,
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}


class Kind(enum.StrEnum):
    """What an organiser refunds."""

    ORDER = "order"  # every ticket still valid, and all that is left of the money
    TICKETS = "tickets"  # chosen tickets, at the prices paid
    AMOUNT = "amount"  # an amount; the tickets stay valid


class RefundRefused(OrderError):
    """A refund that cannot be made, with the reason in words for the organiser or buyer."""


@dataclass(frozen=True)
class Plan:
    """What a refund would do: the amount, the tickets it cancels, how the money goes back."""

    order: Order
    kind: Kind
    amount: Decimal
    tickets: tuple
    fee: Decimal
    ends_order: bool

    @property
    def method(self):
        if self.order.payment_method == Order.Method.STRIPE:
            return Refund.Method.CARD
        return Refund.Method.BANK_TRANSFER

    @property
    def version(self):
        """Return what the organiser confirmed, so that a change since is noticed."""
        order = self.order
        ids = ",".join(str(ticket.pk) for ticket in self.tickets)
        return f"{order.status}:{order.refunded_amount}:{order.refund_owed}:{self.amount}:{ids}"

    @property
    def invoice(self):
        return Invoice.objects.filter(order=self.order).first()

    @property
    def people_told(self):
        """Return the addresses told of the refund: the buyer, then the attendees affected."""
        attendees = emails.attendees_to_tell(self.order, tickets=self.tickets)
        return [self.order.buyer_email, *(address for address, _ in attendees)]


def recount(order):
    """Set the locked order's ``refunded_amount`` from its refunds that count and its lost
    disputes, never above what was paid.

    Counted from the rows, not added to, so that Stripe's events and our own answers, in
    whatever order they arrive, give the same sum.
    """
    refunded = Refund.objects.filter(order=order, status__in=Refund.COUNTED_STATUSES)
    lost = Dispute.objects.filter(order=order, status=Dispute.Status.LOST)
    total = (refunded.aggregate(sum=Sum("amount"))["sum"] or ZERO) + (
        lost.aggregate(sum=Sum("amount"))["sum"] or ZERO
    )
    order.refunded_amount = min(total, order.total)


def refundable(order):
    """Return what can still be refunded of the order: paid, less refunded or owed back."""
    if order.paid_at is None or order.payment_method == Order.Method.FREE:
        return ZERO
    return max(order.total - order.refunded_amount - order.refund_owed, ZERO)


def plan_refund(order, *, kind, ticket_ids=(), amount=None, fee=ZERO):
    """Return the Plan of refunding ``order`` so, or raise RefundRefused saying why not."""
    left = refundable(order)
    check_order(order, left)
    valid = [] if order.status == Status.REFUNDED else list(valid_tickets(order))
    if kind == Kind.ORDER:
        fee = checked_fee(fee, left, order.currency)
        return Plan(order, kind, left - fee, tuple(valid), fee, ends_order=True)
    if kind == Kind.TICKETS:
        chosen = chosen_tickets(order, ticket_ids, valid)
        price = sum((ticket.price for ticket in chosen), ZERO)
        amount = min(price, left)
        if amount <= 0:
            raise RefundRefused("These tickets were free: there is nothing to refund.")
        ends = len(chosen) == len(valid) or order.refunded_amount + amount >= order.total
        return Plan(order, kind, amount, tuple(chosen), ZERO, ends_order=ends)
    amount = checked_amount(amount, left, order.currency)
    ends = order.refunded_amount + amount >= order.total
    return Plan(order, Kind.AMOUNT, amount, tuple(valid) if ends else (), ZERO, ends_order=ends)


def check_order(order, left):
    if order.payment_method == Order.Method.FREE or order.total == 0:
        raise RefundRefused(f"Order {order.code} was free: nothing was paid.")
    if order.paid_at is None or order.status not in (*Order.PAID_STATUSES, Status.REFUNDED):
        status = order.get_status_display().lower()
        raise RefundRefused(f"Order {order.code} is {status}: only paid orders are refunded.")
    if order.payment_method == Order.Method.STRIPE and not order.stripe_payment_intent_id:
        raise RefundRefused(f"Order {order.code} has no card payment to refund.")
    if left <= 0:
        done = money.format_amount(order.refunded_amount, order.currency)
        raise RefundRefused(
            f"Nothing is left to refund of order {order.code}: {done} was refunded already"
            + (" and the rest is owed back by bank transfer." if order.refund_owed else ".")
        )


def valid_tickets(order):
    return order.tickets.filter(refund__isnull=True).select_related("ticket_type").order_by("id")


def chosen_tickets(order, ticket_ids, valid):
    try:
        ids = {int(ticket_id) for ticket_id in ticket_ids}
    except (TypeError, ValueError):
        raise RefundRefused("Choose the tickets to refund from the list.") from None
    if not ids:
        raise RefundRefused("Choose the tickets to refund.")
    chosen = [ticket for ticket in valid if ticket.pk in ids]
    if len(chosen) != len(ids):
        gone = order.tickets.filter(pk__in=ids, refund__isnull=False).values_list("code", flat=True)
        if gone:
            raise RefundRefused(f"Ticket {', '.join(gone)} was refunded already.")
        raise RefundRefused(f"Choose tickets of order {order.code} that are still valid.")
    return chosen


def parse_amount(value, currency, what="The amount"):
    """Return ``value`` as an amount of the currency, or raise RefundRefused."""
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise RefundRefused(f"{what} must be a number, such as 12.50.") from None
    if not amount.is_finite():
        raise RefundRefused(f"{what} must be a number, such as 12.50.")
    if amount != money.quantize(amount, currency):
        step = money.format_amount(money.currency(currency).step, currency)
        raise RefundRefused(f"{what} must be a whole number of {step}.")
    return amount


def checked_amount(value, left, currency):
    if value in (None, ""):
        raise RefundRefused("Give the amount to refund.")
    amount = parse_amount(value, currency)
    if amount <= 0:
        raise RefundRefused("The amount to refund must be more than zero.")
    if amount > left:
        raise RefundRefused(
            f"At most {money.format_amount(left, currency)} can be refunded: "
            "never more than was paid and not refunded yet."
        )
    return amount


def checked_fee(value, left, currency):
    fee = parse_amount(value or ZERO, currency, what="The fee")
    if fee < 0:
        raise RefundRefused("The fee cannot be negative.")
    if fee >= left:
        raise RefundRefused(
            f"The fee of {money.format_amount(fee, currency)} leaves nothing to refund."
        )
    return fee


# -- Refunding ---------------------------------------------------------------------------


def refund(
    *,
    order,
    kind,
    reason,
    ticket_ids=(),
    amount=None,
    fee=ZERO,
    version=None,
    actor=None,
    ending=emails.Ending.REFUNDED,
    check=None,
):
    """Refund the order as planned (``version``: the plan the organiser saw); return the Refund.

    Raise RefundRefused, changing nothing, when the refund is not possible now or the order
    changed since the plan was shown. ``check``, called with the locked order, may refuse
    too (by raising) or return the fee to keep: a buyer's cancellation decides so under the
    same lock. A card refund is sent to Stripe after the commit.
    """
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if check is not None:
            fee = check(locked)
        plan = plan_refund(locked, kind=kind, ticket_ids=ticket_ids, amount=amount, fee=fee)
        if version is not None and plan.version != version:
            raise RefundRefused(
                f"Order {locked.code} changed since the refund was shown (it is "
                f"{locked.get_status_display().lower()}, {locked.refunded_amount} refunded), "
                "so nothing was refunded. Please look at it again."
            )
        row = record(plan, reason=reason, actor=actor, ending=ending)
    if row.method == Refund.Method.CARD:
        send_to_stripe(row, rest=plan.kind == Kind.ORDER and not plan.fee)
    row.refresh_from_db()
    return row


def record(plan, *, reason, actor, ending):
    """Record the planned refund on the locked order: count it, void its tickets, credit, tell."""
    order = plan.order
    method = plan.method
    row = Refund.objects.create(
        order=order,
        amount=plan.amount,
        currency=order.currency,
        method=method,
        status=Refund.Status.PENDING if method == Refund.Method.CARD else Refund.Status.SUCCEEDED,
        reason=reason[:200],
        created_by=actor,
    )
    recount(order)
    how = "to the card" if method == Refund.Method.CARD else "by bank transfer"
    note = f"{money.format_amount(plan.amount, order.currency)} refunded {how}: {reason}"
    if plan.tickets:
        note += f" Tickets cancelled: {', '.join(ticket.code for ticket in plan.tickets)}."
    # Moved before its tickets are marked: a move that frees the order's seats counts them.
    move(order, plan.ends_order, note, actor)
    Ticket.objects.filter(pk__in=[ticket.pk for ticket in plan.tickets]).update(refund=row)
    if plan.tickets and not plan.ends_order:
        waitlist.seats_freed([ticket.ticket_type_id for ticket in plan.tickets])
    credit(plan, reason=reason, actor=actor)
    tasks.send_refund.enqueue(order.pk, row.pk, str(ending))
    return row


def move(order, ends, note, actor=None):
    """Move the locked order to refunded or partly refunded, or only note it if it is already."""
    target = Status.REFUNDED if ends or order.refunded_amount >= order.total else None
    target = target or Status.PARTLY_REFUNDED
    if order.status == Status.REFUNDED or target not in lifecycle.NEXT_STATUSES[order.status]:
        order.save()
        lifecycle.log(order, order.status, order.status, note, actor)
        return
    lifecycle.set_status(order, target, note, actor=actor)


def credit(plan, *, reason, actor):
    """Issue the credit note of an invoiced order's refund: the tickets (less a fee) or a part."""
    invoice = plan.invoice
    if invoice is None:
        return None
    order = plan.order
    if plan.ends_order and not plan.fee:
        return credit_notes.credit_rest(order=order, reason=reason or "Refund.", actor=actor)
    left = invoice.total - credited(invoice)
    amount = min(plan.amount, left)
    if amount <= 0:
        return None
    lines = None
    if plan.tickets:
        lines = credit_notes.ticket_lines(order=order, tickets=plan.tickets)
        if plan.fee:
            lines.append(credit_notes.fee_line(order=order, fee=plan.fee))
        if sum(Decimal(line["amount"]) for line in lines) != amount:
            lines = None
    return credit_notes.issue_credit_note(
        order=order, amount=amount, reason=reason or "Refund.", lines=lines, actor=actor
    )


def refund_order(*, order, actor=None):
    """Refund all that is left of a paid card order through Stripe (the admin's list action)."""
    order.refresh_from_db()
    if order.payment_method != Order.Method.STRIPE or order.status not in Order.PAID_STATUSES:
        raise OrderError(f"Order {order.code} is not a paid card order.")
    row = refund(
        order=order, kind=Kind.ORDER, reason="Refunded in full by an organiser.", actor=actor
    )
    order.refresh_from_db()
    if row.status == Refund.Status.FAILED:
        raise OrderError(f"Stripe did not refund order {order.code}: {row.failure_reason}")
    return order


# -- Stripe --------------------------------------------------------------------------------


def send_to_stripe(row, *, rest=False):
    """Ask Stripe for the card refund and record its answer; leave it pending if unreachable.

    With ``rest`` (the whole order) no amount is sent: Stripe refunds what it still holds,
    which is less when part was refunded in its dashboard meanwhile; the refund is then
    recorded at the amount Stripe gave back.
    """
    order = row.order
    key, metadata = f"refund-{row.pk}", {"order_code": order.code, "refund_id": str(row.pk)}
    try:
        if rest:
            answer = payments.refund_rest(
                order.stripe_payment_intent_id, key=key, metadata=metadata
            )
        else:
            answer = payments.create_refund(
                order.stripe_payment_intent_id,
                amount=money.to_minor_units(row.amount, row.currency),
                key=key,
                metadata=metadata,
            )
    except stripe.InvalidRequestError as error:
        # Stripe refused it (more than the charge has left, say): no money moved.
        settle(row, status=Refund.Status.FAILED, failure=str(error.user_message or error))
        return
    except stripe.StripeError as error:
        logger.warning("Refund %s of %s not sent to Stripe yet: %s", row.pk, order.code, error)
        return
    if answer is None:
        failure = "Stripe says the payment was refunded already"
        settle(row, status=Refund.Status.FAILED, failure=failure)
        return
    settle(row, stripe_refund=answer)


def settle(row, *, stripe_refund=None, status=None, failure=""):
    """Record Stripe's answer about our refund, under the order's lock."""
    with transaction.atomic():
        order = capacity.lock_order(row.order)
        row = Refund.objects.select_for_update().get(pk=row.pk)
        apply(order, row, stripe_refund, status=status, failure=failure)
    return row


def apply(order, row, stripe_refund, *, status=None, failure=""):
    """Bring the locked refund up to date; a failure stops it counting and is noted."""
    if stripe_refund is not None:
        row.stripe_refund_id = row.stripe_refund_id or stripe_refund.id
        status = STRIPE_STATUSES.get(stripe_refund.status, Refund.Status.PENDING)
        failure = stripe_refund.failure_reason or ""
        # A refund of the rest gives back what Stripe held, which may be less than planned.
        row.amount = money.from_minor_units(stripe_refund.amount, row.currency)
    if row.status == Refund.Status.FAILED or status is None:
        row.save()  # a failure is final: Stripe never revives a failed refund
        return
    row.status = status
    row.failure_reason = failure[:300]
    row.save()
    recount(order)
    order.save()
    if status == Refund.Status.FAILED:
        owed = money.format_amount(row.amount, row.currency)
        note = (
            f"Refund of {owed} failed ({failure or 'no reason given'}): the money is still owed. "
            "Refund it again, or return it by bank transfer."
        )
        lifecycle.log(order, order.status, order.status, note)


def send_unsent_refunds(*, now=None):
    """Send again the card refunds Stripe could not be asked about; return how many were sent.

    Also read back from Stripe the refunds still pending there after STALE_PENDING, in case
    its event about how they ended was lost.
    """
    now = now or timezone.now()
    stale = Refund.objects.filter(
        method=Refund.Method.CARD,
        status=Refund.Status.PENDING,
        stripe_refund_id__isnull=False,
        updated_at__lt=now - STALE_PENDING,
    ).select_related("order")
    for row in stale:
        try:
            settle(row, stripe_refund=payments.fetch_refund(row.stripe_refund_id))
        except stripe.StripeError as error:
            logger.warning("Could not ask Stripe about refund %s: %s", row.pk, error)
    unsent = Refund.objects.filter(
        method=Refund.Method.CARD,
        status=Refund.Status.PENDING,
        stripe_refund_id__isnull=True,
        created_at__lt=now - dt.timedelta(seconds=RESEND_AFTER),
    ).select_related("order")
    for row in unsent:
        send_to_stripe(row)
    return len(unsent)


def reconcile_stripe_refunds(*, order):
    """Record every refund Stripe holds of the order's payment, each once; return the new ones.

    Ours are found by id or by the ``refund_id`` in their metadata and only updated; others
    (made in Stripe's dashboard) are recorded as refunds of an amount.
    """
    found = payments.list_refunds(order.stripe_payment_intent_id)
    new = []
    for stripe_refund in sorted(found, key=lambda item: (item.created or 0, item.id)):
        with transaction.atomic():
            locked = capacity.lock_order(order)
            row = match(locked, stripe_refund)
            if row is not None:
                apply(locked, row, stripe_refund)
            else:
                new.append(record_from_stripe(locked, stripe_refund))
    return [row for row in new if row is not None]


def match(order, stripe_refund):
    rows = Refund.objects.select_for_update().filter(order=order)
    row = rows.filter(stripe_refund_id=stripe_refund.id).first()
    ours = (stripe_refund.metadata or {}).get("refund_id", "")
    if row is None and ours.isdigit():
        row = rows.filter(pk=int(ours), stripe_refund_id__isnull=True).first()
    return row


def record_from_stripe(order, stripe_refund):
    """Record on the locked order a refund Stripe made that this site did not ask for."""
    status = STRIPE_STATUSES.get(stripe_refund.status, Refund.Status.PENDING)
    amount = money.from_minor_units(stripe_refund.amount, order.currency)
    made_here = bool((stripe_refund.metadata or {}).get("order_code"))
    row = Refund.objects.create(
        order=order,
        amount=amount,
        currency=order.currency,
        method=Refund.Method.CARD,
        status=status,
        origin=Refund.Origin.SITE if made_here else Refund.Origin.STRIPE_DASHBOARD,
        reason="Refunded in Stripe's dashboard." if not made_here else "Refunded by this site.",
        stripe_refund_id=stripe_refund.id,
        failure_reason=stripe_refund.failure_reason or "",
    )
    if status == Refund.Status.FAILED or order.status not in (
        *Order.PAID_STATUSES,
        Status.REFUNDED,
    ):
        # Nothing moved, or a late payment's refund already recorded the money as gone back.
        return None
    before = order.refunded_amount
    recount(order)
    counted = order.refunded_amount - before
    note = f"Stripe refunded {money.format_amount(amount, order.currency)}."
    ends = order.refunded_amount >= order.total
    move(order, ends, note)
    plan = Plan(order, Kind.AMOUNT, counted, (), ZERO, ends_order=ends)
    if counted > 0:
        credit(plan, reason="Refunded through Stripe.", actor=None)
        tasks.send_refund.enqueue(order.pk, row.pk, str(emails.Ending.REFUNDED))
    return row
