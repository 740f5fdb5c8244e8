"""A buyer's cancellation at the same moment as another one, or as the payment, on PostgreSQL."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import TicketTypeFactory, WorkshopFactory
from tests.tickets.conftest import BUYER
from tickets.models import Order, Refund
from tickets.services import buyer_cancellation, lifecycle, refunds, stripe_checkout
from tickets.services.errors import OrderError
from tickets.stripe_standin import StripeStandIn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

ROUNDS = 5


def place(workshop, ticket_type, method):
    extra = {"invoice_details": "Example University"} if method == "invoice" else {}
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=[BUYER],  # the buyer's own ticket: one e-mail per notice
        payment_method=method,
        **extra,
    )


def at_once(*actions):
    """Run the actions in threads released together; return what each returned or raised."""
    start, results = threading.Barrier(len(actions)), [None] * len(actions)

    def run(index, action):
        start.wait()
        try:
            results[index] = action()
        except OrderError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def cancel(order, version):
    return lambda: buyer_cancellation.cancel_by_buyer(order=order, version=version)


def pay_invoice(order):
    return lambda: lifecycle.mark_invoice_paid(order=order)


@pytest.fixture
def workshop(db):
    workshop = WorkshopFactory()
    workshop.buyer_cancellation_until = timezone.now() + dt.timedelta(days=7)
    workshop.save()
    return workshop


@pytest.mark.django_db(transaction=True)
def test_two_cancels_at_once_cancel_once_and_tell_once(workshop, mailoutbox):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Community", price="0.00")
    for _ in range(ROUNDS):
        order = place(workshop, ticket_type, "free")
        version = buyer_cancellation.cancellation_terms(order).version
        mailoutbox.clear()

        results = at_once(cancel(order, version), cancel(order, version))

        refused = [r for r in results if isinstance(r, buyer_cancellation.CancellationRefused)]
        assert len(refused) == 1, results
        assert refused[0].refusal == buyer_cancellation.Refusal.ENDED
        order.refresh_from_db()
        assert order.status == Order.Status.CANCELLED
        assert order.events.filter(to_status="cancelled").count() == 1
        assert [m.subject for m in mailoutbox] == [f"Order {order.code} cancelled"]


@pytest.mark.django_db(transaction=True)
def test_cancel_and_payment_at_once_one_wins_and_only_its_e_mail_goes(workshop, mailoutbox):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Academic", invoice_allowed=True)
    for _ in range(ROUNDS):
        order = place(workshop, ticket_type, "invoice")
        version = buyer_cancellation.cancellation_terms(order).version
        mailoutbox.clear()

        cancelled, paid = at_once(cancel(order, version), pay_invoice(order))

        order.refresh_from_db()
        subjects = [m.subject for m in mailoutbox]
        if order.status == Order.Status.CANCELLED:
            assert isinstance(paid, OrderError), paid
            assert subjects == [f"Order {order.code} cancelled"]
        else:
            assert order.status == Order.Status.PAID
            assert cancelled.refusal == buyer_cancellation.Refusal.PAID
            assert subjects == [f"Your tickets for {workshop.title}"]
        assert order.events.filter(from_status="pending").count() == 1


@pytest.mark.django_db(transaction=True)
def test_buyer_cancelling_a_paid_order_while_an_organiser_refunds_part_one_wins(workshop, settings):
    workshop.buyer_cancellation_paid = True
    workshop.buyer_cancellation_fee = Decimal("5.00")
    workshop.save()
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = standin.api_key
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        for _ in range(ROUNDS):
            order = place(workshop, ticket_type, "stripe")
            stripe_checkout.start_checkout(order=order)
            order.refresh_from_db()
            standin.pay(order.stripe_session_id, deliver=False)
            stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
            version = buyer_cancellation.cancellation_terms(order).version

            def organiser(order=order):
                return refunds.refund(
                    order=order, kind=refunds.Kind.AMOUNT, amount="10", reason="Goodwill"
                )

            cancelled, refunded = at_once(cancel(order, version), organiser)

            order.refresh_from_db()
            made = Refund.objects.filter(order=order)
            assert made.count() == 1, (cancelled, refunded)
            if order.status == Order.Status.REFUNDED:
                assert "At most 5.00 EUR" in str(refunded)
                assert order.refunded_amount == Decimal("20.00")
            else:
                # Refused as partly refunded, or as changed if it read the terms before.
                assert cancelled.refusal in (
                    buyer_cancellation.Refusal.PARTLY_REFUNDED,
                    buyer_cancellation.Refusal.CHANGED,
                )
                assert (order.status, order.refunded_amount) == (
                    Order.Status.PARTLY_REFUNDED,
                    Decimal("10.00"),
                )
            charge = standin.charge_for(order.stripe_session_id)
            assert charge["amount_refunded"] == int(order.refunded_amount * 100)
