"""Invoice orders have terms: due date, bank details, reminder, expiry, extension, late payment."""

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import OrderFactory, TicketTypeFactory, UserFactory, WorkshopFactory
from tests.tickets.conftest import BUYER, people
from tests.tickets.test_invoices import at_once, on_postgres
from tickets.models import CreditNote, Invoice, Order
from tickets.services import lifecycle
from tickets.services.capacity import seats_taken
from tickets.services.errors import OrderError
from tickets.services.invoice_terms import (
    Transfer,
    expire_overdue_invoice_orders,
    extend_payment_due,
    record_bank_transfer,
    record_transfer_returned,
    send_payment_reminders,
)

pytestmark = pytest.mark.django_db

ORDERS = "/admin/tickets/order/"
BANK = "Workshop Society e.V.\nIBAN DE02 1001 0010 0123 4567 89\nBIC BEVODEBB"


@pytest.fixture
def terms(workshop, no_stripe):
    """A workshop paid by invoice: 14 days to pay, reminded 3 days before, 3 days of grace."""
    workshop.bank_details = BANK
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    return workshop


@pytest.fixture
def seats(terms):
    return TicketTypeFactory(workshop=terms, price="40.00", capacity=2, invoice_allowed=True)


def place(workshop, ticket_type, quantity=1, email="ada@example.org", **kwargs):
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: quantity},
        buyer={**BUYER, "email": email},
        attendees=people(quantity),
        payment_method="invoice",
        invoice_details="Example University\nMain Street 1",
        **kwargs,
    )


