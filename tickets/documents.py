"""What an invoice or a credit note shows, described once for its page, its PDF and e-mails."""

from django.utils import timezone
from django.utils.formats import date_format

from tickets.models import CreditNote, Order
from tickets.money import format_amount


def money(amount, currency):
    return format_amount(amount, currency)


def long_date(day):
    return date_format(day, "j F Y")


def payment_state(invoice, order, notes):
    """Return one sentence on how the invoice stands: due, paid, or cancelled by credit notes."""
    amount = money(invoice.total, invoice.currency)
    numbers = ", ".join(note.number for note in notes)
    credited = sum(note.total for note in notes)
    is_latest = order.invoice is not None and order.invoice.pk == invoice.pk
    if credited >= invoice.total and (order.paid_at is None or not is_latest):
        return f"Cancelled by credit note {numbers}: nothing is due on this invoice."
    if order.status == Order.Status.PENDING and order.payment_method == Order.Method.INVOICE:
        by = f" by {long_date(order.payment_due_on)}" if order.payment_due_on else ""
        return f"Payment due{by}: please transfer {amount}, quoting {invoice.number}."
    if order.paid_at and is_latest:
        paid_on = long_date(timezone.localtime(order.paid_at, order.workshop.tzinfo))
        paid = f"Paid {amount} on {paid_on} ({paid_by(order)})."
        if notes:
            paid += (
                f" Credited since by credit note {numbers}: {money(credited, invoice.currency)}."
            )
        return paid
    return f"Order status: {order.get_status_display()}."


def paid_by(order):
    return "by card" if order.payment_method == Order.Method.STRIPE else "by bank transfer"


def settlement_state(note):
    """Return one sentence on where the credited money goes."""
    amount = money(note.total, note.currency)
    if note.settlement == CreditNote.Settlement.CARD:
        return f"{amount} refunded to the card used for payment."
    if note.settlement == CreditNote.Settlement.BANK_TRANSFER:
        return f"{amount} to be returned to you by bank transfer."
    if note.total == note.invoice.total:
        return f"Invoice {note.invoice.number} is cancelled: nothing is due."
    return f"Nothing was paid: {amount} less is due on invoice {note.invoice.number}."


def total_rows(document, sign):
    """Return (label, signed amount, is the total) rows under the items; ``sign`` -1 credits."""
    rows = [("Subtotal", sign * document.subtotal, False)]
    if document.discount:
        rows.append(("Discount", -sign * document.discount, False))
    rows.append(("Total credited" if sign < 0 else "Total", sign * document.total, True))
    if document.tax_rate:
        percent = f"{document.tax_rate.normalize():f}"
        label = document.tax_label
        rows.append((f"Included {label} {percent}%", sign * document.tax_amount, False))
        rows.append((f"Total without {label}", sign * document.net_total, False))
    return rows


def signed_items(document, sign):
    return [
        {**item, "unit_price": sign * item["unit_price"], "amount": sign * item["amount"]}
        for item in document.items()
    ]


def invoice_document(invoice, order):
    """Return what both the HTML page and the PDF of an invoice show, computed once."""
    notes = list(invoice.credit_notes.order_by("created_at", "id"))
    return {
        "kind": invoice.kind,
        "document": invoice,
        "order": order,
        "meta": [("Order", order.code)],
        "items": signed_items(invoice, 1),
        "totals": total_rows(invoice, 1),
        "state": payment_state(invoice, order, notes),
        "bank_details": invoice.bank_details,
    }


def credit_note_document(note, order):
    """Return what both the HTML page and the PDF of a credit note show, computed once."""
    invoice = note.invoice
    return {
        "kind": note.kind,
        "document": note,
        "order": order,
        "meta": [
            ("Order", order.code),
            ("Cancels", f"Invoice {invoice.number} of {long_date(invoice.issued_on)}"),
            ("Reason", note.reason),
        ],
        "items": signed_items(note, -1),
        "totals": total_rows(note, -1),
        "state": settlement_state(note),
        "bank_details": "",
    }


def describe(document):
    """Return the description of an invoice or a credit note, for its page, PDF or e-mail."""
    if isinstance(document, CreditNote):
        return credit_note_document(document, document.order)
    return invoice_document(document, document.order)
