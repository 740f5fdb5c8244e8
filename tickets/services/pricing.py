"""Prices: what a choice of tickets costs, with which voucher, in the workshop's currency.

Amounts are rounded to what the currency can charge (tickets/money.py). Quotes are computed
without locks for the checkout page, and again under the locks when the order is created.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

from tickets import money
from tickets.models import TicketType, Voucher
from tickets.services.errors import OrderError

ZERO = Decimal("0")


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
    if workshop.has_ended(now):
        raise OrderError(sales_closed_message(workshop))
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


def sales_closed_message(workshop):
    held = date_format(workshop.local_starts_at, "j F Y")
    return f"Ticket sales have closed: the workshop took place on {held}."


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
