"""Invoices: gap-free numbers under a lock, and a snapshot of the order when it is issued.

Ticket prices include tax: the total an invoice shows is what the buyer paid (or owes),
and the tax is the part of it that the workshop's rate makes up. Free orders get no
invoice: nothing was sold, and the order page already confirms the tickets.
"""

from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from tickets import money
from tickets.models import Invoice, InvoiceSequence, Order

ZERO = Decimal("0")


def included_tax(total, rate, currency):
    """Return the tax included in a gross total at ``rate`` percent, rounded half up."""
    if not rate:
        return money.quantize(ZERO, currency)
    return money.quantize(Decimal(total) * rate / (100 + rate), currency)


def invoice_due(order):
    """Return whether the order gets an invoice: paid or invoice orders with a price."""
    if order.total <= 0:
        return False
    if order.payment_method == Order.Method.INVOICE:
        return order.status in (Order.Status.PENDING, *Order.PAID_STATUSES)
    return order.status in Order.PAID_STATUSES


def take_number(prefix, year, series=InvoiceSequence.Series.INVOICE):
    """Return the next number of the series' sequence for prefix and year, holding its row lock.

    The caller's transaction keeps the row locked until it commits, so concurrent
    invoices (or credit notes) queue here; a rolled-back one gives its number back.
    """
    key = {"series": series, "prefix": prefix, "year": year}
    InvoiceSequence.objects.get_or_create(**key)
    sequence = InvoiceSequence.objects.select_for_update().get(**key)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{prefix}-{year}-{sequence.last_number:04d}"


def credited(invoice):
    """Return the total of the credit notes issued against the invoice."""
    return invoice.credit_notes.aggregate(total=Sum("total"))["total"] or ZERO


def invoice_lines(order):
    """Return the order's tickets grouped by type and price, at list prices when they still add up.

    The discount is shown on its own line; if a type's price changed after the order
    (so list prices no longer add up to the order's subtotal), the prices paid are used.
    """
    title = order.workshop.title
    grouped = Counter(
        (t.ticket_type.name, t.ticket_type.price, t.price)
        for t in order.tickets.select_related("ticket_type")
    )
    listed = [
        (f"{title}: {name}", quantity, money.quantize(list_price, order.currency))
        for (name, list_price, _paid), quantity in sorted(grouped.items())
    ]
    if sum(price * quantity for _, quantity, price in listed) != order.subtotal:
        listed = [
            (f"{title}: {name}", quantity, paid)
            for (name, _list, paid), quantity in sorted(grouped.items())
        ]
    return [
        {
            "description": description,
            "quantity": quantity,
            "unit_price": str(price),
            "amount": str(price * quantity),
        }
        for description, quantity, price in listed
    ]


def issue_invoice(*, order):
    """Issue the order's invoice once and return it; return None for orders that get none.

    Called inside the transaction that confirms a payment or places an invoice order,
    and by the admin action. Repeating it returns the invoice already issued, unless credit
    notes cancelled all of it and the order is due one again (paid after it expired).
    """
    if order.total <= 0:
        return None
    with transaction.atomic():
        # Lock the order row only: the sequence row's lock is what orders the numbers.
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("workshop")
            .get(pk=order.pk)
        )
        latest = Invoice.objects.filter(order=order).first()
        if not invoice_due(order) or (latest and credited(latest) < latest.total):
            return latest
        workshop = order.workshop
        issued_on = timezone.localdate(timezone.now(), workshop.tzinfo)
        lines = invoice_lines(order)
        subtotal = sum((Decimal(line["amount"]) for line in lines), ZERO)
        return Invoice.objects.create(
            order=order,
            number=take_number(workshop.invoice_prefix or "INV", issued_on.year),
            issued_on=issued_on,
            seller_name=workshop.organiser_name or workshop.title,
            seller_address=workshop.organiser_address,
            seller_note=workshop.invoice_note,
            bank_details=workshop.bank_details
            if order.payment_method == Order.Method.INVOICE
            else "",
            buyer_name=order.billing_name or order.buyer_name,
            buyer_email=order.buyer_email,
            billing_address=order.invoice_details,
            vat_number=order.vat_number,
            po_number=order.po_number,
            lines=lines,
            currency=order.currency,
            subtotal=subtotal,
            discount=subtotal - order.total,
            total=order.total,
            tax_rate=workshop.tax_rate,
            tax_label=workshop.tax_label if workshop.tax_rate else "",
            tax_amount=included_tax(order.total, workshop.tax_rate, order.currency),
        )
