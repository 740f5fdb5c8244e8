"""Demo tickets: a free, a paid and a hidden (voucher-only) ticket type.

The sale windows are left open: sales close when the workshop ends (the demo moves it ahead,
see workshop/demo.py). ``load`` creates what is missing and never changes a row that exists.
"""

from decimal import Decimal

from tickets.models import TicketType, Voucher

TICKET_TYPES = [
    {
        "name": "Community ticket",
        "description": "Free entry to the talks and discussions.",
        "price": Decimal("0.00"),
        "capacity": 200,
        "visible": True,
        "max_per_order": 2,
        "position": 1,
    },
    {
        "name": "Supporter ticket",
        "description": "Pay what helps us run the workshop.",
        "price": Decimal("25.00"),
        "capacity": 100,
        "visible": True,
        "max_per_order": 5,
        "invoice_allowed": True,
        "position": 2,
    },
    {
        "name": "Speaker or financial-aid ticket",
        "description": "For speakers and financial-aid recipients; needs a voucher.",
        "price": Decimal("25.00"),
        "capacity": 30,
        "visible": False,
        "max_per_order": 1,
        "position": 3,
    },
]


def load(workshop):
    """Create the demo ticket types and the SPEAKER2022 voucher where missing."""
    types = {}
    for values in TICKET_TYPES:
        defaults = {**values, "sale_starts_at": None, "sale_ends_at": None, "min_per_order": 1}
        defaults.setdefault("invoice_allowed", False)
        name = defaults.pop("name")
        types[name], _ = TicketType.objects.get_or_create(
            workshop=workshop, name=name, defaults=defaults
        )
    voucher, created = Voucher.objects.get_or_create(
        workshop=workshop,
        code="SPEAKER2022",
        defaults={
            "discount": Voucher.Discount.PERCENT,
            "value": Decimal("100"),
            "max_uses": 40,
            "valid_until": None,
            "note": "Demo: speakers and financial aid, free.",
        },
    )
    if created:
        voucher.ticket_types.set([types["Speaker or financial-aid ticket"]])
