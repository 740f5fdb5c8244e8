"""The tickets panels of the organisers' dashboard (listed in ORGANISER_DASHBOARD_PANELS)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tickets.models import Dispute, Order, Refund, RejectedPayment, TicketType
from tickets.services import checkin, stranded
from workshop.organisers import Panel

Status = Order.Status
# Orders whose money came in; refunded ones count in gross and again in refunded.
RECEIVED_STATUSES = [Status.PAID, Status.PARTLY_REFUNDED, Status.REFUNDED]
# The chart shows at most this many days, the latest ones.
CHART_DAYS = 60
CHART_HEIGHT = 120
BAR_WIDTH = 14
# Sales and money are for those who may see the orders; the door sees only arrivals.
ORDERS = "tickets.view_order"


def check_in_context(workshop):
    arrived, valid = checkin.attendance(workshop)
    return {"arrived": arrived, "valid": valid}


CHECK_IN = Panel("tickets.check_in", "organisers/_check_in.html", check_in_context)
TICKET_TYPES = Panel(
    ORDERS,
    "organisers/_ticket_types.html",
    lambda workshop: sales_context(ticket_sales(workshop, timezone.now())),
)
REVENUE = Panel(ORDERS, "organisers/_revenue.html", lambda workshop: {"revenue": revenue(workshop)})
ORDERS_BY_DAY = Panel(
    ORDERS, "organisers/_orders_by_day.html", lambda workshop: {"chart": orders_by_day(workshop)}
)
# Payments refused for not matching their order, and closed disputes, stay listed this long.
RECENT_PROBLEM_DAYS = 30
PAYMENT_PROBLEMS = Panel(
    ORDERS,
    "organisers/_payment_problems.html",
    lambda workshop: payment_problems(workshop, timezone.now()),
)
PENDING_INVOICES = Panel(
    ORDERS,
    "organisers/_pending_invoices.html",
    lambda workshop: invoice_orders(workshop, timezone.localdate(timezone.now(), workshop.tzinfo)),
)


def ticket_sales(workshop, now):
    """Return the workshop's ticket types with sold, reserved, left and checked in.

    Seats held are counted by TicketType.objects.with_seats_taken, the rule the shop sells
    by; sold are those of paid orders, reserved the rest of the held ones.
    """
    paid = Q(tickets__order__status__in=Order.PAID_STATUSES, tickets__refund__isnull=True)
    types = list(
        TicketType.objects.filter(workshop=workshop)
        .with_seats_taken(now)
        .annotate(
            sold=Count("tickets", filter=paid),
            checked_in=Count("tickets", filter=paid & Q(tickets__checked_in_at__isnull=False)),
        )
    )
    for ticket_type in types:
        ticket_type.reserved = ticket_type.seats_taken - ticket_type.sold
    return types


def sales_context(types):
    """Return the types and their totals; capacity and left total only when all are limited."""
    limited = all(t.capacity is not None for t in types)
    totals = {
        "capacity": sum(t.capacity for t in types) if limited else None,
        "sold": sum(t.sold for t in types),
        "reserved": sum(t.reserved for t in types),
        "left": sum(t.seats_left for t in types) if limited else None,
        "checked_in": sum(t.checked_in for t in types),
    }
    return {"sales": types, "totals": totals}


def revenue(workshop):
    """Return gross, refunded and net amounts per currency of the workshop's paid orders."""
    rows = (
        Order.objects.filter(workshop=workshop, status__in=RECEIVED_STATUSES)
        .values("currency")
        .annotate(orders=Count("id"), gross=Sum("total"), refunded=Sum("refunded_amount"))
        .order_by("currency")
    )
    return [{**row, "net": row["gross"] - row["refunded"]} for row in rows]


@dataclass
class Bar:
    day: dt.date
    placed: int
    paid: int
    x: int = 0
    placed_height: int = 0
    paid_height: int = 0

    @property
    def placed_y(self):
        return CHART_HEIGHT - self.placed_height

    @property
    def paid_y(self):
        return CHART_HEIGHT - self.paid_height


