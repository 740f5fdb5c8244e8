import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, VoucherFactory
from tests.smtp import free_port, smtp_settings
from tests.tickets.conftest import BUYER, people
from tickets.models import Order, OrderEvent, Ticket
from tickets.services import capacity, errors, lifecycle
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def order(workshop, counts, method="stripe", voucher=None, attendees=None):
    invoice = "Example University, 1 Road, Town; PO 42" if method == "invoice" else ""
    return lifecycle.create_order(
        invoice_details=invoice,
        workshop=workshop,
        ticket_counts=counts,
        buyer=BUYER,
        attendees=attendees if attendees is not None else people(sum(counts.values())),
        voucher_code=voucher,
        payment_method=method,
    )


def test_create_order_free_confirmed_at_once(
    workshop, free_type, no_stripe, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = order(workshop, {free_type.id: 2})

    assert created.status == Order.Status.PAID
    assert created.payment_method == Order.Method.FREE
    assert created.total == Decimal("0.00")
    assert created.reserved_until is None
    assert len(created.secret) == 43
    assert [t.attendee_name for t in created.tickets.all()] == ["Ada 0", "Ada 1"]
    # The buyer's confirmation, then each attendee's own ticket.
    assert [(m.to, m.subject) for m in outbox] == [
        (["ada@example.org"], f"Your tickets for {workshop.title}"),
        (["ada0@example.org"], f"Your ticket for {workshop.title}"),
        (["ada1@example.org"], f"Your ticket for {workshop.title}"),
    ]


def test_create_order_card_reserves_seats_for_30_minutes(workshop, paid_type, standin):
    before = timezone.now()

    created = order(workshop, {paid_type.id: 3})

    assert created.status == Order.Status.PENDING
    assert created.total == Decimal("75.00")
    assert created.currency == "EUR"
    assert dt.timedelta(minutes=30) <= created.reserved_until - before < dt.timedelta(minutes=31)
    assert capacity.seats_taken([paid_type.id], now=timezone.now()) == {paid_type.id: 3}


def test_create_order_invoice_stays_pending_and_holds_seats(
    workshop, no_stripe, outbox, django_capture_on_commit_callbacks
):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=2, invoice_allowed=True)

    with django_capture_on_commit_callbacks(execute=True):
        created = order(workshop, {ticket_type.id: 2}, method="invoice")

    assert (created.status, created.payment_method) == ("pending", "invoice")
    assert created.reserved_until is None
    assert outbox[0].subject == f"Order {created.code} reserved"
    # The invoice PDF only; tickets (QR codes) and the calendar come once it is paid.
    assert [name for name, _, _ in outbox[0].attachments] == [
        f"invoice-{created.invoice.number}.pdf"
    ]
    later = timezone.now() + dt.timedelta(days=30)
    assert capacity.seats_taken([ticket_type.id], now=later) == {ticket_type.id: 2}


def test_create_order_invoice_refused_when_type_disallows(workshop, paid_type, no_stripe):
    with pytest.raises(errors.OrderError, match="Choose a payment method"):
        order(workshop, {paid_type.id: 1}, method="invoice")

    assert Order.objects.count() == 0


def test_create_order_card_refused_without_stripe_keys(workshop, paid_type, no_stripe):
    with pytest.raises(errors.OrderError, match="Choose a payment method"):
        order(workshop, {paid_type.id: 1}, method="stripe")


def test_mark_invoice_paid_confirms_with_tickets(
    workshop, no_stripe, organiser, outbox, django_capture_on_commit_callbacks
):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)
    created = order(workshop, {ticket_type.id: 1}, method="invoice")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.mark_invoice_paid(order=created, actor=organiser)

    created.refresh_from_db()
    assert created.status == Order.Status.PAID
    assert created.paid_at is not None
    assert [m.subject for m in outbox if m.to == ["ada@example.org"]][-1] == (
        f"Your tickets for {workshop.title}"
    )
    event = created.events.last()
    assert (event.from_status, event.to_status, event.actor) == ("pending", "paid", organiser)


