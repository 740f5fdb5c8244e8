"""Invoice pages for buyers: the printable HTML page and the PDF.

Buyers reach their invoice through the order's secret link or, signed in, through
My tickets; organisers through the order's admin page (``tickets/admin.py``).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tickets.models import Invoice, Order
from tickets.money import format_amount
from tickets.views import orders_of
from workshop.security import private_page, secret_matches


def payment_state(invoice, order):
    """Return one sentence on how the invoice stands: paid, due, refunded or void."""
    amount = format_amount(invoice.total, invoice.currency)
    if order.status == Order.Status.CANCELLED:
        return "Cancelled: this invoice is void and nothing is due."
    if order.status == Order.Status.PENDING and order.payment_method == Order.Method.INVOICE:
        return f"Payment due: please transfer {amount}, quoting {invoice.number}."
    if order.paid_at and order.status in (*Order.PAID_STATUSES, Order.Status.REFUNDED):
        paid_on = date_format(timezone.localtime(order.paid_at, order.workshop.tzinfo), "j F Y")
        return f"Paid {amount} on {paid_on} ({paid_by(order)})."
    return f"Order status: {order.get_status_display()}."


def paid_by(order):
    return "by card" if order.payment_method == Order.Method.STRIPE else "by bank transfer"


def invoice_document(invoice, order):
    """Return what both the HTML page and the PDF show, computed once."""
    refunded = order.refunded_amount if order.refunded_amount > 0 else None
    return {
        "invoice": invoice,
        "order": order,
        "items": invoice.items(),
        "state": payment_state(invoice, order),
        # 19.00 shows as 19, 7.50 as 7.5 (``normalize`` alone would give 2E+1 for 20).
        "tax_percent": f"{invoice.tax_rate.normalize():f}",
        "refunded": refunded,
        "balance": invoice.total - refunded if refunded else None,
    }


def invoice_of(order):
    invoice = Invoice.objects.filter(order=order).first()
    if invoice is None:
        raise Http404("This order has no invoice.")
    return invoice


def invoice_response(request, order, *, pdf, links):
    """Answer with the order's invoice as a page or as a PDF download."""
    document = invoice_document(invoice_of(order), order)
    if pdf:
        # Imported here: fpdf2 with fontTools and HarfBuzz adds about 50 MB to a process,
        # which every worker would carry at start-up for the few requests that want a PDF.
        from tickets.invoice_pdf import render_pdf

        response = HttpResponse(render_pdf(document), content_type="application/pdf")
        number = document["invoice"].number
        response["Content-Disposition"] = f'attachment; filename="invoice-{number}.pdf"'
        return response
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
def invoice_page(request, code, secret, pdf=False):
    """Show the invoice of the order whose secret link this is."""
    order = secret_order(code, secret)
    links = {
        "pdf_url": reverse("tickets:invoice_pdf", args=[code, secret]),
        "back_url": order.get_absolute_url(),
    }
    return invoice_response(request, order, pdf=pdf, links=links)


@login_required
@private_page
def my_invoice(request, code, pdf=False):
    """Show the signed-in buyer's invoice; other people's orders are not found."""
    # PostgreSQL refuses NUL characters in a query; no order code has one.
    order = orders_of(request.user).filter(code=code).first() if "\x00" not in code else None
    if order is None:
        raise Http404("No such order among yours.")
    links = {
        "pdf_url": reverse("tickets:my_invoice_pdf", args=[code]),
        "back_url": reverse("tickets:my_tickets"),
    }
    return invoice_response(request, order, pdf=pdf, links=links)
