"""Spreadsheets of attendees and orders for organisers (see workshop.spreadsheets)."""

from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from workshop.spreadsheets import Table


def attendee_rows(tickets):
    """Yield one row per ticket: who, which type, which order and when they arrived."""
    for ticket in tickets.select_related("ticket_type", "order"):
        yield [
            ticket.attendee_name,
            ticket.attendee_email,
            ticket.ticket_type.name,
            ticket.code,
            ticket.order.code,
            ticket.order.get_status_display(),
            ticket.checked_in_at,
        ]


def order_rows(orders):
    """Yield one row per order with its money figures and dates."""
    for order in orders.annotate(ticket_count=Count("tickets")):
        yield [
            order.code,
            order.buyer_name,
            order.buyer_email,
            order.get_status_display(),
            order.get_payment_method_display(),
            order.ticket_count,
            order.subtotal,
            order.discount_total,
            order.total,
            order.refunded_amount,
            order.currency,
            order.created_at,
            order.paid_at,
        ]


ATTENDEES = Table(
    name="attendees",
    header=(
        "Name",
        "E-mail",
        "Ticket type",
        "Ticket code",
        "Order code",
        "Order status",
        "Checked in",
    ),
    rows=attendee_rows,
    formats=("csv", "xlsx"),
)

ORDERS = Table(
    name="orders",
    header=(
        "Code",
        "Buyer",
        "E-mail",
        "Status",
        "Payment method",
        "Tickets",
        "Subtotal",
        "Discount",
        "Total",
        "Refunded",
        "Currency",
        "Created",
        "Paid",
    ),
    rows=order_rows,
    formats=("csv", "xlsx"),
)


BADGES_PER_PAGE = 8  # 2 x 4 badges of 90 x 55 mm on A4


def badges_response(request, tickets):
    """Render printable name badges for the tickets of paid orders among ``tickets``."""
    chosen = list(tickets.select_related("ticket_type", "order__workshop"))
    printable = [ticket for ticket in chosen if ticket.order.is_paid]
    pages = [
        printable[start : start + BADGES_PER_PAGE]
        for start in range(0, len(printable), BADGES_PER_PAGE)
    ]
    context = {
        "pages": pages,
        "count": len(printable),
        "left_out": len(chosen) - len(printable),
        "back_url": reverse("admin:tickets_ticket_changelist"),
    }
    response = render(request, "tickets/badges.html", context)
    add_never_cache_headers(response)
    return response
