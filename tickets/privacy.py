"""Tickets' part of a person's data: export, erasure on account deletion, anonymising old events.

Waiting-list entries are exported and, on erasure or once the workshop is long over, deleted.

A person's orders are Order.objects.of_user, the rule My tickets shows them by. Orders stay for
accounting; what identifies the person is replaced. Found by
workshop/privacy.py through the app registry (``export_user_data``, ``erase_user_data``).
"""

import datetime as dt

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat, JSONObject, Lower
from django.utils import timezone

from tickets.models import MessageDelivery, Order, StripeEvent, Ticket, Voucher, WaitingListEntry
from tickets.services import waitlist
from workshop.models import OutgoingEmail

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


def export_user_data(user):
    """Return the person's orders and the tickets held in their name, as JSON-ready data."""
    emails = verified_emails(user)
    mine = Order.objects.of_user(user)
    orders = mine.select_related("workshop").prefetch_related("tickets__ticket_type")
    held = Ticket.objects.filter(email_q("attendee_email", emails)).exclude(order__in=mine)
    return {
        "orders": [order_data(order) for order in orders.order_by("created_at")],
        "tickets_bought_for_you": [
            held_ticket_data(t) for t in held.select_related("ticket_type", "order__workshop")
        ],
        "waiting_list": [
            waiting_data(entry)
            for entry in WaitingListEntry.objects.filter(email_q("email", emails))
            .select_related("ticket_type__workshop")
            .order_by("created_at", "id")
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


def held_ticket_data(ticket):
    """Return a ticket in the person's name, bought by someone else, without its code.

    The code is what the ticket's QR code admits; it is the buyer's to pass on. An address
    can be added to anyone's account, so the account is not told it.
    """
    data = ticket_data(ticket)
    del data["code"]
    return data


def waiting_data(entry):
    return {
        "workshop": entry.ticket_type.workshop.title,
        "ticket_type": entry.ticket_type.name,
        "name": entry.name,
        "email": entry.email,
        "status": entry.status,
        "joined_at": entry.created_at,
        "confirmed_at": entry.confirmed_at,
        "offer_sent_at": entry.offer_sent_at,
        "offer_expires_at": entry.offer_expires_at,
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
    orders = anonymise_orders(Order.objects.of_user(user))
    tickets = anonymise_tickets(Ticket.objects.filter(email_q("attendee_email", emails)))
    anonymise_deliveries(MessageDelivery.objects.filter(email_q("email", emails)))
    waiting = forget_waiting(WaitingListEntry.objects.filter(email_q("email", emails)))
    return {"orders": orders, "tickets": tickets, "waiting_list_entries": waiting}


def forget_waiting(entries):
    """Delete these entries: a place in line is of no use to the accounts. Return how many.

    A running offer ends with its entry (its voucher stops working) and its seat is offered on.
    """
    Voucher.objects.filter(waiting_list_entry__in=entries).update(valid_until=timezone.now())
    type_ids = list(entries.values_list("ticket_type_id", flat=True))
    deleted, _ = entries.delete()
    waitlist.seats_freed(type_ids)
    return deleted


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
    """Drop unsent messages to these addresses; keep sent ones, without the address.

    A delivery whose e-mail is not sent (queued, or failed) goes with its e-mail: it will not
    be sent now. The e-mails of sent ones leave the mail log (it keeps their addresses), and
    a delivery without its e-mail reads as sent.
    """
    email_ids = list(
        deliveries.exclude(outgoing_email=None).values_list("outgoing_email_id", flat=True)
    )
    deliveries.exclude(MessageDelivery.sent_q()).delete()
    OutgoingEmail.objects.filter(pk__in=email_ids).delete()
    deliveries.exclude(email__endswith=f"@{ERASED_EMAIL_DOMAIN}").update(
        email=placeholder_email("d", "id"), name=""
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
        WaitingListEntry.objects.filter(ticket_type__workshop__ends_at__lt=cutoff).delete()
    return counts
