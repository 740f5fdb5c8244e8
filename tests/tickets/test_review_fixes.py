"""Bugs found in a second review of the money and access code, each with the test that shows it."""

from decimal import Decimal

import pytest

from tests.factories import TicketTypeFactory, VoucherFactory
from tests.tickets.conftest import people
from tickets import services
from tickets.models import Order, StripeEvent

pytestmark = pytest.mark.django_db


def voucher_card_order(workshop, ticket_type, voucher, email):
    order = services.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer={"name": "Ada Buyer", "email": email},
        attendees=people(1),
        voucher_code=voucher.code,
        payment_method="stripe",
    )
    services.start_checkout(order=order)
    order.refresh_from_db()
    return order


def test_late_payment_refunded_when_voucher_used_up(
    workshop, standin, outbox, django_capture_on_commit_callbacks
):
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00", capacity=10)
    voucher = VoucherFactory(workshop=workshop, discount="percent", value=20, max_uses=1)
    late = voucher_card_order(workshop, ticket_type, voucher, "late@example.org")
    Order.objects.filter(pk=late.pk).update(status="expired")
    other = voucher_card_order(workshop, ticket_type, voucher, "other@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        event = standin.pay(late.stripe_session_id)

    late.refresh_from_db()
    other.refresh_from_db()
    assert StripeEvent.objects.get(event_id=event["id"]).result == "refunded late payment"
    assert (late.status, late.refunded_amount) == (Order.Status.REFUNDED, Decimal("20.00"))
    assert other.status == Order.Status.PENDING
    assert [m.subject for m in outbox] == [f"Order {late.code} refunded"]


def test_late_payment_accepted_when_voucher_uses_remain(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00", capacity=10)
    voucher = VoucherFactory(workshop=workshop, discount="percent", value=20, max_uses=2)
    late = voucher_card_order(workshop, ticket_type, voucher, "late@example.org")
    Order.objects.filter(pk=late.pk).update(status="expired")
    voucher_card_order(workshop, ticket_type, voucher, "other@example.org")

    standin.pay(late.stripe_session_id)

    late.refresh_from_db()
    assert late.status == Order.Status.PAID
    assert late.events.last().note == "Late card payment accepted: seats remained."


def test_processing_payment_not_held_when_voucher_used_up(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00", capacity=10)
    voucher = VoucherFactory(workshop=workshop, discount="percent", value=20, max_uses=1)
    late = voucher_card_order(workshop, ticket_type, voucher, "late@example.org")
    Order.objects.filter(pk=late.pk).update(status="expired")
    voucher_card_order(workshop, ticket_type, voucher, "other@example.org")
    Order.objects.filter(pk=late.pk).update(status="pending")
    Order.objects.filter(pk=late.pk).update(reserved_until=late.created_at)

    standin.pay(late.stripe_session_id, payment_status="unpaid")

    late.refresh_from_db()
    assert late.status == Order.Status.PENDING
