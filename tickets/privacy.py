"""Tickets' part of a person's data: export, erasure on account deletion, anonymising old events.

Orders stay for accounting; what identifies the person is replaced. Found by
workshop/privacy.py through the app registry (``export_user_data``, ``erase_user_data``).
"""

import datetime as dt

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import MessageDelivery, Order, StripeEvent, Ticket

ERASED_NAME = "(removed)"
ERASED_EMAIL_DOMAIN = "erased.invalid"


def erased_email(code):
    """Return a placeholder address that is unique per order or ticket and never delivered."""
    return f"erased-{code.lower()}@{ERASED_EMAIL_DOMAIN}"


def verified_emails(user):
    return list(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )


def email_q(field, emails):
    query = Q(pk__in=[])
    for email in emails:
        query |= Q(**{f"{field}__iexact": email})
    return query


def orders_of(user, emails):
    """Return the user's orders: linked to the account or bought with a verified address."""
    return Order.objects.filter(Q(user=user) | email_q("buyer_email", emails))


def export_user_data(user):
    """Return the person's orders and the tickets held in their name, as JSON-ready data."""
    emails = verified_emails(user)
    orders = (
        orders_of(user, emails).select_related("workshop").prefetch_related("tickets__ticket_type")
    )
    held = Ticket.objects.filter(email_q("attendee_email", emails)).exclude(
        order__in=orders_of(user, emails)
    )
    return {
        "orders": [order_data(order) for order in orders.order_by("created_at")],
        "tickets_bought_for_you": [
            ticket_data(t) for t in held.select_related("ticket_type", "order__workshop")
        ],
    }


def order_data(order):
    return {
        "code": order.code,
        "workshop": order.workshop.title,
        "status": order.status,
        "payment_method": order.payment_method,
        "buyer_name": order.buyer_name,
        "buyer_email": order.buyer_email,
        "billing_name": order.billing_name,
        "billing_address": order.invoice_details,
        "vat_number": order.vat_number,
        "po_number": order.po_number,
        "total": str(order.total),
        "currency": order.currency,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "code_of_conduct_accepted_at": order.code_of_conduct_accepted_at,
        "tickets": [ticket_data(ticket) for ticket in order.tickets.all()],
    }


def ticket_data(ticket):
    return {
        "code": ticket.code,
        "ticket_type": ticket.ticket_type.name,
        "attendee_name": ticket.attendee_name,
        "attendee_email": ticket.attendee_email,
        "checked_in_at": ticket.checked_in_at,
    }


@transaction.atomic
def erase_user_data(user):
    """Remove the person from their orders and tickets; keep the orders for accounting.

    The buyer's name and address become placeholders and the account is unlinked; tickets in
    the person's name are anonymised. Tickets they bought for other people keep those people's
    details, since those tickets are still theirs. An issued invoice is a legal record: its
    snapshot and the order's billing details are kept.
    """
    emails = verified_emails(user)
    orders = list(orders_of(user, emails).select_for_update().prefetch_related("invoice"))
    for order in orders:
        anonymise_buyer(order)
    tickets = Ticket.objects.filter(email_q("attendee_email", emails))
    anonymise_tickets(tickets)
    anonymise_deliveries(MessageDelivery.objects.filter(email_q("email", emails)))
    return {"orders": len(orders)}


def has_invoice(order):
    return hasattr(order, "invoice")


def anonymise_buyer(order):
    """Replace the buyer's details on the (locked) order; keep billing data of an invoice."""
    order.buyer_name = ERASED_NAME
    order.buyer_email = erased_email(order.code)
    order.user = None
    order.client_hash = ""
    fields = ["buyer_name", "buyer_email", "user", "client_hash", "updated_at"]
    if not has_invoice(order):
        order.billing_name = order.invoice_details = order.vat_number = order.po_number = ""
        fields += ["billing_name", "invoice_details", "vat_number", "po_number"]
    order.save(update_fields=fields)
    # Stripe's copies of the session name the customer; the event ids are enough to audit.
    for event in StripeEvent.objects.filter(order=order):
        event.payload = {"id": event.event_id, "type": event.type, "erased": True}
        event.save(update_fields=["payload"])


def anonymise_tickets(tickets):
    changed = list(tickets.exclude(attendee_name=ERASED_NAME).only("id", "code"))
    for ticket in changed:
        ticket.attendee_name = ERASED_NAME
        ticket.attendee_email = erased_email(ticket.code)
    Ticket.objects.bulk_update(changed, ["attendee_name", "attendee_email"], batch_size=500)
    return len(changed)


def anonymise_deliveries(deliveries):
    """Drop unsent messages to these addresses; keep sent ones, without the address."""
    deliveries.filter(status=MessageDelivery.Status.PENDING).delete()
    changed = list(deliveries.exclude(email__endswith=f"@{ERASED_EMAIL_DOMAIN}").only("id"))
    for delivery in changed:
        delivery.email, delivery.name = erased_email(f"d{delivery.id}"), ""
    MessageDelivery.objects.bulk_update(changed, ["email", "name"], batch_size=500)


def anonymise_ended_workshops(*, days, dry_run=False, now=None):
    """Anonymise buyers and attendees of workshops that ended more than ``days`` ago.

    Return the numbers of orders and tickets changed (or that would be, with ``dry_run``).
    Running it again changes nothing: anonymised rows are skipped.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    orders = Order.objects.filter(workshop__ends_at__lt=cutoff).exclude(buyer_name=ERASED_NAME)
    tickets = Ticket.objects.filter(order__workshop__ends_at__lt=cutoff).exclude(
        attendee_name=ERASED_NAME
    )
    counts = {"orders": orders.count(), "tickets": tickets.count()}
    if dry_run:
        return counts
    with transaction.atomic():
        for order in orders.select_for_update().prefetch_related("invoice"):
            anonymise_buyer(order)
        anonymise_tickets(tickets)
        anonymise_deliveries(MessageDelivery.objects.filter(message__workshop__ends_at__lt=cutoff))
    return counts
