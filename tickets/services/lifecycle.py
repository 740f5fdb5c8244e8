"""An order's life: placed, paid (or processing), then refunded, cancelled or expired.

Every move locks the order row, checks the move is allowed (NEXT_STATUSES: orders only move
forward), records it in the order's history and sends e-mail after the commit. Moves that let an
order hold seats again (a payment) decide under the locks that creating an order takes
(capacity.lock_order_and_seats). Card payments through Stripe are in stripe_checkout.py, which
calls these moves.
"""

import datetime as dt
import enum
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import OperationalError, transaction
from django.utils import timezone

from tickets import emails, money, payments, tasks
from tickets.models import Order, OrderEvent, Ticket, random_code
from tickets.services import capacity, credit_notes, invoices, pricing, stripe_checkout, waitlist
from tickets.services.errors import Busy, OrderError, TooManyUnpaidSeats
from workshop.cache import TICKETS, bump_content_version

logger = logging.getLogger(__name__)

Status = Order.Status
Method = Order.Method
# Optional billing details a buyer may give for the invoice (besides the address).
BILLING_FIELDS = ("billing_name", "vat_number", "po_number")


class Payment(enum.StrEnum):
    """What recording a payment did."""

    PAID = "paid"
    PAID_LATE = "paid late"
    REFUND_DUE = "refund due"
    ALREADY_PAID = "already paid"
    ALREADY_REFUNDED = "already refunded"


