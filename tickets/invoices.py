"""Invoice and credit note pages for buyers: the printable HTML page and the PDF.

Buyers reach their documents through the order's secret link or, signed in, through
My tickets; organisers through the order's admin page (``tickets/admin.py``). Both kinds are
shown from one document description (``invoice_document``, ``credit_note_document``), so the
page and the PDF always say the same.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tickets.models import CreditNote, Invoice, Order
from tickets.money import format_amount
from tickets.views import orders_of
from workshop.security import private_page, secret_matches


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
        return f"Payment due: please transfer {amount}, quoting {invoice.number}."
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
    }


def document_of(order, number=None):
    """Return the description of the order's latest invoice, or of its document ``number``."""
    if number is None:
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None:
            raise Http404("This order has no invoice.")
        return invoice_document(invoice, order)
    # PostgreSQL refuses NUL characters in a query; no number has one.
    if "\x00" not in number:
        if invoice := Invoice.objects.filter(order=order, number=number).first():
            return invoice_document(invoice, order)
        note = CreditNote.objects.filter(order=order, number=number).select_related("invoice")
        if note := note.first():
            return credit_note_document(note, order)
    raise Http404("This order has no such invoice or credit note.")


def document_response(request, order, *, number=None, pdf=False, links):
    """Answer with an invoice or credit note of the order as a page or as a PDF download."""
    document = document_of(order, number)
    if pdf:
        # Imported here: fpdf2 with fontTools and HarfBuzz adds about 50 MB to a process,
        # which every worker would carry at start-up for the few requests that want a PDF.
        from tickets.invoice_pdf import render_pdf

        response = HttpResponse(render_pdf(document), content_type="application/pdf")
        issued = document["document"]
        name = issued.kind.lower().replace(" ", "-")
        response["Content-Disposition"] = f'attachment; filename="{name}-{issued.number}.pdf"'
        return response
    links = {**links, "pdf_url": links["pdf_url"](document["document"].number)}
    return render(request, "tickets/invoice.html", {**document, **links})


def secret_order(code, secret):
    # PostgreSQL refuses NUL characters in a query; no order code has one.
    if "\x00" in code:
        raise Http404("No such order.")
    order = Order.objects.select_related("workshop").filter(code=code).first()
    if order is None or not secret_matches(secret, order.secret):
        raise Http404("No such order.")
    return order


@private_page
def invoice_page(request, code, secret, number=None, pdf=False):
    """Show an invoice or credit note of the order whose secret link this is."""
    order = secret_order(code, secret)
    links = {
        "pdf_url": lambda n: reverse("tickets:document_pdf", args=[code, secret, n]),
        "back_url": order.get_absolute_url(),
    }
    return document_response(request, order, number=number, pdf=pdf, links=links)


@login_required
@private_page
def my_invoice(request, code, number=None, pdf=False):
    """Show the signed-in buyer's invoice or credit note; other people's orders are not found."""
    # PostgreSQL refuses NUL characters in a query; no order code has one.
    order = orders_of(request.user).filter(code=code).first() if "\x00" not in code else None
    if order is None:
        raise Http404("No such order among yours.")
    links = {
        "pdf_url": lambda n: reverse("tickets:my_document_pdf", args=[code, n]),
        "back_url": reverse("tickets:my_tickets"),
    }
    return document_response(request, order, number=number, pdf=pdf, links=links)
