"""Seats: who holds them, the locks that decide them, and the cap on unpaid seats.

Seats are counted from the orders that hold them and the running waiting-list offers (there
is no counter to drift), always while holding the locks every writer takes, in one order: the
buyer's advisory locks (PostgreSQL), the ticket type rows in id order, the voucher row, then
the order row. A new order also leaves the free seats to the people waiting for them.

Card orders hold seats for their reservation and invoice orders until paid, so a bot could
hold every seat without paying: unpaid seats are capped per buyer e-mail address and per
client address (stored only as a keyed hash), paid and free ones alike.
"""

import hashlib
from collections import Counter

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tickets.models import Order, Ticket, TicketType, Voucher, WaitingListEntry
from tickets.services.errors import OrderError


def hash_client(address):
    """Return the keyed hash stored for a client address ("" for none or an unknown one)."""
    # Requests without an address must not all share one count.
    if not address or address == "unknown":
        return ""
    return salted_hmac("tickets.order.client", address, algorithm="sha256").hexdigest()


def lock_buyer(*, email, client_hash):
    """Queue orders of one buyer (address or client) on PostgreSQL, in a fixed order.

    The capacity lock covers the chosen ticket types only; two orders of one buyer for
    different types would otherwise both pass the cap. SQLite serialises every writer anyway.
    """
    if connection.vendor != "postgresql":
        return
    names = sorted(
        {f"email:{email.casefold()}", *([f"client:{client_hash}"] if client_hash else [])}
    )
    with connection.cursor() as cursor:
        # Like the capacity lock: a buyer waits this long, then is told to try again.
        cursor.execute(f"SET LOCAL lock_timeout = {int(settings.TICKETS_LOCK_TIMEOUT_MS)}")
        for name in names:
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def unpaid_seats(*, now, email="", client_hash=""):
    """Return the unpaid and free seats held now under this e-mail address and this client."""
    capped = Order.objects.holding_seats(now).filter(
        Q(status=Order.Status.PENDING) | Q(payment_method=Order.Method.FREE)
    )
    tickets = Ticket.objects.filter(order__in=capped)
    by_email = tickets.filter(order__buyer_email__iexact=email).count() if email else 0
    by_client = tickets.filter(order__client_hash=client_hash).count() if client_hash else 0
    return by_email, by_client


def seat_cap_problem(*, email, client_hash, quantity, now):
    """Return why ``quantity`` more unpaid or free seats are refused, or None when they fit."""
    by_email, by_client = unpaid_seats(now=now, email=email, client_hash=client_hash)
    per_email = settings.TICKETS_MAX_UNPAID_SEATS_PER_EMAIL
    per_client = settings.TICKETS_MAX_UNPAID_SEATS_PER_IP
    # The counts are not shown: anyone may type any address, and it is not theirs to know.
    if by_email + quantity > per_email:
        return (
            f"At most {per_email} unpaid or free seats can be held under one e-mail address, "
            f"and this order would pass that for {email}. Pay for or cancel its open orders "
            "(unpaid card orders end by themselves) and try again, or contact the organisers."
        )
    if client_hash and by_client + quantity > per_client:
        return (
            f"At most {per_client} unpaid or free seats can be held from one network, and this "
            "order would pass that. Pay for the open orders (unpaid card orders end by "
            "themselves) and try again, or contact the organisers."
        )
    return None


def seats_taken(type_ids, *, now, exclude_order=None):
    """Return {ticket type id: seats held now}: tickets of holding orders and running offers."""
    tickets = Ticket.objects.filter(
        ticket_type_id__in=type_ids,
        order__in=Order.objects.holding_seats(now),
        refund__isnull=True,
    )
    if exclude_order is not None:
        tickets = tickets.exclude(order=exclude_order)
    rows = tickets.values("ticket_type_id").annotate(n=Count("id")).order_by()
    taken = Counter({row["ticket_type_id"]: row["n"] for row in rows})
    taken.update(count_by_type(WaitingListEntry.objects.holding_seats(now), type_ids))
    return dict(taken)


def people_waiting(type_ids):
    """Return {ticket type id: confirmed entries waiting in line for a seat}."""
    return count_by_type(WaitingListEntry.objects.in_line(), type_ids)


def count_by_type(entries, type_ids):
    rows = entries.filter(ticket_type_id__in=type_ids).values("ticket_type_id")
    rows = rows.annotate(n=Count("id")).order_by()
    return {row["ticket_type_id"]: row["n"] for row in rows}


def check_capacity(counts, types_by_id, *, now, exclude_order=None, offer=None, queue=False):
    """Raise OrderError unless the seats are free; call it under lock_ticket_types.

    With ``queue`` (a new order) the free seats go to the people waiting in line first, and
    the seat of ``offer``, the buyer's own running waiting-list offer, is the buyer's.
    """
    taken = seats_taken(list(counts), now=now, exclude_order=exclude_order)
    waiting = people_waiting(list(counts)) if queue else {}
    for type_id, quantity in sorted(counts.items()):
        ticket_type = types_by_id[type_id]
        if ticket_type.capacity is None:
            continue
        free = ticket_type.capacity - taken.get(type_id, 0) - waiting.get(type_id, 0)
        own = 1 if offer is not None and offer.ticket_type_id == type_id else 0
        left = max(free, 0) + own
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
    used = voucher.orders.holding_seats(now).count()
    if used >= voucher.max_uses:
        raise OrderError("This voucher code has been used up.")


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
    lock_ticket_types(list(seat_counts(order)))
    if order.voucher_id is not None:
        Voucher.objects.select_for_update().filter(pk=order.voucher_id).first()
    return lock_order(order), timezone.now()


def seats_remain_for(order, *, now):
    """Return whether the order's seats, and a use of its voucher, are still free for it.

    Call it under lock_order_and_seats, with the time that returned.
    """
    counts = seat_counts(order)
    types_by_id = TicketType.objects.in_bulk(list(counts))
    try:
        check_capacity(counts, types_by_id, now=now, exclude_order=order)
    except OrderError:
        return False
    voucher = order.voucher
    if voucher is None or voucher.max_uses is None:
        return True
    used = voucher.orders.holding_seats(now).exclude(pk=order.pk).count()
    return used < voucher.max_uses


def seat_counts(order):
    """Return {ticket type id: seats} of the order (its refunded tickets hold none)."""
    tickets = order.tickets.filter(refund__isnull=True)
    return dict(Counter(tickets.values_list("ticket_type_id", flat=True)))
