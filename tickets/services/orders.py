"""Orders: pricing, seats under a lock, creating orders and organiser actions."""

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import OperationalError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format

from tickets import emails, money, payments
from tickets.models import (
    Order,
    OrderEvent,
    Ticket,
    TicketType,
    Voucher,
    holding_seats_q,
    random_code,
)
from tickets.services import credit_notes, invoices
from tickets.services.seatcap import hash_client, lock_buyer, seat_cap_problem
from workshop.cache import TICKETS, bump_content_version

logger = logging.getLogger(__name__)

Status = Order.Status
Method = Order.Method
ZERO = Decimal("0")
# Optional billing details a buyer may give for the invoice (besides the address).
BILLING_FIELDS = ("billing_name", "vat_number", "po_number")


class OrderError(Exception):
    """A reason, in words for the buyer or organiser, why something cannot be done."""


class Busy(OrderError):
    """The capacity lock could not be taken in time: the buyer should try again."""


class TooManyUnpaidSeats(OrderError):
    """The buyer's address or network already holds as many unpaid seats as allowed."""


class PaymentUnavailable(OrderError):
    """Stripe could not be reached or refused; nothing was charged."""


@dataclass
class Line:
    ticket_type: TicketType
    quantity: int
    unit_price: Decimal

    @property
    def amount(self):
        return self.unit_price * self.quantity


@dataclass
class Quote:
    currency: str
    lines: list = field(default_factory=list)
    voucher: Voucher | None = None

    @property
    def subtotal(self):
        return sum(
            (
                money.quantize(line.ticket_type.price, self.currency) * line.quantity
                for line in self.lines
            ),
            ZERO,
        )

    @property
    def total(self):
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def discount_total(self):
        return self.subtotal - self.total

    @property
    def quantity(self):
        return sum(line.quantity for line in self.lines)

    @property
    def invoice_allowed(self):
        return all(line.ticket_type.invoice_allowed for line in self.lines)


# -- Pricing ---------------------------------------------------------------------------


def clean_ticket_counts(ticket_counts):
    """Return {ticket type id: quantity} without zeros, or raise OrderError."""
    counts = {}
    for key, value in ticket_counts.items():
        try:
            type_id, quantity = int(getattr(key, "pk", key)), int(value)
        except (TypeError, ValueError):
            raise OrderError("Quantities must be whole numbers.") from None
        if quantity < 0:
            raise OrderError("Quantities cannot be negative.")
        if quantity:
            counts[type_id] = quantity
    if not counts:
        raise OrderError("Choose at least one ticket.")
    return counts


def find_voucher(*, workshop, code, lock=False):
    """Return the voucher with this code (any case), or None for an empty code."""
    code = (code or "").strip().upper()
    if not code:
        return None
    if "\x00" in code:
        # PostgreSQL refuses NUL characters in a query; no code has one.
        raise OrderError("This voucher code is not valid.")
    queryset = Voucher.objects.filter(workshop=workshop, code=code).prefetch_related("ticket_types")
    if lock:
        queryset = queryset.select_for_update()
    voucher = queryset.first()
    if voucher is None:
        raise OrderError("This voucher code is not valid.")
    if not voucher.is_valid_at(timezone.now()):
        raise OrderError("This voucher code has expired.")
    return voucher


def discounted_price(ticket_type, voucher, currency):
    """Return what one ticket of this type costs with the voucher."""
    if voucher is None or not voucher_applies(voucher, ticket_type):
        return money.quantize(ticket_type.price, currency)
    return voucher.discounted_price(ticket_type.price, currency)


def voucher_applies(voucher, ticket_type):
    limited = {t.id for t in voucher.ticket_types.all()}
    return ticket_type.id in limited if limited else ticket_type.visible