# -- Placing orders --------------------------------------------------------------------


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
    if quote.total == 0:
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
    Unpaid seats per buyer address and per ``client_address`` are capped
    (capacity.seat_cap_problem). Free seats go to the people on the waiting list first; a
    waiting-list offer's voucher buys the seat its offer holds, once.
    """
    counts = pricing.clean_ticket_counts(ticket_counts)
    buyer, attendees = clean_people(buyer, list(attendees), sum(counts.values()))
    client_hash = capacity.hash_client(client_address)
    try:
        with transaction.atomic():
            capacity.lock_buyer(email=buyer["email"], client_hash=client_hash)
            types_by_id = capacity.lock_ticket_types(list(counts))
            types_by_id = {k: v for k, v in types_by_id.items() if v.workshop_id == workshop.id}
            voucher = pricing.find_voucher(workshop=workshop, code=voucher_code, lock=True)
            # Read the clock only once every lock is held: see capacity.lock_order_and_seats.
            now = timezone.now()
            quote = pricing.build_quote(
                workshop=workshop, types_by_id=types_by_id, counts=counts, voucher=voucher, now=now
            )
            offer = waitlist.claim_offer(voucher, counts, now=now)
            capacity.check_voucher_uses(voucher, now=now)
            capacity.check_capacity(counts, types_by_id, now=now, offer=offer, queue=True)
            method = choose_method(quote, payment_method)
            # Free seats count too: they cost nothing to take, and never run out by themselves.
            if problem := capacity.seat_cap_problem(
                email=buyer["email"], client_hash=client_hash, quantity=quote.quantity, now=now
            ):
                raise TooManyUnpaidSeats(problem)
            if method == Method.INVOICE and not invoice_details.strip():
                raise OrderError("Give the invoice address for payment by invoice.")
            buyer = {**buyer, "invoice_details": invoice_details.strip(), "billing": billing or {}}
            buyer["client_hash"] = client_hash
            order = save_order(workshop, quote, method, buyer, attendees, user, now)
            if offer is not None:
                waitlist.use_offer(offer, order)
    except OperationalError as error:
        if capacity.is_lock_failure(error):
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
        tasks.send_confirmation.enqueue(order.pk, paid=False)
    return order


def log(order, from_status, to_status, note, actor=None):
    OrderEvent.objects.create(
        order=order, from_status=from_status, to_status=to_status, note=note, actor=actor
    )


# -- Moving an order on -----------------------------------------------------------


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


# Moves after which an order's seats may be free for the waiting list.
RELEASING_STATUSES = {Status.EXPIRED, Status.CANCELLED, Status.REFUNDED}


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
    if status in RELEASING_STATUSES:
        waitlist.seats_freed(capacity.seat_counts(order))
    if paid:
        invoices.issue_invoice(order=order)
        tasks.send_confirmation.enqueue(order.pk, paid=True)


# -- Payments --------------------------------------------------------------------------


def record_payment(order, *, now, note, late_note="", actor=None):
    """Mark paid an order locked by capacity.lock_order_and_seats at ``now``, if it may be.

    An order that holds its seats is paid; one whose seats were released (its reservation ran
    out) is paid late if its seats and voucher use are still free, else a refund is due.
    """
    if order.status in (Status.PAID, Status.PARTLY_REFUNDED, Status.REFUNDED):
        order.save()
        return Payment.ALREADY_REFUNDED if order.status == Status.REFUNDED else Payment.ALREADY_PAID
    if order.holds_seats(now):
        set_status(order, Status.PAID, note, actor=actor, paid=True)
        return Payment.PAID
    if order.status != Status.CANCELLED and capacity.seats_remain_for(order, now=now):
        late_note = late_note or f"{note} Late, but seats remained."
        set_status(order, Status.PAID, late_note, actor=actor, paid=True)
        return Payment.PAID_LATE
    order.save()
    log(order, order.status, order.status, "Payment arrived without seats: refund due.")
    return Payment.REFUND_DUE


def mark_invoice_paid(*, order, actor=None):
    """Record the bank transfer of an invoice order, under the locks every payment takes."""
    try:
        with transaction.atomic():
            locked, now = capacity.lock_order_and_seats(order)
            if locked.payment_method != Method.INVOICE or locked.status != Status.PENDING:
                raise OrderError(f"Order {locked.code} is not an unpaid invoice order.")
            record_payment(locked, now=now, note="Invoice marked paid.", actor=actor)
    except OperationalError as error:
        if capacity.is_lock_failure(error):
            raise Busy("Tickets are being sold right now. Please try again.") from error
        raise
    return locked


# -- Ending orders ---------------------------------------------------------------------


def release_order(*, order, note, actor=None):
    """Expire a pending order so its seats are free again."""
    with transaction.atomic():
        locked = capacity.lock_order(order)
        if locked.status == Status.PENDING:
            set_status(locked, Status.EXPIRED, note, actor=actor)
    return locked


def cancel_order(*, order, actor=None):
    """Cancel an unpaid order, or a paid free or invoice order; card orders are refunded instead.

    A card order's open Checkout Session is closed first, so that it can no longer be paid; a
    payment made at the last second is recorded instead, and the order is then not cancelled.
    """
    if order.payment_method == Method.STRIPE and order.status == Status.PENDING:
        stripe_checkout.close_checkout_session_or_refuse(order)
    with transaction.atomic():
        locked = capacity.lock_order(order)
        paid_outside_stripe = (
            locked.status == Status.PAID and locked.payment_method != Method.STRIPE
        )
        if not (locked.status == Status.PENDING or paid_outside_stripe):
            raise OrderError(f"Order {locked.code} is {locked.get_status_display().lower()}.")
        cancel_locked(
            locked,
            note="Cancelled by an organiser.",
            ending=emails.Ending.CANCELLED_BY_ORGANISER,
            actor=actor,
        )
    return locked


def cancel_locked(order, *, note, ending, actor=None):
    """Cancel the locked order: free its seats, credit its invoice, tell buyer and attendees.

    Money received by bank transfer is recorded as owed back, since nothing can be refunded
    to a bank account automatically: the organisers must.
    """
    paid_by_transfer = order.status == Status.PAID and order.payment_method == Method.INVOICE
    set_status(order, Status.CANCELLED, note, actor=actor)
    credit_notes.credit_rest(order=order, reason="Order cancelled.", actor=actor)
    if paid_by_transfer:
        owe_transfer(order, order.total - order.refunded_amount, "Order cancelled", actor=actor)
    tasks.send_order_cancelled.enqueue(order.pk, ending)


def owe_transfer(order, amount, why, actor=None):
    """Record on the locked order that ``amount`` received by bank transfer must go back."""
    order.refund_owed += amount
    order.save(update_fields=["refund_owed", "updated_at"])
    owed = money.format_amount(amount, order.currency)
    log(order, order.status, order.status, f"{why}: {owed} to return by bank transfer.", actor)


# -- Buyers' changes and e-mails -------------------------------------------------------


def resend_confirmation(*, order):
    tasks.send_confirmation.enqueue(order.pk, paid=order.is_paid)


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
        order = capacity.lock_order(ticket.order)
        if not attendee_edit_open(order):
            raise OrderError("Attendee details can no longer be changed for this order.")
        ticket.refresh_from_db(fields=["refund"])
        if ticket.refund_id is not None:
            raise OrderError(f"Ticket {ticket.code} was refunded: it admits no one.")
        new_address = ticket.attendee_email.lower() != person["email"].lower()
        ticket.attendee_name, ticket.attendee_email = person["name"], person["email"]
        ticket.save(update_fields=["attendee_name", "attendee_email"])
        log(order, order.status, order.status, f"Attendee of {ticket.code} corrected.")
        if new_address and order.is_paid:
            # The new address gets its ticket (once: tickets.emails.send_attendee_tickets).
            tasks.send_attendee_tickets.enqueue(order.pk)
    return ticket
