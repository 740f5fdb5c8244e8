"""Bugs found in a second review of the money and access code, each with the test that shows it."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from tests.factories import (
    OrderFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    VoucherFactory,
    WorkshopFactory,
)
from tests.tickets.conftest import people
from tickets.models import Order, StripeEvent, Voucher
from tickets.services import capacity, lifecycle, stripe_checkout
from tickets.services import messages as mailing
from workshop.ratelimit import client_ip

pytestmark = pytest.mark.django_db


def voucher_card_order(workshop, ticket_type, voucher, email):
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer={"name": "Ada Buyer", "email": email},
        attendees=people(1),
        voucher_code=voucher.code,
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
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
    assert [(m.to, m.subject) for m in outbox] == [
        ([late.buyer_email], f"Order {late.code} refunded"),
        (["ada0@example.org"], f"Your ticket for {workshop.title} is cancelled"),
    ]


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


# -- Bad input that answered 500 ----------------------------------------------------------

# 255 to 320 characters: Django's EmailField accepts up to 320, the columns hold 254.
LONG_EMAIL = "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "org"


def invoice_checkout_data(ticket_type, **changes):
    data = {
        f"qty_{ticket_type.id}": "1",
        "buyer_name": "Ada Buyer",
        "buyer_email": "ada@example.org",
        "attendee_1_name": "Attendee 1",
        "attendee_1_email": "attendee1@example.org",
        "payment_method": "invoice",
        "invoice_details": "1 Main Street",
        "accept_code_of_conduct": "on",
    }
    return {**data, **changes}


@pytest.mark.parametrize("field", ["buyer_email", "attendee_1_email"])
def test_checkout_email_longer_than_column_refused(client, workshop, no_stripe, field):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)
    assert 254 < len(LONG_EMAIL) <= 320

    response = client.post(
        "/tickets/checkout/", invoice_checkout_data(ticket_type, **{field: LONG_EMAIL})
    )

    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert Order.objects.count() == 0


def test_order_page_attendee_email_longer_than_column_refused(client, workshop):
    order = OrderFactory(workshop=workshop, status="paid")
    ticket = TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=workshop))
    prefix = f"t{ticket.id}"

    response = client.post(
        order.get_absolute_url(),
        {"ticket": ticket.id, f"{prefix}-name": "Grace", f"{prefix}-email": LONG_EMAIL},
        follow=True,
    )

    ticket.refresh_from_db()
    assert response.status_code == 200
    assert "Please give a name and a valid e-mail address." in response.content.decode()
    assert ticket.attendee_email != LONG_EMAIL


def test_ticket_list_voucher_with_nul_is_not_valid(client, workshop):
    response = client.get("/tickets/", {"voucher": "SPEAKER\x00"})

    assert response.status_code == 200
    assert "This voucher code is not valid." in response.content.decode()


def test_checkout_voucher_with_nul_refused(client, workshop, no_stripe):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)

    response = client.post(
        "/tickets/checkout/", invoice_checkout_data(ticket_type, voucher="X\x00"), follow=True
    )

    assert response.status_code == 200
    assert "This voucher code is not valid." in response.content.decode()
    assert Order.objects.count() == 0


@pytest.mark.parametrize("suffix", ["", "invoice/", "invoice.pdf"])
def test_order_address_with_nul_code_404(client, workshop, suffix):
    response = client.get(f"/orders/AB%00CD/secret/{suffix}")

    assert response.status_code == 404


def test_my_invoice_with_nul_code_404(client, workshop):
    client.force_login(UserFactory())

    response = client.get("/tickets/mine/AB%00CD/invoice/")

    assert response.status_code == 404


@pytest.mark.parametrize("ticket_id", ["", "abc", "1\x00", "1.5"])
def test_order_page_post_with_bad_ticket_id_404(client, workshop, ticket_id):
    order = OrderFactory(workshop=workshop, status="paid")
    TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=workshop))

    response = client.post(order.get_absolute_url(), {"ticket": ticket_id})

    assert response.status_code == 404


def test_order_page_post_without_ticket_404(client, workshop):
    order = OrderFactory(workshop=workshop, status="paid")

    response = client.post(order.get_absolute_url(), {})

    assert response.status_code == 404


@pytest.mark.parametrize("count", ["²", "9" * 5000])
def test_message_send_with_malformed_recipient_count_no_500(
    organiser_client, workshop, outbox, count
):
    order = OrderFactory(workshop=workshop, status="paid")
    TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=workshop))
    message = mailing.save_draft(
        workshop=workshop, subject="Hello", body="Hi", ticket_types=[], author=None
    )

    response = organiser_client.post(
        f"/organisers/messages/{message.pk}/send/", {"recipient_count": count}
    )

    assert response.status_code == 302


# -- IPv4 clients seen through a dual-stack socket ----------------------------------------


def test_client_ip_keeps_ipv4_mapped_addresses_apart(rf):
    # A server listening on [::] sees IPv4 clients as ::ffff:a.b.c.d; cut to /64, every IPv4
    # client became "::" and shared one rate limit and one cap on unpaid seats.
    one = rf.get("/", REMOTE_ADDR="::ffff:203.0.113.9")
    two = rf.get("/", REMOTE_ADDR="::ffff:198.51.100.7")

    assert (client_ip(one), client_ip(two)) == ("203.0.113.9", "198.51.100.7")


# -- The voucher's last use, taken while a late payment is checked (PostgreSQL) -------------


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises all writers; no row locks."
)
@pytest.mark.django_db(transaction=True)
def test_late_payment_waits_for_an_order_taking_the_last_voucher_use():
    # Different ticket types, so only the voucher's row lock can make one wait for the other.
    workshop = WorkshopFactory()
    late_type, other_type = TicketTypeFactory.create_batch(2, workshop=workshop, capacity=10)
    voucher = VoucherFactory(workshop=workshop, max_uses=1)
    late = OrderFactory(workshop=workshop, voucher=voucher, status="expired")
    TicketFactory(order=late, ticket_type=late_type)
    locked, release, result = threading.Event(), threading.Event(), {}

    def other_buyer():
        # What create_order does: lock its ticket types, then the voucher, then save the order.
        with transaction.atomic():
            capacity.lock_ticket_types([other_type.id])
            Voucher.objects.select_for_update().get(pk=voucher.pk)
            other = OrderFactory(workshop=workshop, voucher=voucher, status="paid")
            TicketFactory(order=other, ticket_type=other_type)
            locked.set()
            release.wait(10)
        connection.close()

    def late_payment():
        with transaction.atomic():
            locked, now = capacity.lock_order_and_seats(Order.objects.get(pk=late.pk))
            result["remain"] = capacity.seats_remain_for(locked, now=now)
        connection.close()

    buyer = threading.Thread(target=other_buyer)
    buyer.start()
    assert locked.wait(10)
    payment = threading.Thread(target=late_payment)
    payment.start()
    payment.join(0.5)
    waited = payment.is_alive()
    release.set()
    buyer.join()
    payment.join()

    assert waited
    assert result == {"remain": False}
