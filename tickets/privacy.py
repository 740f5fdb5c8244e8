"""Tickets' part of a person's data: export, erasure on account deletion, anonymising old events.

Orders stay for accounting; what identifies the person is replaced. Found by
workshop/privacy.py through the app registry (``export_user_data``, ``erase_user_data``).
"""

import datetime as dt

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat, JSONObject, Lower, Replace
from django.utils import timezone

from tickets.models import MessageDelivery, Order, StripeEvent, Ticket

ERASED_NAME = "(removed)"
ERASED_EMAIL_DOMAIN = "erased.invalid"


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
    orders = anonymise_orders(orders_of(user, emails))
    tickets = anonymise_tickets(Ticket.objects.filter(email_q("attendee_email", emails)))
    anonymise_deliveries(MessageDelivery.objects.filter(email_q("email", emails)))
    return {"orders": orders, "tickets": tickets}


def anonymise_orders(orders):
    """Replace the buyer's details on these orders; keep the billing data of issued invoices.

    A few UPDATEs whatever the number of orders, so the nightly command stays quick.
    """
    ids = list(orders.exclude(buyer_name=ERASED_NAME).values_list("id", flat=True))
    chosen = Order.objects.filter(id__in=ids)
    buyer = {
        "buyer_name": ERASED_NAME,
        "buyer_email": placeholder_email("", "code"),
        "user": None,
    }
    chosen.update(**buyer, client_hash="", updated_at=timezone.now())
    billing = {"billing_name": "", "invoice_details": "", "vat_number": "", "po_number": ""}
    chosen.filter(invoices__isnull=True).update(**billing)
    # Stripe's copies of the session name the customer; the event ids are enough to audit.
    StripeEvent.objects.filter(order_id__in=ids).update(
        payload=JSONObject(id=F("event_id"), type=F("type"), erased=Value(True))
    )
    return len(ids)


def placeholder_email(prefix, field):
    """Return an expression for erased-<prefix><field>@erased.invalid: unique, never delivered."""
    value = Lower(field) if field == "code" else Cast(field, CharField())
    return Concat(Value(f"erased-{prefix}"), value, Value(f"@{ERASED_EMAIL_DOMAIN}"))


def anonymise_tickets(tickets):
    """Replace the attendee's name and address on these tickets; return how many changed."""
    return tickets.exclude(attendee_name=ERASED_NAME).update(
        attendee_name=ERASED_NAME, attendee_email=placeholder_email("", "code")
    )


def anonymise_deliveries(deliveries):
    """Drop unsent messages to these addresses; keep sent ones, without the address."""
    deliveries.filter(status=MessageDelivery.Status.PENDING).delete()
    # The SMTP server's refusal usually quotes the address: keep the reason without it.
    deliveries.exclude(email__endswith=f"@{ERASED_EMAIL_DOMAIN}").update(
        email=placeholder_email("d", "id"),
        name="",
        last_error=Replace(F("last_error"), F("email"), Value(ERASED_NAME)),
    )


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
        anonymise_orders(orders)
        anonymise_tickets(tickets)
        anonymise_deliveries(MessageDelivery.objects.filter(message__workshop__ends_at__lt=cutoff))
    return counts