def build_quote(*, workshop, types_by_id, counts, voucher, now):
    """Check every chosen type against its rules and price it; raise OrderError."""
    quote = Quote(currency=workshop.currency.upper(), voucher=voucher)
    unlocked = {t.id for t in voucher.ticket_types.all()} if voucher else set()
    for type_id, quantity in sorted(counts.items()):
        ticket_type = types_by_id.get(type_id)
        if ticket_type is None or not (ticket_type.visible or type_id in unlocked):
            raise OrderError("One of the chosen ticket types is not available.")
        check_sale_window(ticket_type, now, workshop.tzinfo)
        if not ticket_type.min_per_order <= quantity <= ticket_type.max_per_order:
            raise OrderError(
                f"Choose between {ticket_type.min_per_order} and {ticket_type.max_per_order} "
                f"“{ticket_type.name}” tickets per order."
            )
        price = discounted_price(ticket_type, voucher, quote.currency)
        quote.lines.append(Line(ticket_type, quantity, price))
    if voucher and not any(voucher_applies(voucher, line.ticket_type) for line in quote.lines):
        raise OrderError("This voucher code does not apply to the tickets you chose.")
    return quote


def check_sale_window(ticket_type, now, tzinfo):
    if ticket_type.sales_not_started(now):
        local = timezone.localtime(ticket_type.sale_starts_at, tzinfo)
        opens = date_format(local, "j F Y, H:i e")
        raise OrderError(f"Sales of “{ticket_type.name}” open on {opens}.")
    if not ticket_type.is_on_sale(now):
        raise OrderError(f"Sales of “{ticket_type.name}” have closed.")


def quote_order(*, workshop, ticket_counts, voucher_code=None):
    """Price a choice of tickets for the checkout page (no lock, no seat check)."""
    counts = clean_ticket_counts(ticket_counts)
    types = TicketType.objects.filter(workshop=workshop, id__in=counts)
    voucher = find_voucher(workshop=workshop, code=voucher_code)
    return build_quote(
        workshop=workshop,
        types_by_id={t.id: t for t in types},
        counts=counts,
        voucher=voucher,
        now=timezone.now(),
    )


# -- Seats -----------------------------------------------------------------------------


def seats_taken(type_ids, *, now, exclude_order=None):
    """Return {ticket type id: seats held now}, counted from tickets of holding orders."""
    tickets = Ticket.objects.filter(ticket_type_id__in=type_ids).filter(
        holding_seats_q(now, prefix="order__")
    )
    if exclude_order is not None:
        tickets = tickets.exclude(order=exclude_order)
    rows = tickets.values("ticket_type_id").annotate(n=Count("id")).order_by()
    return {row["ticket_type_id"]: row["n"] for row in rows}


def check_capacity(counts, types_by_id, *, now, exclude_order=None):
    taken = seats_taken(list(counts), now=now, exclude_order=exclude_order)
    for type_id, quantity in sorted(counts.items()):
        ticket_type = types_by_id[type_id]
        if ticket_type.capacity is None:
            continue
        left = max(ticket_type.capacity - taken.get(type_id, 0), 0)
        if quantity > left:
            if left == 0:
                raise OrderError(f"“{ticket_type.name}” is sold out.")
            raise OrderError(f"Only {left} “{ticket_type.name}” tickets are left.")


def lock_ticket_types(type_ids):
    """Lock the ticket type rows in id order, so that concurrent buyers queue, never deadlock."""
    if connection.vendor == "postgresql":
        # A buyer waits this long for the lock, then is told to try again.
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {int(settings.TICKETS_LOCK_TIMEOUT_MS)}")
    rows = TicketType.objects.select_for_update().filter(id__in=type_ids).order_by("id")
    return {t.id: t for t in rows}


def is_lock_failure(error):
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    # 55P03 lock_not_available, 40P01 deadlock, 40001 serialization failure.
    return sqlstate in {"55P03", "40P01", "40001"} or "database is locked" in str(error)


def check_voucher_uses(voucher, *, now):
    if voucher is None or voucher.max_uses is None:
        return
    used = voucher.orders.filter(holding_seats_q(now)).count()
    if used >= voucher.max_uses:
        raise OrderError("This voucher code has been used up.")


# -- Creating orders -------------------------------------------------------------------