def test_mark_invoice_paid_refuses_card_order(workshop, paid_type, standin):
    created = order(workshop, {paid_type.id: 1})

    with pytest.raises(errors.OrderError, match="is not an unpaid invoice order"):
        lifecycle.mark_invoice_paid(order=created)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ("empty", "Choose at least one ticket."),
        ("letters", "Quantities must be whole numbers."),
        ("negative", "Quantities cannot be negative."),
        ("zero-only", "Choose at least one ticket."),
        ("too-many", "Choose between 1 and 10 “Regular” tickets per order."),
        ("unknown", "One of the chosen ticket types is not available."),
    ],
)
def test_create_order_bad_quantities_refused(workshop, paid_type, standin, counts, message):
    counts = {
        "empty": {},
        "letters": {paid_type.id: "a"},
        "negative": {paid_type.id: -1},
        "zero-only": {paid_type.id: 0},
        "too-many": {paid_type.id: 11},
        "unknown": {paid_type.id + 999: 1},
    }[counts]

    with pytest.raises(errors.OrderError) as error:
        order(workshop, counts, attendees=people(11 if counts == {paid_type.id: 11} else 1))

    assert str(error.value) == message
    assert Order.objects.count() == 0


def test_create_order_below_minimum_refused(workshop, standin):
    group = TicketTypeFactory(workshop=workshop, name="Group", min_per_order=3, max_per_order=5)

    with pytest.raises(errors.OrderError, match="Choose between 3 and 5 “Group” tickets"):
        order(workshop, {group.id: 2})


def test_create_order_attendee_count_must_match(workshop, paid_type, standin):
    with pytest.raises(errors.OrderError, match="for each of the 2 attendees"):
        order(workshop, {paid_type.id: 2}, attendees=people(1))


def test_create_order_attendee_email_checked(workshop, paid_type, standin):
    with pytest.raises(errors.OrderError, match="valid e-mail address"):
        order(workshop, {paid_type.id: 1}, attendees=[{"name": "X", "email": "not-an-address"}])


