"""Buyers and attendees are told when an order ends: cancelled, unpaid, refunded late.

Each notice is a task enqueued in the transaction of the change (tickets/tasks.py), so the
tests here read the locmem outbox the immediate task backend fills, and prove with the
database backend that a change rolled back sends nothing.
"""

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import TicketTypeFactory
from tests.tickets.conftest import BUYER
from tests.tickets.test_order_states import LATER, World, fresh, run_out
from tests.tickets.test_tasks import DB_TASKS, run
from tickets.models import Order, Ticket
from tickets.services import invoice_terms, lifecycle, stranded
from tickets.services.errors import OrderError
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(workshop, standin, organiser):
    return World(workshop, standin, organiser)


def place(world, ticket_type, method, attendees, buyer=BUYER):
    extra = {"invoice_details": "Example University"} if method == "invoice" else {}
    return lifecycle.create_order(
        workshop=world.workshop,
        ticket_counts={ticket_type.id: len(attendees)},
        buyer=buyer,
        attendees=[{"name": name, "email": email} for name, email in attendees],
        payment_method=method,
        **extra,
    )


def sent_to(outbox):
    return [(message.to, message.subject) for message in outbox]


# -- Cancelled by an organiser -------------------------------------------------------------------


def test_organiser_cancels_unpaid_card_order_buyer_and_attendee_told(world, outbox):
    order = world.card_order()
    outbox.clear()

    lifecycle.cancel_order(order=order, actor=world.organiser)

    title = world.workshop.title
    assert sent_to(outbox) == [
        ([order.buyer_email], f"Order {order.code} cancelled"),
        (["ada0@example.org"], f"Your ticket for {title} is cancelled"),
    ]
    to_buyer, to_attendee = outbox
    ticket = order.tickets.get()
    assert f"the organisers of {title} have cancelled your order {order.code}." in to_buyer.body
    assert "Its tickets no longer admit anyone to the workshop" in to_buyer.body
    assert f"- {ticket.code}: Card for Ada 0" in to_buyer.body
    assert "Nothing was paid, and nothing is due." in to_buyer.body
    assert "The attendees named on the tickets are told too." in to_buyer.body
    assert "write to the organisers at workshop@example.org" in to_buyer.body
    assert order.get_absolute_url() in to_buyer.body
    assert to_attendee.body.startswith("Hello Ada 0,")
    assert f"Ada Buyer ordered a ticket in your name for {title} (order {order.code})." in (
        to_attendee.body
    )
    assert "The organisers have cancelled this order." in to_attendee.body
    assert f"This ticket no longer admits you to the workshop:\n- {ticket.code}" in (
        to_attendee.body
    )
    assert "write to the organisers at workshop@example.org" in to_attendee.body
    # The order's private link is the buyer's alone.
    assert order.secret not in to_attendee.body


def test_attendees_told_once_per_address_and_not_when_they_are_the_buyer(world, outbox):
    ticket_type = TicketTypeFactory(workshop=world.workshop, name="Free", price="0.00")
    attendees = [
        ("Ada Buyer", "ADA@example.org"),  # the buyer, in another case
        ("Grace", "grace@example.org"),
        ("Grace again", "Grace@Example.org"),
        ("Alan", "alan@example.org"),
    ]
    order = place(world, ticket_type, "free", attendees)
    outbox.clear()

    lifecycle.cancel_order(order=order, actor=world.organiser)

    assert [message.to for message in outbox] == [
        [order.buyer_email],
        ["grace@example.org"],
        ["alan@example.org"],
    ]
    codes = list(order.tickets.values_list("code", flat=True))
    to_grace = outbox[1].body
    assert "ordered tickets in your name" in to_grace
    assert "These tickets no longer admit you to the workshop:" in to_grace
    assert codes[1] in to_grace and codes[2] in to_grace
    assert codes[0] not in to_grace and codes[3] not in to_grace
    assert "The tickets were free: nothing was paid." in outbox[0].body


def test_no_attendee_notice_when_the_buyer_holds_every_ticket(world, outbox):
    ticket_type = TicketTypeFactory(workshop=world.workshop, name="Free", price="0.00")
    order = place(world, ticket_type, "free", [("Ada Buyer", BUYER["email"])])
    outbox.clear()

    lifecycle.cancel_order(order=order, actor=world.organiser)

    assert sent_to(outbox) == [([order.buyer_email], f"Order {order.code} cancelled")]
    assert "The attendees named on the tickets are told too." not in outbox[0].body


def test_organiser_cancels_unpaid_invoice_order_credit_note_attached(world, outbox):
    order = world.invoice_order()
    outbox.clear()

    lifecycle.cancel_order(order=order, actor=world.organiser)

    to_buyer, to_attendee = outbox
    note = order.credit_notes.get()
    assert "Nothing was paid, and nothing is due." in to_buyer.body
    assert f"Credit note {note.number}, attached, cancels invoice {order.invoice.number}." in (
        to_buyer.body
    )
    assert [name for name, _, _ in to_buyer.attachments] == [f"credit-note-{note.number}.pdf"]
    assert to_attendee.attachments == []