def clean_people(buyer, attendees, quantity):
    """Return the buyer and attendees as stripped dicts, or raise OrderError."""
    people = [buyer, *attendees]
    cleaned = []
    for person in people:
        name = (person.get("name") or "").strip()
        email = (person.get("email") or "").strip()
        try:
            validate_email(email)
        except ValidationError:
            raise OrderError("Every name and a valid e-mail address are needed.") from None
        if not name:
            raise OrderError("Every name and a valid e-mail address are needed.")
        cleaned.append({"name": name, "email": email})
    if len(attendees) != quantity:
        raise OrderError(f"Give a name and e-mail address for each of the {quantity} attendees.")
    return cleaned[0], cleaned[1:]


def choose_method(quote, payment_method):
    if quote.total == ZERO:
        return Method.FREE
    if payment_method == Method.STRIPE and payments.card_payment_enabled():
        return Method.STRIPE
    if payment_method == Method.INVOICE and quote.invoice_allowed:
        return Method.INVOICE
    raise OrderError("Choose a payment method that is offered for these tickets.")


def new_order_code():
    while True:
        code = random_code(8)
        if not Order.objects.filter(code=code).exists():
            return code


def create_order(
    *,
    workshop,
    ticket_counts,
    buyer,
    attendees,
    voucher_code=None,
    payment_method,
    user=None,
    invoice_details="",
    billing=None,
    client_address=None,
):
    """Check the choice, reserve the seats and create the order with its tickets.

    Free orders are confirmed at once; card orders hold their seats for the
    reservation time; invoice orders hold them until an organiser marks them paid.
    Unpaid seats per buyer address and per ``client_address`` are capped (seatcap.py).
    """
    counts = clean_ticket_counts(ticket_counts)
    buyer, attendees = clean_people(buyer, list(attendees), sum(counts.values()))
    client_hash = hash_client(client_address)
    try:
        with transaction.atomic():
            lock_buyer(email=buyer["email"], client_hash=client_hash)
            types_by_id = lock_ticket_types(list(counts))
            types_by_id = {k: v for k, v in types_by_id.items() if v.workshop_id == workshop.id}
            voucher = find_voucher(workshop=workshop, code=voucher_code, lock=True)
            # Read the clock only once every lock is held: see lock_order_and_seats.
            now = timezone.now()
            quote = build_quote(
                workshop=workshop, types_by_id=types_by_id, counts=counts, voucher=voucher, now=now
            )
            check_voucher_uses(voucher, now=now)
            check_capacity(counts, types_by_id, now=now)
            method = choose_method(quote, payment_method)
            if method != Method.FREE and (
                problem := seat_cap_problem(
                    email=buyer["email"], client_hash=client_hash, quantity=quote.quantity, now=now
                )
            ):
                raise TooManyUnpaidSeats(problem)
            if method == Method.INVOICE and not invoice_details.strip():
                raise OrderError("Give the invoice address for payment by invoice.")
            buyer = {**buyer, "invoice_details": invoice_details.strip(), "billing": billing or {}}
            buyer["client_hash"] = client_hash
            order = save_order(workshop, quote, method, buyer, attendees, user, now)
    except OperationalError as error:
        if is_lock_failure(error):
            raise Busy("Many people are buying tickets right now. Please try again.") from error
        raise
    return order


