"""The cap on unpaid seats one buyer may hold at a time.

Card orders hold their seats for the reservation time and invoice orders until they are
paid, so a bot that starts checkouts could hold every seat without paying. Unpaid seats
are counted per buyer e-mail address and per client address (stored on the order only as
a keyed hash) while the capacity lock is held; paid, expired and cancelled orders do not count.
"""

import hashlib

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils.crypto import salted_hmac

from tickets.models import Order, Ticket


def hash_client(address):
    """Return the keyed hash stored for a client address ("" for none or an unknown one)."""
    # Requests without an address must not all share one count.
    if not address or address == "unknown":
        return ""
    return salted_hmac("tickets.order.client", address, algorithm="sha256").hexdigest()


def unpaid_holding_q(now, prefix=""):
    """Return a filter for orders that hold seats now without being paid."""
    p = prefix
    return Q(**{f"{p}status": Order.Status.PENDING}) & (
        Q(**{f"{p}payment_method": Order.Method.INVOICE}) | Q(**{f"{p}reserved_until__gt": now})
    )


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
    """Return the unpaid seats held now under this e-mail address and under this client."""
    tickets = Ticket.objects.filter(unpaid_holding_q(now, prefix="order__"))
    by_email = tickets.filter(order__buyer_email__iexact=email).count() if email else 0
    by_client = tickets.filter(order__client_hash=client_hash).count() if client_hash else 0
    return by_email, by_client


def seat_cap_problem(*, email, client_hash, quantity, now):
    """Return why ``quantity`` more unpaid seats are refused, or None when they fit."""
    by_email, by_client = unpaid_seats(now=now, email=email, client_hash=client_hash)
    per_email = settings.TICKETS_MAX_UNPAID_SEATS_PER_EMAIL
    per_client = settings.TICKETS_MAX_UNPAID_SEATS_PER_IP
    # The counts are not shown: anyone may type any address, and it is not theirs to know.
    if by_email + quantity > per_email:
        return (
            f"At most {per_email} unpaid seats can be held under one e-mail address at a time, "
            f"and this order would pass that for {email}. Pay for or cancel its open orders "
            "(unpaid card orders end by themselves) and try again."
        )
    if client_hash and by_client + quantity > per_client:
        return (
            f"At most {per_client} unpaid seats can be held from one network at a time, and this "
            "order would pass that. Pay for the open orders (unpaid card orders end by "
            "themselves) and try again, or contact the organisers."
        )
    return None