def local(workshop, day, hour=12):
    """Return ``hour`` o'clock on ``day`` in the workshop's time zone."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(workshop.time_zone))


def days(n):
    return dt.timedelta(days=n)


def long(day):
    return f"{day.day} {day:%B %Y}"


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def subjects(mailoutbox):
    return [message.subject for message in mailoutbox]


# -- Due date ----------------------------------------------------------------------------------


def test_invoice_order_due_after_the_payment_terms(terms, seats):
    order = place(terms, seats)

    today = timezone.localdate(order.created_at, terms.tzinfo)
    assert order.payment_due_on == today + days(14)
    assert order.payment_last_day == today + days(17)


def test_due_date_never_after_the_workshop_starts(terms, seats):
    terms.starts_at = timezone.now() + days(5)
    terms.ends_at = terms.starts_at + dt.timedelta(hours=5)
    terms.save()

    order = place(terms, seats)

    assert order.payment_due_on == timezone.localdate(terms.starts_at, terms.tzinfo)


def test_due_date_never_before_the_order(terms):
    placed = dt.datetime(2030, 12, 10, 9, tzinfo=dt.UTC)  # after the workshop started

    assert terms.invoice_due_date(placed) == dt.date(2030, 12, 10)


def test_card_and_free_orders_have_no_due_date(workshop, free_type):
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={free_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="free",
    )

    assert order.payment_due_on is None


# -- Shown on the invoice, the order page and the e-mail ------------------------------------------


def test_invoice_shows_due_date_and_bank_details(client, terms, seats):
    order = place(terms, seats)
    due = long(order.payment_due_on)

    html = client.get(f"{order.get_absolute_url()}invoice/").content.decode()
    pdf = pdf_text(client.get(f"{order.get_absolute_url()}invoice.pdf").content)

    invoice = order.invoice
    assert invoice.bank_details == BANK
    assert f"Payment due by {due}: please transfer 40.00 EUR, quoting {invoice.number}." in html
    assert '<h2 id="bank-heading">Bank details</h2>' in html
    assert "Workshop Society e.V.<br>IBAN DE02 1001 0010 0123 4567 89<br>BIC BEVODEBB" in html
    assert f"Payment due by {due}: please transfer 40.00 EUR" in pdf
    assert f"Bank details\n{BANK}" in pdf


def test_invoice_keeps_the_bank_details_it_was_issued_with(client, terms, seats):
    order = place(terms, seats)
    terms.bank_details = "A new account"
    terms.save()

    html = client.get(f"{order.get_absolute_url()}invoice/").content.decode()

    assert "IBAN DE02 1001 0010 0123 4567 89" in html
    assert "A new account" not in html


def test_card_invoice_has_no_bank_details(client, terms, paid_type, standin):
    from tests.tickets.test_stripe import card_order

    order = card_order(terms, paid_type)
    standin.pay(order.stripe_session_id)

    assert Invoice.objects.get(order=order).bank_details == ""


def test_order_page_shows_due_date_last_day_and_bank_details(client, terms, seats):
    order = place(terms, seats)

    html = client.get(order.get_absolute_url()).content.decode()

    assert (
        f"by bank transfer by <strong>{long(order.payment_due_on)}</strong>, quoting "
        f"{order.invoice.number}; your tickets are valid once it is paid. If it is not paid by "
        f"{long(order.payment_last_day)}, the order is cancelled and the seats are offered to "
        "others."
    ) in html
    assert "<h2>Bank details</h2>" in html
    assert "IBAN DE02 1001 0010 0123 4567 89<br>BIC BEVODEBB" in html


def test_confirmation_email_has_terms_and_the_invoice_pdf(
    terms, seats, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(terms, seats)

    (message,) = mailoutbox
    number = order.invoice.number
    assert f"by bank transfer by {long(order.payment_due_on)}, quoting {number}" in message.body
    assert f"If it is not paid by {long(order.payment_last_day)}, the order is cancelled" in (
        message.body
    )
    assert f"Bank details:\n{BANK}\n" in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == (f"invoice-{number}.pdf", "application/pdf")
    assert f"Invoice {number}" in pdf_text(content)
    assert "IBAN DE02 1001 0010 0123 4567 89" in pdf_text(content)


# -- Reminder ------------------------------------------------------------------------------------


def test_reminder_sent_once_on_its_day(
    terms, seats, mailoutbox, django_capture_on_commit_callbacks
):
    order = place(terms, seats)
    remind_on = order.payment_due_on - days(3)
    mailoutbox.clear()  # the order's confirmation

    with django_capture_on_commit_callbacks(execute=True):
        early = send_payment_reminders(now=local(terms, remind_on - days(1), 23))
        first = send_payment_reminders(now=local(terms, remind_on, 0))
        again = send_payment_reminders(now=local(terms, remind_on, 12))

    assert (early, first, again) == (0, 1, 0)
    (message,) = mailoutbox
    assert message.subject == f"Payment reminder: order {order.code}"
    assert message.to == ["ada@example.org"]
    assert (
        f"invoice {order.invoice.number} for your order {order.code} "
        f"({terms.title}) is due on {long(order.payment_due_on)}: please transfer 40.00 EUR"
    ) in message.body
    assert f"Bank details:\n{BANK}" in message.body
    assert message.attachments[0][0] == f"invoice-{order.invoice.number}.pdf"
    order.refresh_from_db()
    assert order.payment_reminder_sent_at == local(terms, remind_on, 0)
    assert (
        order.events.last().note == f"Payment reminder sent: due on {long(order.payment_due_on)}."
    )


def test_reminder_after_a_gap_still_sent_until_the_last_day(terms, seats, mailoutbox):
    order = place(terms, seats)

    sent = send_payment_reminders(now=local(terms, order.payment_last_day, 20))

    assert sent == 1


def test_no_reminder_once_the_order_is_overdue_paid_or_cancelled(terms):
    roomy = TicketTypeFactory(workshop=terms, price="40.00", invoice_allowed=True)
    overdue, paid, cancelled = (place(terms, roomy) for _ in range(3))
    lifecycle.mark_invoice_paid(order=paid)
    lifecycle.cancel_order(order=cancelled)

    late = send_payment_reminders(now=local(terms, overdue.payment_last_day + days(1)))
    on_time = send_payment_reminders(now=local(terms, paid.payment_due_on))

    # Only the order still unpaid is reminded, and only while it holds its seats.
    assert (late, on_time) == (0, 1)
    reminded = Order.objects.filter(payment_reminder_sent_at__isnull=False)
    assert list(reminded) == [overdue]


def test_no_reminder_when_ordered_on_or_after_the_reminder_day(terms, seats):
    terms.payment_terms_days = 2
    terms.save()
    order = place(terms, seats)

    assert send_payment_reminders(now=local(terms, order.payment_due_on)) == 0


# -- Expiry --------------------------------------------------------------------------------------


def test_expiry_after_the_grace_period_frees_seats_credits_and_tells_once(
    terms, seats, mailoutbox, django_capture_on_commit_callbacks
):
    order = place(terms, seats, quantity=2)
    invoice = order.invoice
    last_day = order.payment_last_day
    mailoutbox.clear()  # the order's confirmation

    with django_capture_on_commit_callbacks(execute=True):
        during = expire_overdue_invoice_orders(now=local(terms, last_day, 23))
        after = expire_overdue_invoice_orders(now=local(terms, last_day + days(1), 0))
        again = expire_overdue_invoice_orders(now=local(terms, last_day + days(2)))

    assert (during, after, again) == (0, 1, 0)
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert seats_taken([seats.id], now=timezone.now()) == {}
    note = CreditNote.objects.get()
    assert (note.invoice, note.total, note.settlement) == (
        invoice,
        Decimal("80.00"),
        CreditNote.Settlement.NOTHING_DUE,
    )
    assert note.reason == "Not paid in time: the order expired."
    message, *to_attendees = mailoutbox
    assert message.to == [order.buyer_email]
    assert [m.to for m in to_attendees] == [["ada0@example.org"], ["ada1@example.org"]]
    assert message.subject == f"Order {order.code} cancelled: not paid in time"
    assert f"which was due on {long(order.payment_due_on)}. The order is cancelled" in message.body
    assert f"Credit note {note.number}, attached, cancels invoice {invoice.number}" in message.body
    assert message.attachments[0][0] == f"credit-note-{note.number}.pdf"
    assert f"Credit note {note.number}" in pdf_text(message.attachments[0][1])


def test_expiry_follows_the_workshop_time_zone(terms, seats):
    terms.time_zone = "Pacific/Auckland"
    terms.save()
    order = place(terms, seats)
    midnight = local(terms, order.payment_last_day + days(1), 0)

    before = expire_overdue_invoice_orders(now=midnight - dt.timedelta(seconds=1))
    at = expire_overdue_invoice_orders(now=midnight)

    assert (before, at) == (0, 1)


def test_expiry_after_a_long_gap(terms, seats):
    orders = [place(terms, seats) for _ in range(2)]

    expired = expire_overdue_invoice_orders(now=local(terms, orders[0].payment_due_on + days(90)))

    assert expired == 2
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.EXPIRED}


def test_order_page_of_expired_invoice_order(client, terms, seats):
    order = place(terms, seats)
    expire_overdue_invoice_orders(now=local(terms, order.payment_last_day + days(1)))

    html = client.get(order.get_absolute_url()).content.decode()

    assert "This order expired before it was paid." in html
    assert "If you paid in the meantime, please write to" in html
    assert (
        f"Cancelled by credit note {order.credit_notes.get().number}"
        in client.get(f"{order.get_absolute_url()}invoice/").content.decode()
    )


def test_command_reminds_and_expires(terms, seats, mailoutbox):
    place(terms, seats)
    Order.objects.update(payment_due_on=timezone.localdate() - days(30))

    out = io.StringIO()
    call_command("process_invoice_orders", stdout=out)

    assert out.getvalue() == "Expired 1 unpaid invoice orders; sent 0 reminders.\n"


# -- Extending the due date ------------------------------------------------------------------


def test_extend_due_date_resets_the_reminder_and_is_logged(terms, seats, organiser):
    order = place(terms, seats)
    old_due = order.payment_due_on
    send_payment_reminders(now=local(terms, old_due - days(1)))
    new_due = old_due + days(10)

    extend_payment_due(order=order, due_on=new_due, actor=organiser)

    order.refresh_from_db()
    assert (order.payment_due_on, order.payment_reminder_sent_at) == (new_due, None)
    event = order.events.last()
    assert event.note == f"Payment due date moved from {long(old_due)} to {long(new_due)}."
    assert event.actor == organiser
    assert expire_overdue_invoice_orders(now=local(terms, old_due + days(4))) == 0
    assert send_payment_reminders(now=local(terms, new_due - days(3))) == 1


@pytest.mark.parametrize("shift", [0, -1])
def test_extend_refuses_a_day_not_later(terms, seats, shift):
    order = place(terms, seats)

    with pytest.raises(OrderError, match="choose a later day"):
        extend_payment_due(order=order, due_on=order.payment_due_on + days(shift))


def test_extend_refuses_a_paid_order(terms, seats):
    order = place(terms, seats)
    lifecycle.mark_invoice_paid(order=order)

    with pytest.raises(OrderError, match=f"Order {order.code} is not an unpaid invoice order."):
        extend_payment_due(order=order, due_on=order.payment_due_on + days(5))


def test_admin_extend_asks_for_the_date_then_extends(organiser_client, terms, seats):
    order = place(terms, seats)
    new_due = order.payment_due_on + days(7)
    selected = {"action": "extend_due_date", "_selected_action": [order.pk]}

    confirm = organiser_client.post(ORDERS, selected)
    done = organiser_client.post(
        ORDERS, {**selected, "apply": "1", "due_on": new_due.isoformat()}, follow=True
    )

    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "<h1>Extend the payment due date</h1>" in page
    assert f"<td>{order.code}</td><td>Ada Buyer</td><td>Pending payment</td>" in page
    assert '<label for="id_due_on">New due date:</label>' in page
    order.refresh_from_db()
    assert order.payment_due_on == new_due
    assert f"Order {order.code} is now due on {long(new_due)}." in done.content.decode()
    assert LogEntry.objects.get().get_change_message() == (
        f"Payment due date moved to {long(new_due)}."
    )


def test_admin_extend_refuses_a_past_day(organiser_client, terms, seats):
    order = place(terms, seats)
    due = order.payment_due_on

    response = organiser_client.post(
        ORDERS,
        {
            "action": "extend_due_date",
            "_selected_action": [order.pk],
            "apply": "1",
            "due_on": (timezone.localdate() - days(1)).isoformat(),
        },
    )

    assert response.status_code == 200
    assert "Choose a day that has not passed." in response.content.decode()
    order.refresh_from_db()
    assert order.payment_due_on == due


def test_admin_extend_of_a_card_order_says_why_not(organiser_client, terms):
    order = OrderFactory(workshop=terms)
    due = (timezone.localdate() + days(3)).isoformat()

    response = organiser_client.post(
        ORDERS,
        {"action": "extend_due_date", "_selected_action": [order.pk], "apply": "1", "due_on": due},
        follow=True,
    )

    assert f"Order {order.code} is not an unpaid invoice order." in response.content.decode()


def test_admin_extend_refused_to_non_staff(client, terms, seats):
    order = place(terms, seats)
    client.force_login(UserFactory())

    client.post(ORDERS, {"action": "extend_due_date", "_selected_action": [order.pk]})

    due = order.payment_due_on
    order.refresh_from_db()
    assert order.payment_due_on == due


# -- Payment recorded after expiry (the late-payment rule) -------------------------------------


def expired(workshop, ticket_type, **kwargs):
    order = place(workshop, ticket_type, **kwargs)
    expire_overdue_invoice_orders(now=local(workshop, order.payment_last_day + days(1)))
    order.refresh_from_db()
    return order


def test_late_transfer_accepted_while_seats_remain(
    organiser_client, terms, seats, mailoutbox, django_capture_on_commit_callbacks
):
    order = expired(terms, seats)
    mailoutbox.clear()  # the order's confirmation and expiry notice

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            ORDERS, {"action": "mark_paid", "_selected_action": [order.pk]}, follow=True
        )

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    invoices = list(Invoice.objects.order_by("id"))
    assert len(invoices) == 2 and order.invoice == invoices[1]
    assert (
        f"Order {order.code} was paid after it expired; its seats were still free, so its "
        f"tickets are valid again (new invoice {invoices[1].number})."
    ) in response.content.decode()
    assert order.events.filter(
        note="Late bank transfer accepted: the seats were still free."
    ).exists()
    # The buyer's confirmation, and the attendee named on the order gets their ticket.
    assert subjects(mailoutbox) == [
        f"Your tickets for {terms.title}",
        f"Your ticket for {terms.title}",
    ]


def test_late_transfer_refused_when_seats_were_sold(organiser_client, terms, seats):
    order = expired(terms, seats, quantity=2)
    place(terms, seats, quantity=2, email="grace@example.org")

    response = organiser_client.post(
        ORDERS, {"action": "mark_paid", "_selected_action": [order.pk]}, follow=True
    )

    html = response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.refund_owed) == (Order.Status.EXPIRED, Decimal("80.00"))
    assert (
        f"Order {order.code} expired and its seats were sold, so its transfer was not accepted: "
        "send 80.00 EUR back to the buyer by bank transfer, then use “Record money returned by "
        "bank transfer”."
    ) in html
    assert order.events.last().note == (
        "Bank transfer arrived after the order expired and its seats were sold: "
        "80.00 EUR to return by bank transfer."
    )
    assert seats_taken([seats.id], now=timezone.now()) == {seats.id: 2}


def test_second_late_transfer_refused_until_the_first_is_returned(terms, seats):
    order = expired(terms, seats, quantity=2)
    place(terms, seats, quantity=2, email="grace@example.org")
    assert record_bank_transfer(order=order) == Transfer.REFUSED

    with pytest.raises(OrderError, match="already has 80.00 EUR to return to the buyer"):
        record_bank_transfer(order=order)

    order.refresh_from_db()
    assert order.refund_owed == Decimal("80.00")


def test_money_returned_recorded(organiser_client, terms, seats, organiser):
    order = expired(terms, seats, quantity=2)
    place(terms, seats, quantity=2, email="grace@example.org")
    record_bank_transfer(order=order)

    response = organiser_client.post(
        ORDERS, {"action": "record_returned", "_selected_action": [order.pk]}, follow=True
    )
    again = organiser_client.post(
        ORDERS, {"action": "record_returned", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert (order.status, order.refund_owed, order.refunded_amount) == (
        Order.Status.REFUNDED,
        Decimal("0.00"),
        Decimal("80.00"),
    )
    assert f"Order {order.code}: 80.00 EUR returned." in response.content.decode()
    assert f"Order {order.code} has no money to return." in again.content.decode()
    assert order.events.last().actor == organiser


def test_cancelled_paid_invoice_order_owes_the_transfer(terms, seats):
    order = place(terms, seats)
    lifecycle.mark_invoice_paid(order=order)

    lifecycle.cancel_order(order=order)

    order.refresh_from_db()
    assert order.refund_owed == Decimal("40.00")
    record_transfer_returned(order=order)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("40.00"))


def test_transfer_for_a_card_order_refused(terms):
    order = OrderFactory(workshop=terms, status=Order.Status.EXPIRED)

    with pytest.raises(OrderError, match="is not an invoice order"):
        record_bank_transfer(order=order)


def test_dashboard_shows_due_dates_and_money_to_return(organiser_client, terms, seats):
    owing = expired(terms, seats, quantity=2)
    waiting = place(terms, seats, quantity=2, email="grace@example.org")
    record_bank_transfer(order=owing)

    html = organiser_client.get("/organisers/").content.decode()

    assert f"due on {long(waiting.payment_due_on)}</li>" in html
    assert (
        f'<a href="/admin/tickets/order/{owing.pk}/change/">Order {owing.code}</a>: '
        "80.00 EUR to Ada Buyer (expired)"
    ) in html


def test_admin_lists_orders_with_money_to_return(organiser_client, terms, seats):
    owing = expired(terms, seats, quantity=2)
    place(terms, seats, quantity=2, email="grace@example.org")
    record_bank_transfer(order=owing)

    html = organiser_client.get(f"{ORDERS}?to_return=yes").content.decode()

    assert html.count('class="field-code"') == 1
    assert owing.code in html


# -- Concurrency (PostgreSQL) ----------------------------------------------------------------


def concurrent_workshop():
    workshop = WorkshopFactory(bank_details=BANK)
    ticket_type = TicketTypeFactory(
        workshop=workshop, price="40.00", capacity=50, invoice_allowed=True
    )
    return workshop, ticket_type


@on_postgres
def test_reminders_run_twice_at_once_tell_each_buyer_once(mailoutbox):
    workshop, ticket_type = concurrent_workshop()
    orders = [place(workshop, ticket_type, email=f"b{n}@example.org") for n in range(10)]
    now = local(workshop, orders[0].payment_due_on)
    mailoutbox.clear()

    counts, errors = at_once(lambda _: send_payment_reminders(now=now), range(4))

    assert errors == []
    assert sum(counts) == 10
    assert sorted(m.to[0] for m in mailoutbox) == sorted(f"b{n}@example.org" for n in range(10))


@on_postgres
def test_expiry_run_twice_at_once_tells_each_buyer_once(mailoutbox):
    workshop, ticket_type = concurrent_workshop()
    orders = [place(workshop, ticket_type, email=f"b{n}@example.org") for n in range(10)]
    now = local(workshop, orders[0].payment_last_day + days(1))
    mailoutbox.clear()

    counts, errors = at_once(lambda _: expire_overdue_invoice_orders(now=now), range(4))

    assert errors == []
    assert sum(counts) == 10
    assert CreditNote.objects.count() == 10
    # Each buyer once, and each order's attendee (ada0@ on every order here) once.
    recipients = sorted(message.to[0] for message in mailoutbox)
    assert recipients == ["ada0@example.org"] * 10 + [f"b{n}@example.org" for n in range(10)]


@on_postgres
def test_expiry_and_a_transfer_at_once_end_in_one_state():
    workshop, ticket_type = concurrent_workshop()
    orders = [place(workshop, ticket_type, email=f"b{n}@example.org") for n in range(4)]
    now = local(workshop, orders[0].payment_last_day + days(1))

    def act(n):
        if n == 0:
            return expire_overdue_invoice_orders(now=now)
        return record_bank_transfer(order=orders[n - 1])

    results, errors = at_once(act, range(5))

    assert errors == []
    for order in orders:
        order.refresh_from_db()
        # Paid in time, or expired then paid late (seats were free): never both nor neither.
        assert order.status == Order.Status.PAID
        assert order.credit_notes.count() == Invoice.objects.filter(order=order).count() - 1