def save_order(workshop, quote, method, buyer, attendees, user, now):
    order = Order.objects.create(
        workshop=workshop,
        code=new_order_code(),
        buyer_name=buyer["name"],
        buyer_email=buyer["email"],
        invoice_details=buyer["invoice_details"],
        **{key: buyer["billing"].get(key, "").strip() for key in BILLING_FIELDS},
        user=user if user is not None and user.is_authenticated else None,
        payment_method=method,
        voucher=quote.voucher,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        total=quote.total,
        currency=quote.currency,
        code_of_conduct_accepted_at=now,
        client_hash=buyer.get("client_hash", ""),
        reserved_until=now + dt.timedelta(minutes=settings.TICKETS_RESERVATION_MINUTES)
        if method == Method.STRIPE
        else None,
        payment_due_on=workshop.invoice_due_date(now) if method == Method.INVOICE else None,
    )
    people = iter(attendees)
    tickets = []
    for line in quote.lines:
        for _ in range(line.quantity):
            person = next(people)
            tickets.append(
                Ticket(
                    order=order,
                    ticket_type=line.ticket_type,
                    attendee_name=person["name"],
                    attendee_email=person["email"],
                    code=random_code(10),
                    price=line.unit_price,
                )
            )
    Ticket.objects.bulk_create(tickets)
    # bulk_create sends no signals: make the cached ticket page ("N left") stale here.
    bump_content_version(TICKETS)
    # The buyer acts when signed in; otherwise the event has no actor.
    note = f"Order created ({order.get_payment_method_display()})."
    log(order, "", Status.PENDING, note, actor=order.user)
    if method == Method.FREE:
        set_status(order, Status.PAID, "Free order confirmed.", actor=order.user, paid=True)
    elif method == Method.INVOICE:
        # The invoice is the payment request, so it is issued with the order.
        invoices.issue_invoice(order=order)
        transaction.on_commit(lambda: emails.send_confirmation(order), robust=True)
    return order


def log(order, from_status, to_status, note, actor=None):
    OrderEvent.objects.create(
        order=order, from_status=from_status, to_status=to_status, note=note, actor=actor
    )


# Orders only move forward. A payment can still arrive for an expired or cancelled
# order: it is then accepted (seats permitting) or refunded.
NEXT_STATUSES = {
    Status.PENDING: {
        Status.PROCESSING,
        Status.PAID,
        Status.EXPIRED,
        Status.CANCELLED,
        Status.REFUNDED,
    },
    Status.PROCESSING: {Status.PAID, Status.EXPIRED},
    Status.PAID: {Status.PARTLY_REFUNDED, Status.REFUNDED, Status.CANCELLED},
    # A second partial refund keeps the order partly refunded, with a larger amount.
    Status.PARTLY_REFUNDED: {Status.PARTLY_REFUNDED, Status.REFUNDED},
    Status.EXPIRED: {Status.PAID, Status.REFUNDED},
    Status.CANCELLED: {Status.REFUNDED},
    Status.REFUNDED: set(),
}


def set_status(order, status, note, *, actor=None, paid=False):
    """Move the (locked) order to a new status, record why, and confirm a payment by e-mail."""
    previous = order.status
    if status not in NEXT_STATUSES[previous]:
        raise ValueError(f"Order {order.code} cannot go from {previous} to {status}.")
    order.status = status
    if paid:
        order.paid_at = timezone.now()
    order.save()
    log(order, previous, status, note, actor)
    if paid:
        invoices.issue_invoice(order=order)
        transaction.on_commit(lambda: emails.send_confirmation(order), robust=True)


def lock_order(order):
    """Lock the order's row only (not its workshop's, which every new order needs)."""
    return Order.objects.select_for_update(of=("self",)).select_related("workshop").get(pk=order.pk)


def lock_order_and_seats(order):
    """Lock what decides whether the order may hold its seats; return (locked order, now).

    The locks are those create_order takes, in its order: the ticket type rows in id order,
    the voucher row, then the order row. A payment and a new order therefore queue instead of
    deadlocking, and the clock is read only once all are held, so an order whose reservation
    ends meanwhile is judged by the same time as the buyer who takes its seat.
    """
    lock_ticket_types(list(order_counts(order)))
    if order.voucher_id is not None:
        Voucher.objects.select_for_update().filter(pk=order.voucher_id).first()
    return lock_order(order), timezone.now()


def seats_remain_for(order, *, now):
    """Return whether the order's seats, and a use of its voucher, are still free for it.

    Call it under lock_order_and_seats, with the time that returned.
    """
    counts = order_counts(order)
    types_by_id = TicketType.objects.in_bulk(list(counts))
    try:
        check_capacity(counts, types_by_id, now=now, exclude_order=order)
    except OrderError:
        return False
    voucher = order.voucher
    if voucher is None or voucher.max_uses is None:
        return True
    used = voucher.orders.filter(holding_seats_q(now)).exclude(pk=order.pk).count()
    return used < voucher.max_uses


