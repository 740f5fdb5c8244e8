"""E-mails to buyers: confirmation with tickets and calendar file, refunds, order links, and
the payment reminder and expiry notice of invoice orders."""

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from icalendar import Calendar, Event

from tickets.qr import checkin_url, qr_png


def order_link(order):
    return settings.SITE_URL + reverse("tickets:order_detail", args=[order.code, order.secret])


def workshop_ics(workshop):
    """Return the workshop as an iCalendar file with one event."""
    calendar = Calendar()
    calendar.add("prodid", "-//Workshop site//tickets//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{workshop.slug}@{settings.SITE_URL.split('://')[-1]}")
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", workshop.starts_at)
    event.add("dtend", workshop.ends_at)
    event.add("summary", workshop.title)
    event.add("url", settings.SITE_URL + "/")
    if workshop.tagline:
        event.add("description", workshop.tagline)
    calendar.add_component(event)
    return calendar.to_ical()


def send(to, subject, template, context, attachments=()):
    context = {**context, "site_url": settings.SITE_URL}
    message = EmailMessage(
        subject=subject,
        body=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    for attachment in attachments:
        message.attach(*attachment)
    message.send()


def send_confirmation(order):
    """Send the order link and, once paid, the tickets with QR codes and the calendar file."""
    order.refresh_from_db()
    workshop = order.workshop
    tickets = list(order.tickets.select_related("ticket_type"))
    attachments = []
    if order.is_paid:
        attachments = [
            (f"ticket-{t.code}.png", qr_png(checkin_url(t.code)), "image/png") for t in tickets
        ]
        attachments.append((f"{workshop.slug}.ics", workshop_ics(workshop), "text/calendar"))
    if order.payment_method == order.Method.INVOICE:
        attachments.extend(document_pdfs(order.invoice))
    subject = (
        f"Your tickets for {workshop.title}" if order.is_paid else f"Order {order.code} reserved"
    )
    context = {
        "order": order,
        "tickets": tickets,
        "workshop": workshop,
        "link": order_link(order),
    }
    send(order.buyer_email, subject, "tickets/email/confirmation.txt", context, attachments)


def document_pdfs(*documents):
    """Return PDF attachments of these invoices or credit notes (None ones left out)."""
    # Imported here: the PDF library costs a process about 50 MB (see tickets/invoices.py).
    from tickets.documents import describe
    from tickets.invoice_pdf import render_pdf

    return [
        (
            f"{document.kind.lower().replace(' ', '-')}-{document.number}.pdf",
            render_pdf(describe(document)),
            "application/pdf",
        )
        for document in documents
        if document is not None
    ]


def send_payment_reminder(order):
    """Remind the buyer of an unpaid invoice order of its due date, with the invoice."""
    order.refresh_from_db()
    context = {"order": order, "workshop": order.workshop, "link": order_link(order)}
    send(
        order.buyer_email,
        f"Payment reminder: order {order.code}",
        "tickets/email/payment_reminder.txt",
        context,
        document_pdfs(order.invoice),
    )


def send_invoice_order_expired(order):
    """Tell the buyer their unpaid invoice order expired, with the credit note cancelling it."""
    order.refresh_from_db()
    note = order.credit_notes.order_by("-created_at", "-id").first()
    context = {"order": order, "workshop": order.workshop, "link": order_link(order), "note": note}
    send(
        order.buyer_email,
        f"Order {order.code} cancelled: not paid in time",
        "tickets/email/invoice_order_expired.txt",
        context,
        document_pdfs(note),
    )


def send_late_refund(order):
    context = {"order": order, "workshop": order.workshop, "link": order_link(order)}
    send(
        order.buyer_email, f"Order {order.code} refunded", "tickets/email/late_refund.txt", context
    )


def send_order_links(email, orders):
    links = [(order, order_link(order)) for order in orders]
    send(email, "Your order links", "tickets/email/order_links.txt", {"links": links})