@dataclass
class Chart:
    bars: list
    maximum: int
    width: int
    height: int = CHART_HEIGHT
    bar_width: int = BAR_WIDTH - 4

    @property
    def first_day(self):
        return self.bars[0].day

    @property
    def last_day(self):
        return self.bars[-1].day

    @property
    def total_placed(self):
        return sum(bar.placed for bar in self.bars)

    @property
    def total_paid(self):
        return sum(bar.paid for bar in self.bars)


def orders_by_day(workshop):
    """Return the orders placed and paid per day (in the workshop's zone), ready to draw."""
    rows = (
        Order.objects.filter(workshop=workshop)
        .annotate(day=TruncDate("created_at", tzinfo=workshop.tzinfo))
        .values("day")
        .annotate(placed=Count("id"), paid=Count("id", filter=Q(status__in=Order.PAID_STATUSES)))
        .order_by("day")
    )
    counts = {row["day"]: row for row in rows}
    if not counts:
        return Chart(bars=[], maximum=0, width=0)
    last = max(counts)
    first = max(min(counts), last - dt.timedelta(days=CHART_DAYS - 1))
    bars = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        row = counts.get(day, {"placed": 0, "paid": 0})
        bars.append(Bar(day=day, placed=row["placed"], paid=row["paid"]))
    return scale(bars)


def scale(bars):
    maximum = max(bar.placed for bar in bars) or 1
    for index, bar in enumerate(bars):
        bar.x = index * BAR_WIDTH + 2
        bar.placed_height = round(bar.placed * CHART_HEIGHT / maximum)
        bar.paid_height = round(bar.paid * CHART_HEIGHT / maximum)
    return Chart(bars=bars, maximum=maximum, width=len(bars) * BAR_WIDTH)


def invoice_orders(workshop, today):
    """Return the invoice orders awaiting payment (oldest first) and the orders whose bank
    transfer must be sent back, from one query."""
    orders = list(
        Order.objects.filter(
            Q(status=Status.PENDING, payment_method=Order.Method.INVOICE) | Q(refund_owed__gt=0),
            workshop=workshop,
        )
        .annotate(ticket_count=Count("tickets"))
        .order_by("created_at", "id")
    )
    for order in orders:
        order.overdue = order.payment_due_on is not None and order.payment_due_on < today
    return {
        "orders": [order for order in orders if order.status == Status.PENDING],
        "to_return": [order for order in orders if order.refund_owed > 0],
    }


def payment_problems(workshop, now):
    """Return what needs an organiser's eye about card payments, from four queries.

    Open disputes (and those closed lately, with how they ended), payments refunded at once
    for not matching their order, bank debits Stripe has not settled past its limit, and
    refunds that failed lately or have not reached Stripe yet (the money is still owed).
    """
    recent = now - dt.timedelta(days=RECENT_PROBLEM_DAYS)
    disputes = (
        Dispute.objects.filter(order__workshop=workshop)
        .filter(Q(status=Dispute.Status.OPEN) | Q(closed_at__gte=recent))
        .select_related("order")
        .order_by(F("closed_at").asc(nulls_first=True), "respond_by", "id")
    )
    rejected = RejectedPayment.objects.filter(
        order__workshop=workshop, created_at__gte=recent
    ).select_related("order")
    processing = stranded.overdue_processing_orders(now).filter(workshop=workshop)
    refunds = Refund.objects.filter(order__workshop=workshop).filter(
        Q(status=Refund.Status.FAILED, updated_at__gte=recent)
        | Q(status=Refund.Status.PENDING, method=Refund.Method.CARD, stripe_refund_id=None)
    )
    return {
        "refunds": list(refunds.select_related("order")),
        "disputes": list(disputes),
        "rejected": list(rejected),
        "processing": list(processing),
        "processing_days": stranded.PROCESSING_LIMIT.days,
        "recent_days": RECENT_PROBLEM_DAYS,
    }