def order_counts(order):
    return dict(Counter(order.tickets.values_list("ticket_type_id", flat=True)))


def release_order(*, order, note, actor=None):
    """Expire a pending order so its seats are free again."""
    with transaction.atomic():
        locked = lock_order(order)
        if locked.status == Status.PENDING:
            set_status(locked, Status.EXPIRED, note, actor=actor)
    return locked


# -- Organiser actions -----------------------------------------------------------------


def mark_invoice_paid(*, order, actor=None):
    """Record the bank transfer of an invoice order, under the locks every payment takes."""
    try:
        with transaction.atomic():
            locked, _now = lock_order_and_seats(order)
            if locked.payment_method != Method.INVOICE or locked.status != Status.PENDING:
                raise OrderError(f"Order {locked.code} is not an unpaid invoice order.")
            # A pending invoice order holds its seats until it is paid or cancelled.
            set_status(locked, Status.PAID, "Invoice marked paid.", actor=actor, paid=True)
    except OperationalError as error:
        if is_lock_failure(error):
            raise Busy("Tickets are being sold right now. Please try again.") from error
        raise
    return locked


def cancel_order(*, order, actor=None):
    """Cancel an unpaid order, or a paid free or invoice order; card orders are refunded instead."""
    with transaction.atomic():
        locked = lock_order(order)
        paid_outside_stripe = (
            locked.status == Status.PAID and locked.payment_method != Method.STRIPE
        )
        if not (locked.status == Status.PENDING or paid_outside_stripe):
            raise OrderError(f"Order {locked.code} is {locked.get_status_display().lower()}.")
        set_status(locked, Status.CANCELLED, "Cancelled by an organiser.", actor=actor)
        credit_notes.credit_rest(order=locked, reason="Order cancelled.", actor=actor)
        if paid_outside_stripe and locked.payment_method == Method.INVOICE:
            # Nothing can be refunded to a bank account automatically: the organisers must.
            locked.refund_owed = locked.total - locked.refunded_amount
            locked.save(update_fields=["refund_owed", "updated_at"])
            owed = money.format_amount(locked.refund_owed, locked.currency)
            log(locked, locked.status, locked.status, f"{owed} to return by bank transfer.", actor)
    return locked


def check_in(*, ticket, now=None, actor=None):
    """Check a ticket in for admin actions and commands; raise OrderError unless it was.

    A refusal gives the reason, an earlier check-in its time and organiser. The rule and the
    check-in log live in tickets.services.checkin, shared with the door page.
    """
    from tickets.services.checkin import check_in_ticket

    outcome = check_in_ticket(ticket=ticket, actor=actor, now=now)
    if outcome.result != "checked_in":
        raise OrderError(outcome.message)
    return outcome.ticket


def resend_confirmation(*, order):
    emails.send_confirmation(order)


def send_order_links(*, email):
    """E-mail the buyer the links of their orders; say nothing about whether there are any."""
    orders = list(Order.objects.filter(buyer_email__iexact=email.strip()).order_by("created_at"))
    if orders:
        emails.send_order_links(orders[0].buyer_email, orders)


def attendee_edit_open(order, now=None):
    now = now or timezone.now()
    cutoff = order.workshop.starts_at - dt.timedelta(
        hours=settings.TICKETS_ATTENDEE_EDIT_CUTOFF_HOURS
    )
    return now < cutoff and order.holds_seats(now)


def update_attendee(*, ticket, name, email):
    """Correct a ticket's attendee until the cut-off before the workshop."""
    _, (person,) = clean_people({"name": name, "email": email}, [{"name": name, "email": email}], 1)
    with transaction.atomic():
        order = lock_order(ticket.order)
        if not attendee_edit_open(order):
            raise OrderError("Attendee details can no longer be changed for this order.")
        ticket.attendee_name, ticket.attendee_email = person["name"], person["email"]
        ticket.save(update_fields=["attendee_name", "attendee_email"])
        log(order, order.status, order.status, f"Attendee of {ticket.code} corrected.")
    return ticket