def test_organiser_cancels_paid_invoice_order_buyer_told_of_the_transfer_back(world, outbox):
    order = world.invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=world.organiser)
    outbox.clear()

    lifecycle.cancel_order(order=fresh(order), actor=world.organiser)

    assert fresh(order).refund_owed == order.total
    assert "We will send 25.00 EUR back to you by bank transfer." in outbox[0].body
    assert [message.to for message in outbox] == [[order.buyer_email], ["ada0@example.org"]]


def test_refused_cancellation_tells_nobody(world, outbox):
    order = world.paid_card_order()
    outbox.clear()

    with pytest.raises(OrderError):
        lifecycle.cancel_order(order=order, actor=world.organiser)

    assert outbox == []


# -- Ended by Stripe or the clock ----------------------------------------------------------------


def test_failed_bank_debit_tells_buyer_and_attendee(world, outbox):
    order = world.processing_order()
    outbox.clear()

    world.standin.settle(order.stripe_session_id, succeeded=False)

    assert fresh(order).status == Order.Status.EXPIRED
    assert sent_to(outbox) == [
        ([order.buyer_email], f"Order {order.code} cancelled: the payment failed"),
        (["ada0@example.org"], f"Your ticket for {world.workshop.title} is cancelled"),
    ]
    assert "did not go through. The order is therefore cancelled" in outbox[0].body
    assert "Nothing was charged." in outbox[0].body
    assert "Its payment did not go through, so the order is cancelled." in outbox[1].body


def test_failed_bank_debit_found_by_the_clock_tells_them(world, outbox):
    order = world.processing_order(succeeded=False)
    outbox.clear()

    stranded.settle_processing_payments(now=timezone.now() + stranded.PROCESSING_LIMIT * 2)

    assert [message.to for message in outbox] == [[order.buyer_email], ["ada0@example.org"]]
    assert outbox[0].subject == f"Order {order.code} cancelled: the payment failed"


def test_card_reservation_running_out_sends_nothing(world, outbox):
    # The buyer left Stripe's page without paying: nobody was told the tickets were theirs.
    order = run_out(world.card_order())
    outbox.clear()

    lifecycle.release_order(order=order, note="Reservation ran out.")

    assert fresh(order).status == Order.Status.EXPIRED
    assert outbox == []


def test_invoice_expiry_tells_the_attendee(world, outbox):
    order = world.invoice_order()
    outbox.clear()

    invoice_terms.expire_overdue_invoice_orders(now=timezone.now() + LATER)

    assert sent_to(outbox) == [
        ([order.buyer_email], f"Order {order.code} cancelled: not paid in time"),
        (["ada0@example.org"], f"Your ticket for {world.workshop.title} is cancelled"),
    ]
    assert "Its invoice was not paid in time, so the order is cancelled." in outbox[1].body
    assert "This ticket no longer admits you to the workshop" in outbox[1].body


def test_late_refund_tells_the_attendee(world, outbox):
    order = world.expired_card_order()
    outbox.clear()

    world.pay_late(order, seats_sold=True)

    assert fresh(order).status == Order.Status.REFUNDED
    assert sent_to(outbox)[1:] == [
        (["ada0@example.org"], f"Your ticket for {world.workshop.title} is cancelled"),
    ]
    assert "the order is cancelled and the payment refunded." in outbox[1].body


# -- In the transaction of the change ------------------------------------------------------------


def test_cancellation_and_its_notices_commit_together(world, settings):
    order = world.card_order()
    settings.TASKS = DB_TASKS
    mail.outbox.clear()

    lifecycle.cancel_order(order=order, actor=world.organiser)

    task = DBTaskResult.objects.get(task_path="tickets.tasks.send_order_cancelled")
    assert task.args_kwargs == {"args": [order.pk, "cancelled by an organiser"], "kwargs": {}}
    run(task)
    run(task)  # its worker died before recording that it had finished
    emails = OutgoingEmail.objects.order_by("id")
    assert [email.recipients for email in emails] == [order.buyer_email, "ada0@example.org"]


def test_rolled_back_cancellation_sends_nothing(world, settings):
    order = world.card_order()
    settings.TASKS = DB_TASKS
    mail.outbox.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.cancel_order(order=order, actor=world.organiser)
        raise RuntimeError("something after the cancellation failed")

    assert fresh(order).status == Order.Status.PENDING
    assert not DBTaskResult.objects.exists()
    assert not OutgoingEmail.objects.exists()
    assert mail.outbox == []


def test_rolled_back_invoice_expiry_sends_nothing(world, settings):
    order = world.invoice_order()
    settings.TASKS = DB_TASKS
    DBTaskResult.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_terms.expire_overdue_invoice_orders(now=timezone.now() + LATER)
        raise RuntimeError("the job died")

    assert fresh(order).status == Order.Status.PENDING
    assert not DBTaskResult.objects.exists()


def test_notice_reads_attendees_as_they_are_when_sent(world, outbox):
    order = world.card_order()
    Ticket.objects.filter(order=order).update(attendee_email="new@example.org")
    outbox.clear()

    lifecycle.cancel_order(order=order, actor=world.organiser)

    assert [message.to for message in outbox] == [[order.buyer_email], ["new@example.org"]]
