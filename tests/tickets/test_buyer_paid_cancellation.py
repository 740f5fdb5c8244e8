"""A buyer cancels their paid card order on its page: a refund of all but the organisers' fee."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.tickets.test_buyer_cancellation import cancel_url, confirm, text_of
from tests.tickets.test_order_states import World, fresh
from tickets.models import CreditNote, Order, Refund, TicketType
from tickets.services import buyer_cancellation, checkin, invoice_terms
from tickets.services.buyer_cancellation import Refusal

pytestmark = pytest.mark.django_db

Status = Order.Status


@pytest.fixture
def world(workshop, standin, organiser):
    workshop.buyer_cancellation_until = timezone.now() + dt.timedelta(days=7)
    workshop.buyer_cancellation_paid = True
    workshop.buyer_cancellation_fee = Decimal("5.00")
    workshop.save()
    return World(workshop, standin, organiser)


def seats_left(ticket_type):
    return TicketType.objects.with_seats_taken().get(pk=ticket_type.pk).seats_left


def test_confirmation_page_says_how_much_comes_back(client, world):
    order = world.paid_card_order()

    page = client.get(cancel_url(order))

    assert page.status_code == 200
    assert (
        "20.00 EUR is refunded: the 25.00 EUR you paid, less the cancellation fee of 5.00 EUR."
        in text_of(page)
    )


def test_buyer_cancels_paid_card_order_refunded_less_the_fee(client, world, outbox):
    order = world.paid_card_order()
    ticket = order.tickets.get()
    outbox.clear()

    response = confirm(client, order)

    order = fresh(order)
    ticket.refresh_from_db()
    row = Refund.objects.get(order=order)
    assert response.status_code == 302
    assert (order.status, order.refunded_amount) == (Status.REFUNDED, Decimal("20.00"))
    assert (row.amount, row.status, row.reason) == (
        Decimal("20.00"),
        Refund.Status.SUCCEEDED,
        buyer_cancellation.BUYER_NOTE,
    )
    assert world.standin.charge_for(order.stripe_session_id)["amount_refunded"] == 2000
    assert ticket.refund == row
    assert checkin.refusal_reason(ticket) == f"it was refunded (order {order.code})"
    assert seats_left(world.card) == 1
    note = CreditNote.objects.get(order=order)
    assert [(line["description"], line["amount"]) for line in note.lines] == [
        (f"{world.workshop.title}: Card", "25.00"),
        ("Cancellation fee kept", "-5.00"),
    ]
    page = client.get(response["Location"])
    assert f"Order {order.code} is cancelled and 20.00 EUR is refunded to your card." in (
        text_of(page)
    )
    [mail] = [m for m in outbox if m.to == [order.buyer_email]]
    assert "as you asked on the order page, your order" in mail.body
    assert "20.00 EUR of your payment is refunded" in mail.body
    assert "keep a cancellation fee of 5.00 EUR" in mail.body


def test_fee_of_all_that_was_paid_refuses_and_changes_nothing(client, world, outbox):
    world.workshop.buyer_cancellation_fee = Decimal("30.00")
    world.workshop.save()
    order = world.paid_card_order()
    outbox.clear()

    response = client.post(cancel_url(order), {"version": "25.00:0.00"})

    assert response.status_code == 403
    assert "The cancellation fee is 25.00 EUR, all that was paid" in text_of(response)
    assert (fresh(order).status, Refund.objects.count(), outbox) == (Status.PAID, 0, [])
    terms = buyer_cancellation.cancellation_terms(order)
    assert (terms.refusal, terms.fee) == (Refusal.NOTHING_BACK, Decimal("25.00"))


def test_paid_invoice_order_cancelled_and_owed_back_less_the_fee(client, world, outbox):
    order = world.invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=world.organiser)
    outbox.clear()

    page = client.get(cancel_url(order))
    response = confirm(client, order)

    order = fresh(order)
    assert (
        "20.00 EUR is refunded: the 25.00 EUR you paid, less the cancellation fee of 5.00 EUR."
        in text_of(page)
    )
    assert "The organisers send it back to you by bank transfer" in text_of(page)
    assert response.status_code == 302
    assert (order.status, order.refund_owed, order.refunded_amount) == (
        Status.CANCELLED,
        Decimal("20.00"),
        Decimal("0.00"),
    )
    note = CreditNote.objects.get(order=order)
    assert (note.total, note.settlement) == (Decimal("20.00"), "bank_transfer")
    assert [line["amount"] for line in note.lines] == ["25.00", "-5.00"]
    assert "the organisers send 20.00 EUR back to you by bank transfer" in text_of(
        client.get(response["Location"])
    )
    [mail] = [m for m in outbox if m.to == [order.buyer_email]]
    assert "We will send 20.00 EUR back to you by bank transfer." in mail.body

    invoice_terms.record_transfer_returned(order=order, actor=world.organiser)
    order = fresh(order)
    assert (order.status, order.refunded_amount) == (Status.REFUNDED, Decimal("20.00"))
    assert order.refunds.get().method == Refund.Method.BANK_TRANSFER


def test_fee_changed_after_the_page_was_shown_refunds_nothing(client, world, outbox):
    order = world.paid_card_order()
    version = buyer_cancellation.cancellation_terms(order).version
    world.workshop.buyer_cancellation_fee = Decimal("10.00")
    world.workshop.save()
    outbox.clear()

    response = client.post(cancel_url(order), {"version": version})

    assert response.status_code == 409
    assert "changed since you opened this page" in text_of(response)
    assert (fresh(order).status, Refund.objects.count(), outbox) == (Status.PAID, 0, [])


def test_double_click_refunds_once(client, world, outbox):
    order = world.paid_card_order()
    version = buyer_cancellation.cancellation_terms(order).version

    first = client.post(cancel_url(order), {"version": version})
    second = client.post(cancel_url(order), {"version": version})

    assert (first.status_code, second.status_code) == (302, 409)
    assert "is refunded already" in text_of(second)
    assert Refund.objects.count() == 1
    assert world.standin.charge_for(order.stripe_session_id)["amount_refunded"] == 2000


# -- The fee and the currency ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "fee", "problem"),
    [
        ("EUR", "2.50", None),
        ("JPY", "300", None),
        ("JPY", "2.50", "Amounts in JPY have no smaller units: give a whole number."),
        ("ISK", "10.50", "Amounts in ISK have no smaller units: give a whole number."),
        ("KWD", "1.01", None),
        ("USD", "0", None),
    ],
)
def test_fee_must_fit_the_currencys_smallest_unit(workshop, currency, fee, problem):
    workshop.currency = currency
    workshop.buyer_cancellation_fee = Decimal(fee)

    if problem is None:
        workshop.full_clean()
    else:
        with pytest.raises(ValidationError) as refused:
            workshop.full_clean()
        assert refused.value.message_dict == {"buyer_cancellation_fee": [problem]}


def test_fee_is_kept_in_the_currencys_unit_and_never_above_what_was_paid(workshop):
    workshop.currency = "JPY"
    workshop.buyer_cancellation_fee = Decimal("7.50")  # saved before the currency changed

    assert buyer_cancellation.cancellation_fee(workshop, Decimal("3000")) == Decimal("8")
    workshop.buyer_cancellation_fee = Decimal("5000")
    assert buyer_cancellation.cancellation_fee(workshop, Decimal("3000")) == Decimal("3000")


def test_fee_above_the_order_total_keeps_at_most_what_was_paid_and_refuses(client, world):
    world.workshop.buyer_cancellation_fee = Decimal("99.00")
    world.workshop.save()
    order = world.paid_card_order()

    terms = buyer_cancellation.cancellation_terms(order)

    assert (terms.refusal, terms.paid, terms.fee, terms.refund) == (
        Refusal.NOTHING_BACK,
        Decimal("25.00"),
        Decimal("25.00"),
        Decimal("0"),
    )
    assert "The cancellation fee is 25.00 EUR, all that was paid" in text_of(
        client.get(cancel_url(order))
    )
