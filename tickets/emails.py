"""E-mails to buyers: confirmation with tickets and calendar file, refunds, order links, and
the payment reminder and expiry notice of invoice orders; and to attendees whose tickets an
order's end makes void."""

import enum
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from tickets.joining import joining_for
from tickets.money import format_amount
from tickets.qr import checkin_url, qr_png
from workshop.calendar import workshop_ics
from workshop.mail import once


class Ending(enum.StrEnum):
    """Why an order ended, as its buyer and attendees are told."""

    CANCELLED_BY_ORGANISER = "cancelled by an organiser"
    CANCELLED_BY_BUYER = "cancelled by the buyer"
    PAYMENT_FAILED = "payment failed"
    INVOICE_EXPIRED = "invoice not paid in time"
    LATE_REFUND = "late payment refunded"
    REFUNDED = "refunded by the organisers"


def order_link(order):
    return settings.SITE_URL + reverse("tickets:order_detail", args=[order.code, order.secret])


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


def calendar_links():
    """Return the addresses of the workshop's calendar file, its subscription and the programme."""
    ics = reverse("workshop:ics")
    return {
        "ics": settings.SITE_URL + ics,
        "webcal": f"webcal://{urlsplit(settings.SITE_URL).netloc}{ics}",
        "programme": settings.SITE_URL + reverse("schedule:schedule_ics"),
    }


def ticket_attachments(workshop, tickets):
    """Return each ticket's QR code and the workshop's calendar file, as attachments."""
    attachments = [
        (f"ticket-{t.code}.png", qr_png(checkin_url(t.code)), "image/png") for t in tickets
    ]
    attachments.append((f"{workshop.slug}.ics", workshop_ics(workshop), "text/calendar"))
    return attachments


def send_confirmation(order):
    """Send the order link and its invoice, and once paid the tickets, calendar and joining.

    Once paid, each attendee named on the order also gets their own tickets (once each).
    """
    order.refresh_from_db()
    workshop = order.workshop
    tickets = list(order.tickets.select_related("ticket_type"))
    attachments = ticket_attachments(workshop, tickets) if order.is_paid else []
    attachments.extend(document_pdfs(order.invoice))
    subject = (
        f"Your tickets for {workshop.title}" if order.is_paid else f"Order {order.code} reserved"
    )
    joining = joining_for(order)
    context = {
        "order": order,
        "tickets": tickets,
        "workshop": workshop,
        "link": order_link(order),
        "joining": joining,
        "calendar": calendar_links(),
    }
    send(order.buyer_email, subject, "tickets/email/confirmation.txt", context, attachments)
    if order.is_paid:
        send_attendee_tickets(order, joining)


def send_attendee_tickets(order, joining):
    """E-mail each attendee named on the paid order (not the buyer) their own tickets.

    Once per address and set of tickets, however often the confirmation is sent again; an
    address corrected later gets its own. They do not get the order's private link, which is
    the buyer's.
    """
    workshop = order.workshop
    for address, named in attendees_to_tell(order):
        tickets = [ticket for ticket in named if ticket.refund_id is None]  # refunded: void
        if not tickets:
            continue
        codes = ",".join(sorted(ticket.code for ticket in tickets))
        context = {
            "order": order,
            "workshop": workshop,
            "tickets": tickets,
            "joining": joining,
            "calendar": calendar_links(),
        }
        with once(f"attendee-tickets:{order.pk}:{address.lower()}:{codes}"):
            send(
                address,
                f"Your ticket for {workshop.title}",
                "tickets/email/attendee_ticket.txt",
                context,
                ticket_attachments(workshop, tickets),
            )


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


def latest_credit_note(order):
    return order.credit_notes.select_related("invoice").order_by("-created_at", "-id").first()


def send_invoice_order_expired(order):
    """Tell the buyer their unpaid invoice order expired, with the credit note cancelling it."""
    order.refresh_from_db()
    note = latest_credit_note(order)
    context = {"order": order, "workshop": order.workshop, "link": order_link(order), "note": note}
    send(
        order.buyer_email,
        f"Order {order.code} cancelled: not paid in time",
        "tickets/email/invoice_order_expired.txt",
        context,
        document_pdfs(note),
    )
    send_to_attendees(order, Ending.INVOICE_EXPIRED)


def send_late_refund(order):
    """Tell the buyer their late payment was refunded, and the attendees their tickets are void."""
    context = {"order": order, "workshop": order.workshop, "link": order_link(order)}
    send(
        order.buyer_email, f"Order {order.code} refunded", "tickets/email/late_refund.txt", context
    )
    send_to_attendees(order, Ending.LATE_REFUND)


