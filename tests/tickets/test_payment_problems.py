"""Payments that went wrong after the buyer paid: charges that do not match, disputes, and a
late payment refunded in the Stripe dashboard before its own event arrived."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import TicketTypeFactory
from tests.tickets.conftest import BUYER, people
from tickets.models import Dispute, Order, RejectedPayment, StripeEvent
from tickets.services import lifecycle, stripe_checkout

pytestmark = pytest.mark.django_db

DASHBOARD = "/organisers/"


def card_order(workshop, ticket_type, email="ada@example.org"):
    created = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer={**BUYER, "email": email},
        attendees=people(1),
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=created)
    created.refresh_from_db()
    return created


def refund_calls(standin):
    return [
        path for method, path, _ in standin.requests if (method, path) == ("POST", "/v1/refunds")
    ]


def result_of(event):
    return StripeEvent.objects.get(event_id=event["id"]).result


# -- A charge that does not match its order ----------------------------------------------------


def test_charge_of_another_amount_refunded_at_once_and_not_recorded(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.sessions[order.stripe_session_id]["amount_total"] = 1000  # 10.00 instead of 25.00

    event = standin.pay(order.stripe_session_id)

    order.refresh_from_db()
    charge = standin.charge_for(order.stripe_session_id)
    rejected = RejectedPayment.objects.get()
    assert (order.status, order.stripe_payment_intent_id) == (Order.Status.PENDING, "")
    assert (charge["amount_refunded"], charge["refunded"]) == (1000, True)
    assert (rejected.order, rejected.amount, rejected.currency) == (order, Decimal("10"), "EUR")
    assert rejected.reason == "amount 1000 differs from the order total"
    assert result_of(event) == "rejected and refunded: amount 1000 differs from the order total"
    assert order.events.last().note == (
        "A payment of 10.00 EUR did not match the order (amount 1000 differs from the order "
        "total): refunded at once."
    )


def test_charge_in_another_currency_refunded_at_once(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.sessions[order.stripe_session_id]["currency"] = "usd"

    standin.pay(order.stripe_session_id)

    rejected = RejectedPayment.objects.get()
    assert (rejected.amount, rejected.currency) == (Decimal("25"), "USD")
    assert rejected.reason == "currency usd differs from EUR"
    assert standin.charge_for(order.stripe_session_id)["refunded"] is True


def test_mismatched_charge_refunded_once_however_often_stripe_tells(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.sessions[order.stripe_session_id]["amount_total"] = 1000
    completed = standin.pay(order.stripe_session_id)
    again = standin.make_event("checkout.session.completed", completed["data"]["object"])

    standin.deliver(again)
    stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now())
    released = stripe_checkout.release_expired_orders()

    order.refresh_from_db()
    assert len(refund_calls(standin)) == 1
    assert RejectedPayment.objects.count() == 1
    assert (released, order.status) == (1, Order.Status.EXPIRED)


def test_mismatched_charge_still_processing_refunded_once_it_settles(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.sessions[order.stripe_session_id]["amount_total"] = 1000
    standin.pay(order.stripe_session_id, payment_status="unpaid")
    assert refund_calls(standin) == []

    standin.settle(order.stripe_session_id, succeeded=True)

    assert len(refund_calls(standin)) == 1
    assert RejectedPayment.objects.get().amount == Decimal("10")


def test_refund_of_a_refused_payment_not_taken_for_the_orders_own(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    stray = dict(standin.sessions[order.stripe_session_id], id="cs_test_stray", status="open")
    standin.sessions["cs_test_stray"] = stray
    standin.pay("cs_test_stray")
    stray_charge = standin.charge_for("cs_test_stray")

    event = standin.make_event("charge.refunded", stray_charge)
    standin.deliver(event)

    order.refresh_from_db()
    assert stray_charge["refunded"] is True
    assert RejectedPayment.objects.get().reason == "session id differs from the order's"
    assert (order.status, order.refunded_amount) == (Order.Status.PAID, Decimal("0"))
    assert result_of(event) == "nothing to do: not the order's payment"


# -- Disputes ----------------------------------------------------------------------------------


@pytest.fixture
def paid_order(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    order.refresh_from_db()
    return order


def open_dispute(standin, order, **options):
    event = standin.dispute(standin.charge_for(order.stripe_session_id)["id"], **options)
    return event["data"]["object"]["id"]


def test_dispute_recorded_on_the_order_which_stays_paid(paid_order, standin):
    event_id = open_dispute(standin, paid_order, reason="product_not_received")

    dispute = Dispute.objects.get()
    paid_order.refresh_from_db()
    assert dispute.stripe_dispute_id == event_id
    assert (dispute.order, dispute.status, dispute.amount) == (
        paid_order,
        Dispute.Status.OPEN,
        Decimal("25.00"),
    )
    assert dispute.respond_by > timezone.now()
    assert paid_order.status == Order.Status.PAID
    assert paid_order.events.last().note == (
        "The buyer's bank disputes 25.00 EUR of the payment (product not received); "
        "see Stripe's dashboard."
    )


def test_dispute_lost_returns_the_money_and_credits_the_invoice(paid_order, standin):
    dispute_id = open_dispute(standin, paid_order)

    event = standin.close_dispute(dispute_id, "lost")

    paid_order.refresh_from_db()
    assert result_of(event) == "dispute lost: money returned to the buyer"
    assert Dispute.objects.get().status == Dispute.Status.LOST
    assert (paid_order.status, paid_order.refunded_amount) == (
        Order.Status.REFUNDED,
        Decimal("25.00"),
    )
    assert (
        paid_order.credit_notes.get().reason == "Payment disputed by the buyer's bank and returned."
    )


def test_dispute_won_changes_nothing_but_the_dispute(paid_order, standin):
    dispute_id = open_dispute(standin, paid_order)

    standin.close_dispute(dispute_id, "won")

    paid_order.refresh_from_db()
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.closed_at is not None) == (Dispute.Status.WON, True)
    assert (paid_order.status, paid_order.refunded_amount) == (Order.Status.PAID, Decimal("0"))


def test_dispute_of_a_partly_refunded_order_takes_what_is_left(paid_order, standin):
    charge_id = standin.charge_for(paid_order.stripe_session_id)["id"]
    standin.refund(charge_id, 1000)
    dispute_id = open_dispute(standin, paid_order)

    standin.close_dispute(dispute_id, "lost")

    paid_order.refresh_from_db()
    assert Dispute.objects.get().amount == Decimal("15.00")
    assert (paid_order.status, paid_order.refunded_amount) == (
        Order.Status.REFUNDED,
        Decimal("25.00"),
    )


def test_dispute_events_out_of_order_or_twice_record_it_once(paid_order, standin):
    charge_id = standin.charge_for(paid_order.stripe_session_id)["id"]
    created = standin.dispute(charge_id, deliver=False)
    dispute_id = created["data"]["object"]["id"]
    closed = standin.close_dispute(dispute_id, "lost", deliver=False)

    standin.deliver(closed)
    standin.deliver(created)
    standin.deliver(standin.make_event("charge.dispute.closed", standin.disputes[dispute_id]))

    paid_order.refresh_from_db()
    assert Dispute.objects.get().status == Dispute.Status.LOST
    assert paid_order.refunded_amount == Decimal("25.00")
    notes = [e.note for e in paid_order.events.all()]
    assert [n for n in notes if n.startswith(("The buyer's bank", "Dispute"))] == [
        "The buyer's bank disputes 25.00 EUR of the payment (fraudulent); see Stripe's dashboard.",
        "Dispute Lost: the money went back to the buyer.",
        "Dispute lost: the buyer's bank took back 25.00 EUR.",
    ]


def test_dispute_of_an_unknown_payment_is_kept_as_an_unknown_object(paid_order, standin, client):
    event = standin.make_event("charge.dispute.created", {"id": "dp_test_elsewhere"})

    status = standin.deliver(event)

    assert status == 200
    assert result_of(event).startswith("unknown object")
    assert Dispute.objects.count() == 0


# -- A late payment refunded in the dashboard before its own event ---------------------------


def test_late_payment_refunded_partly_first_is_refunded_once_without_looping(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type, "late@example.org")
    Order.objects.filter(pk=late.pk).update(status="expired")
    card_order(workshop, ticket_type, "next@example.org")  # takes the seat
    completed = standin.pay(late.stripe_session_id, deliver=False)
    charge = standin.charge_for(late.stripe_session_id)

    partial = standin.refund(charge["id"], 1000)  # an organiser, in Stripe's dashboard

    late.refresh_from_db()
    assert standin.deliveries[-1] == (partial["id"], "charge.refunded", 200)
    assert (late.status, late.refunded_amount) == (Order.Status.REFUNDED, Decimal("25.00"))
    assert (charge["amount_refunded"], len(refund_calls(standin))) == (2500, 1)
    assert standin.deliver(completed) == 200
    assert len(refund_calls(standin)) == 1
