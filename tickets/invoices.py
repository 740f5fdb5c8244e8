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

from tickets.documents import credit_note_document, invoice_document
from tickets.models import CreditNote, Invoice, Order
from tickets.views import secret_link
from workshop.security import private_page


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


@secret_link
def invoice_page(request, order, number=None, pdf=False):
    """Show an invoice or credit note of the order whose secret link this is."""
    links = {
        "pdf_url": lambda n: reverse("tickets:document_pdf", args=[order.code, order.secret, n]),
        "back_url": order.get_absolute_url(),
    }
    return document_response(request, order, number=number, pdf=pdf, links=links)


@login_required
@private_page
def my_invoice(request, code, number=None, pdf=False):
    """Show the signed-in buyer's invoice or credit note; other people's orders are not found."""
    order = Order.objects.of_user(request.user).select_related("workshop").with_code(code).first()
    if order is None:
        raise Http404("No such order among yours.")
    links = {
        "pdf_url": lambda n: reverse("tickets:my_document_pdf", args=[code, n]),
        "back_url": reverse("tickets:my_tickets"),
    }
    return document_response(request, order, number=number, pdf=pdf, links=links)
