"""Credit notes: an issued invoice is never changed, so cancelling or refunding it issues one.

A credit note cancels all or part of one invoice. It has its own gap-free number series per
prefix and year (``Workshop.credit_note_prefix``), taken under the sequence row's lock like
invoice numbers, and is a snapshot: it repeats the invoice's parties and lists what is
credited. The tax it reverses is the invoice's, at the invoice's rate; credit notes that
together cancel a whole invoice reverse exactly its tax, to the cent.

Refund and cancellation paths call ``credit_rest`` (everything not yet credited) or
``issue_credit_note`` (an amount, with lines from ``ticket_lines`` and ``fee_line`` for
partial refunds per ticket), inside the transaction that changes the order.
"""

from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from tickets import money
from tickets.models import CreditNote, Invoice, InvoiceSequence, Order, OrderEvent
from tickets.services.invoices import credited, included_tax, take_number

ZERO = Decimal("0")
LINE_KEYS = ("description", "quantity", "unit_price", "amount")


class CreditRefused(ValueError):
    """A credit note that cannot be issued, with the reason in words for an organiser."""


def settlement_for(order):
    """Return how the credited money goes back: to the card, by bank transfer, or not at all."""
    if order.paid_at is None:
        return CreditNote.Settlement.NOTHING_DUE
    if order.payment_method == Order.Method.STRIPE:
        return CreditNote.Settlement.CARD
    return CreditNote.Settlement.BANK_TRANSFER


def line(description, quantity, unit_price, currency):
    unit_price = money.quantize(unit_price, currency)
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": str(unit_price),
        "amount": str(unit_price * quantity),
    }


def ticket_lines(*, order, tickets):
    """Return credit note lines for some of the order's tickets, at the prices paid."""
    grouped = Counter((t.ticket_type.name, t.price) for t in tickets)
    return [
        line(f"{order.workshop.title}: {name}", quantity, price, order.currency)
        for (name, price), quantity in sorted(grouped.items())
    ]


def fee_line(*, order, fee, description="Cancellation fee kept"):
    """Return a line that keeps ``fee`` back from what the other lines credit."""
    return line(description, 1, -Decimal(fee), order.currency)


def credit_rest(*, order, reason, settlement=None, actor=None):
    """Credit what is left of the order's latest invoice; return the note, or None if nothing is.

    Used when an invoiced order is cancelled, expires unpaid or is refunded in full.
    """
    with transaction.atomic():
        order = lock(order)
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None or credited(invoice) >= invoice.total:
            return None
        return write(
            order, invoice, invoice.total - credited(invoice), None, reason, settlement, actor
        )


def issue_credit_note(*, order, amount, reason, lines=None, settlement=None, actor=None):
    """Issue a credit note for ``amount`` of the order's latest invoice and return it.

    ``lines`` (from ``ticket_lines`` and ``fee_line``) must add up to ``amount``; without them
    the note credits the whole invoice line by line when ``amount`` is all of it, else one
    line names the part credited. Return None when the order has no invoice (free orders,
    card orders never paid). Raise ``CreditRefused`` for an amount that is not positive,
    does not fit the currency or is more than is left to credit. Call it inside the
    transaction that refunds or cancels; it locks the order row, then the sequence row.
    """
    with transaction.atomic():
        order = lock(order)
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None:
            return None
        amount = checked_amount(invoice, amount)
        return write(order, invoice, amount, lines, reason, settlement, actor)


def lock(order):
    return Order.objects.select_for_update(of=("self",)).select_related("workshop").get(pk=order.pk)


def checked_amount(invoice, amount):
    try:
        amount = Decimal(amount)
    except (TypeError, ArithmeticError):
        raise CreditRefused("The amount to credit must be a number.") from None
    if not amount.is_finite() or amount <= 0:
        raise CreditRefused("The amount to credit must be more than zero.")
    if money.quantize(amount, invoice.currency) != amount:
        raise CreditRefused(f"Amounts in {invoice.currency} have no smaller units.")
    left = invoice.total - credited(invoice)
    if amount > left:
        raise CreditRefused(
            f"Invoice {invoice.number} has {left} {invoice.currency} left to credit, "
            f"less than {amount} {invoice.currency}."
        )
    return amount


def write(order, invoice, amount, lines, reason, settlement, actor):
    """Number and save the credit note for the locked order, and note it in its history."""
    workshop = order.workshop
    issued_on = timezone.localdate(timezone.now(), workshop.tzinfo)
    lines, subtotal, discount = credit_lines(invoice, amount, lines)
    note = CreditNote.objects.create(
        order=order,
        invoice=invoice,
        number=take_number(
            workshop.credit_note_prefix or "CN",
            issued_on.year,
            InvoiceSequence.Series.CREDIT_NOTE,
        ),
        issued_on=issued_on,
        reason=reason[:200],
        settlement=settlement or settlement_for(order),
        **{field: getattr(invoice, field) for field in PARTIES},
        lines=lines,
        currency=invoice.currency,
        subtotal=subtotal,
        discount=discount,
        total=amount,
        tax_rate=invoice.tax_rate,
        tax_label=invoice.tax_label,
        tax_amount=credited_tax(invoice, amount),
    )
    OrderEvent.objects.create(
        order=order,
        from_status=order.status,
        to_status=order.status,
        note=f"Credit note {note.number} issued for {amount} {note.currency} "
        f"against invoice {invoice.number}: {note.reason}",
        actor=actor,
    )
    return note


PARTIES = (
    "seller_name",
    "seller_address",
    "seller_note",
    "buyer_name",
    "buyer_email",
    "billing_address",
    "vat_number",
    "po_number",
)


def credit_lines(invoice, amount, lines):
    """Return the lines, subtotal and discount of a credit note for ``amount``."""
    if lines is None and amount == invoice.total:
        return invoice.lines, invoice.subtotal, invoice.discount
    if lines is None:
        whole = amount == invoice.total - credited(invoice)
        what = "Rest" if whole else "Part"
        lines = [line(f"{what} of invoice {invoice.number}", 1, amount, invoice.currency)]
    lines = [clean_line(item, invoice.currency) for item in lines]
    subtotal = sum((Decimal(item["amount"]) for item in lines), ZERO)
    if subtotal != amount:
        raise CreditRefused(f"The lines add up to {subtotal}, not {amount} {invoice.currency}.")
    return lines, subtotal, ZERO


def clean_line(item, currency):
    if set(item) != set(LINE_KEYS):
        raise CreditRefused(f"A credit note line has exactly these keys: {', '.join(LINE_KEYS)}.")
    return line(
        str(item["description"]), int(item["quantity"]), Decimal(item["unit_price"]), currency
    )


def credited_tax(invoice, amount):
    """Return the tax in ``amount``; the note that completes the credit takes what is left."""
    already = invoice.credit_notes.aggregate(total=Sum("total"), tax=Sum("tax_amount"))
    if (already["total"] or ZERO) + amount == invoice.total:
        return invoice.tax_amount - (already["tax"] or ZERO)
    return included_tax(amount, invoice.tax_rate, invoice.currency)
