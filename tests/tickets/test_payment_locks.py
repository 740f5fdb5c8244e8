"""What a payment locks while it is decided, and an order cancelled while its payment starts."""

import threading

import pytest
from django.db import connection

from tests.factories import TicketTypeFactory, WorkshopFactory
from tests.tickets.conftest import BUYER, people
from tests.tickets.test_stripe import checkout_data
from tickets.models import Order
from tickets.services import lifecycle, stripe_checkout

only_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises all writers; no row locks."
)


@pytest.mark.django_db(transaction=True)
def test_order_cancelled_while_its_session_is_created_is_not_sent_to_pay(client, standin):
    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00")

    def cancel_meanwhile(session):
        # An organiser cancels the order while Stripe is still making its session.
        order = Order.objects.get(code=session["client_reference_id"])
        lifecycle.cancel_order(order=order)
        connection.close()

    standin.on_session_created = cancel_meanwhile

    response = client.post("/tickets/checkout/", checkout_data(ticket_type))

    order = Order.objects.get()
    assert response.status_code == 409
    assert (
        f"Order {order.code} was cancelled before payment started, so it cannot be paid. "
        "Nothing was charged."
    ) in response.content.decode()
    assert order.status == Order.Status.CANCELLED
    assert standin.sessions[order.stripe_session_id]["status"] == "expired"


@pytest.mark.postgres
@only_postgres
@pytest.mark.django_db(transaction=True)
def test_payment_being_recorded_does_not_hold_up_other_buyers(settings, standin, monkeypatch):
    # The workshop row is not locked, so orders (which reference it) are placed meanwhile.
    settings.TICKETS_LOCK_TIMEOUT_MS = 300
    workshop = WorkshopFactory()
    paid_type = TicketTypeFactory(workshop=workshop, price="25.00")
    free_type = TicketTypeFactory(workshop=workshop, price="0.00")
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={paid_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id, deliver=False)
    recording, release = threading.Event(), threading.Event()
    real_record_payment = lifecycle.record_payment

    def slow_record_payment(order, **kwargs):
        result = real_record_payment(order, **kwargs)
        recording.set()
        release.wait(10)
        return result

    monkeypatch.setattr(lifecycle, "record_payment", slow_record_payment)

    def pay():
        stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
        connection.close()

    payment = threading.Thread(target=pay)
    payment.start()
    try:
        assert recording.wait(10)
        free = lifecycle.create_order(
            workshop=workshop,
            ticket_counts={free_type.id: 1},
            buyer={"name": "Grace", "email": "grace@example.org"},
            attendees=people(1, "Grace"),
            payment_method="free",
        )
    finally:
        release.set()
        payment.join()

    order.refresh_from_db()
    assert free.status == Order.Status.PAID
    assert order.status == Order.Status.PAID