def test_create_order_sold_out_refused(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Small", capacity=1)
    order(workshop, {ticket_type.id: 1})

    with pytest.raises(errors.OrderError) as error:
        order(workshop, {ticket_type.id: 1})

    assert str(error.value) == "“Small” is sold out."
    assert Ticket.objects.filter(ticket_type=ticket_type).count() == 1


def test_create_order_more_than_left_refused(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Small", capacity=3)
    order(workshop, {ticket_type.id: 2})

    with pytest.raises(errors.OrderError, match="^Only 1 “Small” tickets are left.$"):
        order(workshop, {ticket_type.id: 2})


def test_expired_reservation_frees_seats_lazily(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Small", capacity=1)
    first = order(workshop, {ticket_type.id: 1})
    Order.objects.filter(pk=first.pk).update(
        reserved_until=timezone.now() - dt.timedelta(seconds=1)
    )

    second = order(workshop, {ticket_type.id: 1})

    assert second.status == Order.Status.PENDING
    first.refresh_from_db()
    assert first.status == Order.Status.PENDING


def test_refunded_and_cancelled_orders_free_seats(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=2)
    for status in ["refunded", "cancelled"]:
        TicketFactory(ticket_type=ticket_type, order=OrderFactory(workshop=workshop, status=status))

    assert capacity.seats_taken([ticket_type.id], now=timezone.now()) == {}
    assert order(workshop, {ticket_type.id: 2}).tickets.count() == 2


def test_create_order_sales_not_open_refused(workshop, standin):
    opens = dt.datetime(2030, 1, 5, 9, 0, tzinfo=dt.UTC)
    ticket_type = TicketTypeFactory(workshop=workshop, name="Early", sale_starts_at=opens)

    with pytest.raises(errors.OrderError) as error:
        order(workshop, {ticket_type.id: 1})

    assert str(error.value) == "Sales of “Early” open on 5 January 2030, 09:00 UTC."


def test_create_order_sales_closed_refused(workshop, standin):
    closed = timezone.now() - dt.timedelta(minutes=1)
    ticket_type = TicketTypeFactory(workshop=workshop, name="Late", sale_ends_at=closed)

    with pytest.raises(errors.OrderError, match="^Sales of “Late” have closed.$"):
        order(workshop, {ticket_type.id: 1})


def test_create_order_other_workshops_type_refused(workshop, standin):
    from tests.factories import WorkshopFactory

    other = TicketTypeFactory(workshop=WorkshopFactory(is_current=False))

    with pytest.raises(errors.OrderError, match="not available"):
        order(workshop, {other.id: 1})


def test_hidden_type_refused_without_voucher(workshop, standin):
    hidden = TicketTypeFactory(workshop=workshop, visible=False)

    with pytest.raises(errors.OrderError, match="not available"):
        order(workshop, {hidden.id: 1})


def test_hidden_type_unlocked_by_voucher_free(workshop, no_stripe):
    hidden = TicketTypeFactory(workshop=workshop, visible=False, price="25.00")
    voucher = VoucherFactory(workshop=workshop, code="SPEAKER", discount="percent", value=100)
    voucher.ticket_types.set([hidden])

    created = order(workshop, {hidden.id: 1}, voucher="speaker")

    assert (created.status, created.payment_method) == ("paid", "free")
    assert (created.subtotal, created.discount_total, created.total) == (
        Decimal("25.00"),
        Decimal("25.00"),
        Decimal("0.00"),
    )
    assert created.voucher == voucher


@pytest.mark.parametrize(
    ("discount", "value", "unit"),
    [
        ("percent", 10, "22.50"),
        ("percent", "33.33", "16.67"),
        ("fixed", 5, "20.00"),
        ("fixed", 30, "0.00"),
    ],
)
def test_voucher_discounts_each_ticket(workshop, paid_type, standin, discount, value, unit):
    VoucherFactory(workshop=workshop, code="CUT", discount=discount, value=value)

    created = order(workshop, {paid_type.id: 2}, voucher="CUT")

    assert [t.price for t in created.tickets.all()] == [Decimal(unit)] * 2
    assert created.total == Decimal(unit) * 2


def test_voucher_invalid_refused(workshop, paid_type, standin):
    with pytest.raises(errors.OrderError, match="^This voucher code is not valid.$"):
        order(workshop, {paid_type.id: 1}, voucher="NOPE")


def test_voucher_expired_refused(workshop, paid_type, standin):
    VoucherFactory(workshop=workshop, code="OLD", valid_until=timezone.now() - dt.timedelta(1))

    with pytest.raises(errors.OrderError, match="^This voucher code has expired.$"):
        order(workshop, {paid_type.id: 1}, voucher="OLD")


def test_voucher_used_up_refused(workshop, paid_type, standin):
    VoucherFactory(workshop=workshop, code="ONCE", discount="percent", value=10, max_uses=1)
    order(workshop, {paid_type.id: 1}, voucher="ONCE")

    with pytest.raises(errors.OrderError, match="^This voucher code has been used up.$"):
        order(workshop, {paid_type.id: 1}, voucher="ONCE")


def test_voucher_use_returns_when_order_expires(workshop, paid_type, standin):
    VoucherFactory(workshop=workshop, code="ONCE", discount="percent", value=10, max_uses=1)
    first = order(workshop, {paid_type.id: 1}, voucher="ONCE")
    lifecycle.release_order(order=first, note="test")

    assert order(workshop, {paid_type.id: 1}, voucher="ONCE").voucher.code == "ONCE"


def test_voucher_limited_to_other_types_refused(workshop, paid_type, standin):
    voucher = VoucherFactory(workshop=workshop, code="OTHER", discount="percent", value=50)
    voucher.ticket_types.set([TicketTypeFactory(workshop=workshop)])

    with pytest.raises(errors.OrderError, match="does not apply to the tickets you chose"):
        order(workshop, {paid_type.id: 1}, voucher="OTHER")


def test_cancel_pending_order_frees_seats(workshop, paid_type, standin, organiser):
    created = order(workshop, {paid_type.id: 2})

    lifecycle.cancel_order(order=created, actor=organiser)

    created.refresh_from_db()
    assert created.status == Order.Status.CANCELLED
    assert capacity.seats_taken([paid_type.id], now=timezone.now()) == {}


def test_cancel_paid_card_order_refused(workshop):
    paid = OrderFactory(workshop=workshop, status="paid", payment_method="stripe")

    with pytest.raises(errors.OrderError, match=f"Order {paid.code} is paid."):
        lifecycle.cancel_order(order=paid)


def test_update_attendee_before_cutoff(workshop, free_type):
    created = order(workshop, {free_type.id: 1})
    ticket = created.tickets.get()

    lifecycle.update_attendee(ticket=ticket, name=" Grace ", email="grace@example.org")

    ticket.refresh_from_db()
    assert (ticket.attendee_name, ticket.attendee_email) == ("Grace", "grace@example.org")
    assert OrderEvent.objects.filter(order=created, note__contains="corrected").count() == 1


def test_update_attendee_after_cutoff_refused(workshop, free_type, settings):
    created = order(workshop, {free_type.id: 1})
    workshop.starts_at = timezone.now() + dt.timedelta(hours=23)
    workshop.ends_at = workshop.starts_at + dt.timedelta(hours=5)
    workshop.save()
    settings.TICKETS_ATTENDEE_EDIT_CUTOFF_HOURS = 24

    with pytest.raises(errors.OrderError, match="can no longer be changed"):
        lifecycle.update_attendee(ticket=created.tickets.get(), name="X", email="x@example.org")


def test_release_expired_orders_command_without_stripe(workshop, paid_type, standin, settings):
    from django.core.management import call_command

    created = order(workshop, {paid_type.id: 1})
    Order.objects.filter(pk=created.pk).update(reserved_until=timezone.now())

    call_command("release_expired_orders", stdout=open("/dev/null", "w"))

    created.refresh_from_db()
    assert created.status == Order.Status.EXPIRED


def test_lock_failures_recognised():
    from django.db import OperationalError

    class PostgresLockTimeout(Exception):
        sqlstate = "55P03"

    timeout = OperationalError("canceling statement due to lock timeout")
    timeout.__cause__ = PostgresLockTimeout()

    assert capacity.is_lock_failure(timeout) is True
    assert capacity.is_lock_failure(OperationalError("database is locked")) is True
    assert capacity.is_lock_failure(OperationalError("no such table: x")) is False


def test_busy_database_answers_503(client, workshop, paid_type, standin, monkeypatch):
    from django.db import OperationalError

    def locked(type_ids):
        raise OperationalError("database is locked")

    monkeypatch.setattr("tickets.services.capacity.lock_ticket_types", locked)
    from tests.tickets.test_stripe import checkout_data

    response = client.post("/tickets/checkout/", checkout_data(paid_type))

    assert response.status_code == 503
    assert (
        "Many people are buying tickets right now. Please try again." in response.content.decode()
    )
    assert Order.objects.count() == 0


def test_ticket_type_price_must_fit_currency(workshop):
    from django.core.exceptions import ValidationError

    workshop.currency = "JPY"
    workshop.save()
    ticket_type = TicketTypeFactory.build(workshop=workshop, price=Decimal("1500.50"))

    with pytest.raises(ValidationError) as error:
        ticket_type.full_clean()

    assert error.value.message_dict == {"price": ["Prices in JPY have no smaller units."]}


def test_zero_decimal_order_amounts_whole(workshop, standin):
    workshop.currency = "JPY"
    workshop.save()
    VoucherFactory(workshop=workshop, code="THIRD", discount="percent", value="33.33")
    ticket_type = TicketTypeFactory(workshop=workshop, price="1000")

    created = order(workshop, {ticket_type.id: 2}, voucher="THIRD")

    assert (created.subtotal, created.discount_total, created.total) == (
        Decimal("2000"),
        Decimal("666"),
        Decimal("1334"),
    )


def test_invoice_order_needs_invoice_address(workshop, no_stripe):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)

    with pytest.raises(errors.OrderError, match="Give the invoice address"):
        lifecycle.create_order(
            workshop=workshop,
            ticket_counts={ticket_type.id: 1},
            buyer=BUYER,
            attendees=people(1),
            payment_method="invoice",
            invoice_details="  ",
        )


def test_mail_failure_does_not_undo_or_break_order(
    workshop, free_type, settings, django_capture_on_commit_callbacks
):
    for name, value in smtp_settings(free_port()).items():  # the mail server is down
        setattr(settings, name, value)

    with django_capture_on_commit_callbacks(execute=True):
        created = order(workshop, {free_type.id: 1})

    created.refresh_from_db()
    assert created.status == Order.Status.PAID
    # The confirmation waits in the mail log for its next attempt.
    email = OutgoingEmail.objects.get(recipients=created.buyer_email)
    assert (email.state, email.recipients, email.attempts) == ("queued", created.buyer_email, 1)
    assert email.last_error.startswith("ConnectionRefusedError")


@pytest.mark.parametrize(
    ("previous", "status"),
    [
        ("paid", "pending"),
        ("refunded", "paid"),
        ("partly_refunded", "paid"),
        ("expired", "pending"),
        ("cancelled", "paid"),
        ("processing", "pending"),
    ],
)
def test_order_status_never_moves_backwards(workshop, previous, status):
    from tickets.services.lifecycle import set_status

    created = OrderFactory(workshop=workshop, status=previous)

    with pytest.raises(ValueError, match=f"cannot go from {previous} to {status}"):
        set_status(created, status, "test")


@pytest.mark.parametrize("status", [s.value for s in Order.Status])
@pytest.mark.parametrize("method", [m.value for m in Order.Method])
@pytest.mark.parametrize("reserved", [None, -1, 1])
def test_order_holds_seats_agrees_with_the_database_filter(workshop, status, method, reserved):
    now = timezone.now()
    until = None if reserved is None else now + dt.timedelta(minutes=reserved)
    created = OrderFactory(
        workshop=workshop, status=status, payment_method=method, reserved_until=until
    )

    in_database = Order.objects.holding_seats(now).filter(pk=created.pk).exists()

    assert created.holds_seats(now) is in_database
    expected = status in ("paid", "partly_refunded", "processing") or (
        status == "pending" and (method == "invoice" or reserved == 1)
    )
    assert in_database is expected
