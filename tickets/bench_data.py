"""Benchmark data: ticket types, vouchers and ``size["orders"]`` orders with their tickets.

Orders are a realistic mix (mostly paid by card, some invoices, free speaker tickets,
expired, cancelled and refunded ones); codes and secrets come from the seeded ``rng``.
"""

import datetime as dt
from decimal import Decimal

from tickets.models import CODE_ALPHABET, Order, Ticket, TicketType, Voucher

Status, Method = Order.Status, Order.Method
PAID_FROM = dt.datetime(2030, 1, 6, 9, 0, tzinfo=dt.UTC)

TYPES = [
    # name, price, capacity, visible, invoice allowed
    ("Regular", "120.00", 6000, True, False),
    ("Student", "40.00", 2500, True, False),
    ("Supporter", "250.00", 800, True, True),
    ("Speaker", "0.00", None, False, False),
    ("Financial aid", "0.00", 100, False, False),
]

# (weight, status, method, ticket type names to choose from)
MIX = [
    (75, Status.PAID, Method.STRIPE, ("Regular", "Regular", "Regular", "Student")),
    (5, Status.PAID, Method.FREE, ("Speaker",)),
    (5, Status.PENDING, Method.INVOICE, ("Supporter",)),
    (5, Status.PAID, Method.INVOICE, ("Supporter",)),
    (5, Status.EXPIRED, Method.STRIPE, ("Regular", "Student")),
    (3, Status.CANCELLED, Method.STRIPE, ("Regular",)),
    (2, Status.REFUNDED, Method.STRIPE, ("Regular", "Student")),
]


def generate(workshop, size, rng):
    """Create the ticket types, two vouchers and the orders; return the orders."""
    types = {
        name: TicketType(
            workshop=workshop,
            name=name,
            description=f"The *{name.lower()}* ticket.",
            price=Decimal(price),
            capacity=capacity,
            sale_ends_at=workshop.starts_at,
            visible=visible,
            invoice_allowed=invoice,
            position=position,
        )
        for position, (name, price, capacity, visible, invoice) in enumerate(TYPES)
    }
    TicketType.objects.bulk_create(types.values())
    speaker_voucher = Voucher.objects.create(workshop=workshop, code="BENCH-SPEAKER")
    speaker_voucher.ticket_types.set([types["Speaker"]])
    Voucher.objects.create(
        workshop=workshop, code="BENCH-TEN", discount=Voucher.Discount.PERCENT, value=10
    )
    codes = unique_codes(rng, size["orders"], 8)
    plans = [plan_order(n, code, workshop, types, rng) for n, code in enumerate(codes)]
    orders = Order.objects.bulk_create(order for order, _ in plans)
    ticket_codes = iter(unique_codes(rng, sum(len(lines) for _, lines in plans), 10))
    Ticket.objects.bulk_create(
        Ticket(
            order=order,
            ticket_type=ticket_type,
            attendee_name=f"{order.buyer_name} guest {k}" if k else order.buyer_name,
            attendee_email=f"guest{k}.{order.buyer_email}" if k else order.buyer_email,
            code=next(ticket_codes),
            price=ticket_type.price,
        )
        for order, (_, lines) in zip(orders, plans, strict=True)
        for k, ticket_type in enumerate(lines)
    )
    return orders


def plan_order(n, code, workshop, types, rng):
    """Return an unsaved order and the ticket types of its tickets."""
    _, status, method, names = rng.choices(MIX, weights=[row[0] for row in MIX])[0]
    quantity = 1 if method == Method.FREE else rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    lines = [types[rng.choice(names)] for _ in range(quantity)]
    total = sum((ticket_type.price for ticket_type in lines), Decimal("0"))
    paid_at = PAID_FROM + dt.timedelta(minutes=7 * n)
    order = Order(
        workshop=workshop,
        code=code,
        secret="".join(rng.choices(CODE_ALPHABET.lower() + CODE_ALPHABET, k=43)),
        buyer_name=f"Buyer {n}",
        buyer_email=f"buyer{n}@example.org",
        status=status,
        payment_method=method,
        subtotal=total,
        total=total,
        refunded_amount=total if status == Status.REFUNDED else Decimal("0"),
        currency=workshop.currency,
        stripe_payment_intent_id=f"pi_bench_{n}" if method == Method.STRIPE else "",
        reserved_until=paid_at + dt.timedelta(minutes=30) if method == Method.STRIPE else None,
        invoice_details="Example Org\nExample Street 1" if method == Method.INVOICE else "",
        code_of_conduct_accepted_at=paid_at,
        paid_at=paid_at if status in (Status.PAID, Status.REFUNDED) else None,
    )
    return order, lines


def unique_codes(rng, count, length):
    """Return ``count`` distinct codes of ``length`` characters, in a seeded order."""
    codes, seen = [], set()
    while len(codes) < count:
        code = "".join(rng.choices(CODE_ALPHABET, k=length))
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def flush():
    Order.objects.all().delete()
    Voucher.objects.all().delete()
    TicketType.objects.all().delete()
