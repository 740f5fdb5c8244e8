"""Check-in at the door (or attendance online): find tickets, check them in, undo.

Each change locks the order and then the ticket row, so two devices checking in the
same ticket at once queue: the second sees the first's check-in and is warned.
Every check-in, undo and refusal is kept in the ticket's CheckInEvent log.
"""

import enum
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format

from tickets.models import CheckInEvent, Order, Ticket

Status = Order.Status
Action = CheckInEvent.Action

# A scanned QR code may hold the whole check-in address; the code is its last part.
SCANNED_URL = re.compile(r"/check-in/([A-Za-z0-9]+)/?(?:[?#].*)?$")
# Shorter searches would list half the attendees.
MIN_SEARCH_LENGTH = 2
SEARCH_LIMIT = 30


class Result(enum.StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"
    REFUSED = "refused"
    UNDONE = "undone"
    NOT_CHECKED_IN = "not_checked_in"


@dataclass(frozen=True)
class Outcome:
    """What a check-in or undo did, in words for the person at the door."""

    ticket: Ticket
    result: Result
    message: str

    @property
    def ok(self):
        return self.result in (Result.CHECKED_IN, Result.UNDONE)


def refusal_reason(ticket):
    """Return why this ticket does not let its holder in, or '' when it does."""
    order = ticket.order
    if ticket.refund_id is not None:
        return f"it was refunded (order {order.code})"
    if order.status in Order.PAID_STATUSES:
        return ""
    reasons = {
        Status.CANCELLED: f"its order {order.code} was cancelled",
        Status.REFUNDED: f"its order {order.code} was refunded",
        Status.EXPIRED: f"its order {order.code} expired before it was paid",
        Status.PROCESSING: f"the payment of its order {order.code} is still processing",
    }
    if order.status == Status.PENDING and order.payment_method == Order.Method.INVOICE:
        return f"the invoice of its order {order.code} is not paid yet"
    return reasons.get(order.status, f"it belongs to an unpaid order ({order.code})")


def person(user):
    """Return how an organiser is named on the check-in page: e-mail, else user name."""
    if user is None:
        return "someone"
    return user.email or user.get_username()


def local_time(moment, workshop):
    """Return a time as the organisers read it: in the workshop's time zone, with the date."""
    return date_format(timezone.localtime(moment, workshop.tzinfo), "H:i e, j F Y")


def describe_check_in(ticket):
    """Return "14:05 CET, 2 December 2030 by a@example.org" for a checked-in ticket."""
    when = local_time(ticket.checked_in_at, ticket.order.workshop)
    return f"{when} by {person(ticket.checked_in_by)}" if ticket.checked_in_by_id else when


def lock_ticket(ticket):
    """Lock the ticket's order, then the ticket (orders first, as every order service does)."""
    Order.objects.select_for_update().filter(pk=ticket.order_id).first()
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("order__workshop", "ticket_type", "checked_in_by")
        .get(pk=ticket.pk)
    )


def check_in_ticket(*, ticket, actor=None, now=None):
    """Check the ticket's holder in; warn when already in, refuse a ticket that is not paid."""
    with transaction.atomic():
        locked = lock_ticket(ticket)
        reason = refusal_reason(locked)
        if reason:
            log(locked, Action.REFUSED, actor, reason)
            message = f"Ticket {locked.code} cannot be checked in: {reason}."
            return Outcome(locked, Result.REFUSED, message)
        if locked.checked_in_at is not None:
            earlier = describe_check_in(locked)
            message = f"Ticket {locked.code} was already checked in at {earlier}."
            return Outcome(locked, Result.ALREADY, message)
        locked.checked_in_at = now or timezone.now()
        locked.checked_in_by = actor
        locked.save(update_fields=["checked_in_at", "checked_in_by"])
        log(locked, Action.CHECK_IN, actor, "", at=locked.checked_in_at)
    return Outcome(locked, Result.CHECKED_IN, f"{locked.attendee_name} ({locked.code}) checked in.")


def undo_check_in(*, ticket, actor=None):
    """Take back a check-in made by mistake; the log keeps when it had been made and by whom."""
    with transaction.atomic():
        locked = lock_ticket(ticket)
        if locked.checked_in_at is None:
            message = f"Ticket {locked.code} is not checked in."
            return Outcome(locked, Result.NOT_CHECKED_IN, message)
        note = f"Had been checked in at {describe_check_in(locked)}."
        locked.checked_in_at = None
        locked.checked_in_by = None
        locked.save(update_fields=["checked_in_at", "checked_in_by"])
        log(locked, Action.UNDO, actor, note)
    message = f"Check-in of {locked.attendee_name} ({locked.code}) undone."
    return Outcome(locked, Result.UNDONE, message)


def log(ticket, action, actor, note, at=None):
    CheckInEvent.objects.create(
        ticket=ticket,
        action=action,
        actor=actor if actor and actor.pk else None,
        note=note[:300],
        created_at=at or timezone.now(),
    )


def clean_query(text):
    """Return the search as typed, or the ticket code when a scanned check-in address was typed."""
    # PostgreSQL refuses NUL characters in a query; nobody types them on purpose.
    text = (text or "").replace("\x00", "").strip()
    match = SCANNED_URL.search(text)
    return match[1].upper() if match else text


def find_tickets(*, workshop, query):
    """Return up to SEARCH_LIMIT tickets of the workshop matching a code, name or e-mail address.

    A ticket or order code matches exactly (any case); names and e-mail addresses of
    attendees and buyers match in part.
    """
    query = clean_query(query)
    if not query:
        return []
    exact = Q(code__iexact=query) | Q(order__code__iexact=query)
    if len(query) >= MIN_SEARCH_LENGTH:
        exact |= (
            Q(attendee_name__icontains=query)
            | Q(attendee_email__icontains=query)
            | Q(order__buyer_name__icontains=query)
            | Q(order__buyer_email__icontains=query)
        )
    tickets = (
        Ticket.objects.filter(exact, order__workshop=workshop)
        .select_related("order__workshop", "ticket_type", "checked_in_by")
        .order_by("attendee_name", "id")
    )
    return list(tickets[: SEARCH_LIMIT + 1])


def get_ticket(*, workshop, code):
    """Return the workshop's ticket with this code (any case), or None."""
    return (
        Ticket.objects.filter(code__iexact=clean_query(code), order__workshop=workshop)
        .select_related("order__workshop", "ticket_type", "checked_in_by")
        .first()
    )


def history(ticket, limit=10):
    """Return the ticket's latest check-ins, undos and refusals, newest first, in words."""
    events = ticket.check_in_events.select_related("actor").order_by("-created_at", "-id")
    workshop = ticket.order.workshop
    return [
        {
            "when": local_time(event.created_at, workshop),
            "what": event.get_action_display(),
            "who": person(event.actor),
            "note": event.note,
        }
        for event in events[:limit]
    ]


def attendance(workshop):
    """Return (checked in, valid tickets) of the workshop."""
    tickets = Ticket.objects.admitting().filter(order__workshop=workshop)
    counts = tickets.aggregate(
        valid=Count("id"), arrived=Count("id", filter=Q(checked_in_at__isnull=False))
    )
    return counts["arrived"], counts["valid"]