def send_order_cancelled(order, ending):
    """Tell the buyer who cancelled the order, what it means and what happens to the money."""
    order.refresh_from_db()
    note = latest_credit_note(order)
    context = {
        "order": order,
        "workshop": order.workshop,
        "tickets": list(order.tickets.select_related("ticket_type")),
        "link": order_link(order),
        "note": note,
        "by_buyer": ending == Ending.CANCELLED_BY_BUYER,
        "attendees_told": bool(attendees_to_tell(order)),
    }
    send(
        order.buyer_email,
        f"Order {order.code} cancelled",
        "tickets/email/order_cancelled.txt",
        context,
        document_pdfs(note),
    )
    send_to_attendees(order, ending)


def send_refund(order, refund, ending):
    """Tell the buyer how much is refunded, how, and which tickets it cancels; and those
    tickets' attendees that their ticket no longer admits them."""
    order.refresh_from_db()
    tickets = list(refund.tickets.select_related("ticket_type"))
    if order.status == order.Status.REFUNDED and not tickets:
        # The refund that ended the order cancels every ticket still valid with it.
        tickets = list(order.tickets.select_related("ticket_type").filter(refund=None))
    note = order.credit_notes.filter(created_at__gte=refund.created_at).first()
    context = {
        "order": order,
        "refund": refund,
        "workshop": order.workshop,
        "tickets": tickets,
        "ended": order.status == order.Status.REFUNDED,
        "link": order_link(order),
        "note": note,
        "by_buyer": ending == Ending.CANCELLED_BY_BUYER,
        "kept": order.total - order.refunded_amount,
        "attendees_told": bool(attendees_to_tell(order, tickets)),
    }
    subject = f"Order {order.code}: {format_amount(refund.amount, refund.currency)} refunded"
    send(order.buyer_email, subject, "tickets/email/refund.txt", context, document_pdfs(note))
    if tickets:
        send_to_attendees(order, ending, tickets)


def send_payment_failed(order):
    """Tell the buyer their delayed payment (a bank debit) failed and the order expired."""
    order.refresh_from_db()
    context = {"order": order, "workshop": order.workshop, "link": order_link(order)}
    send(
        order.buyer_email,
        f"Order {order.code} cancelled: the payment failed",
        "tickets/email/payment_failed.txt",
        context,
    )
    send_to_attendees(order, Ending.PAYMENT_FAILED)


def attendees_to_tell(order, tickets=None):
    """Return (address, tickets) of each attendee address other than the buyer's.

    One per address whatever its case, so someone holding two tickets of the order gets one
    e-mail naming both; the buyer hears of every ticket in their own e-mail. ``tickets``:
    only these of the order's (all by default).
    """
    groups = {}
    if tickets is None:
        tickets = order.tickets.select_related("ticket_type")
    for ticket in tickets:
        address = ticket.attendee_email.strip()
        if address and address.lower() != order.buyer_email.strip().lower():
            groups.setdefault(address.lower(), (address, []))[1].append(ticket)
    return list(groups.values())


def send_to_attendees(order, ending, only=None):
    """Tell each attendee named on the order's tickets (or on ``tickets``) that their ticket
    no longer admits them.

    They do not get the order's private link, which is the buyer's.
    """
    workshop = order.workshop
    for address, tickets in attendees_to_tell(order, only):
        context = {"order": order, "workshop": workshop, "tickets": tickets, "ending": ending}
        context["tickets_url"] = settings.SITE_URL + reverse("tickets:ticket_list")
        subject = f"Your ticket for {workshop.title} is cancelled"
        send(address, subject, "tickets/email/attendee_ticket_void.txt", context)


def send_order_links(email, orders):
    links = [(order, order_link(order)) for order in orders]
    send(email, "Your order links", "tickets/email/order_links.txt", {"links": links})


def send_new_order_link(order, reason):
    """Send the buyer the order's new link after the old one stopped working."""
    context = {"order": order, "workshop": order.workshop, "link": order_link(order)}
    context["reason"] = reason
    subject = f"New link to your order {order.code}"
    send(order.buyer_email, subject, "tickets/email/new_order_link.txt", context)


def send_claim_link(email, *, account, orders, token):
    """Ask the owner of ``email`` whether ``account`` may see the orders bought with it."""
    link = settings.SITE_URL + reverse("tickets:claim_orders", args=[token])
    context = {"account": account, "orders": orders, "link": link, "email": email}
    send(email, "Add your ticket orders to an account?", "tickets/email/claim_orders.txt", context)
