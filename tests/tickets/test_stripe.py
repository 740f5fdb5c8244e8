import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import TicketTypeFactory
from tests.tickets.conftest import BUYER, WEBHOOK, people
from tickets.models import Order, StripeEvent
from tickets.services import capacity, errors, lifecycle, refunds, stripe_checkout
from tickets.stripe_standin import signature_header

pytestmark = pytest.mark.django_db


def checkout_data(ticket_type, quantity=1):
    data = {
        f"qty_{ticket_type.id}": str(quantity),
        "buyer_name": "Ada Buyer",
        "buyer_email": "ada@example.org",
        "payment_method": "stripe",
        "accept_code_of_conduct": "on",
    }
    for n in range(1, quantity + 1):
        data[f"attendee_{n}_name"] = f"Attendee {n}"
        data[f"attendee_{n}_email"] = f"attendee{n}@example.org"
    return data


def card_order(workshop, ticket_type, quantity=1):
    created = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: quantity},
        buyer=BUYER,
        attendees=people(quantity),
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=created)
    created.refresh_from_db()
    return created


def post_event(client, standin, event, **sign):
    payload, signature = standin.signed(event, **sign)
    return client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def test_paid_order_end_to_end(
    client, workshop, paid_type, standin, outbox, django_capture_on_commit_callbacks
):
    response = client.post("/tickets/checkout/", checkout_data(paid_type, 2))
    order = Order.objects.get()
    session = standin.sessions[order.stripe_session_id]
    assert response.status_code == 302
    assert response["Location"] == session["url"]

    with django_capture_on_commit_callbacks(execute=True):
        event = standin.pay(order.stripe_session_id)

    order.refresh_from_db()
    assert standin.deliveries == [(event["id"], "checkout.session.completed", 200)]
    assert order.status == Order.Status.PAID
    assert order.stripe_payment_intent_id == session["payment_intent"]
    assert StripeEvent.objects.get().result == "paid"
    # The buyer's confirmation, then each of the two attendees' own ticket.
    assert [m.to for m in outbox] == [
        ["ada@example.org"],
        ["attendee1@example.org"],
        ["attendee2@example.org"],
    ]
    names = [name for name, _, _ in outbox[0].attachments]
    assert names == [
        *(f"ticket-{t.code}.png" for t in order.tickets.all()),
        f"{workshop.slug}.ics",
        f"invoice-{order.invoice.number}.pdf",
    ]
    ics = outbox[0].attachments[-2][1]
    assert "BEGIN:VEVENT" in ics and f"SUMMARY:{workshop.title}" in ics
    assert "DTSTART:20301202T130000Z" in ics
    assert order.get_absolute_url() in outbox[0].body


def test_checkout_session_matches_order(client, workshop, paid_type, standin):
    client.post("/tickets/checkout/", checkout_data(paid_type, 2))
    order = Order.objects.get()

    session = standin.sessions[order.stripe_session_id]
    method, path, headers = standin.requests[0]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["Idempotency-Key"] == f"order-{order.code}-checkout"
    assert session["client_reference_id"] == order.code
    assert session["metadata"] == {"order_code": order.code}
    assert session["amount_total"] == 5000
    assert session["currency"] == "eur"
    assert session["line_items_requested"] == [
        {
            "quantity": "2",
            "price_data": {
                "currency": "eur",
                "unit_amount": "2500",
                "product_data": {"name": f"{workshop.title}: Regular"},
            },
        }
    ]
    assert session["expires_at"] == int(order.reserved_until.timestamp())


def test_posted_prices_are_ignored(client, workshop, paid_type, standin):
    data = {**checkout_data(paid_type, 1), "price": "0.01", "total": "0.01", "unit_amount": "1"}

    client.post("/tickets/checkout/", data)

    order = Order.objects.get()
    assert order.total == Decimal("25.00")
    assert standin.sessions[order.stripe_session_id]["amount_total"] == 2500


def test_zero_decimal_currency_sent_in_whole_units(workshop, standin):
    workshop.currency = "JPY"
    workshop.save()
    ticket_type = TicketTypeFactory(workshop=workshop, price="1500")

    order = card_order(workshop, ticket_type, 2)

    session = standin.sessions[order.stripe_session_id]
    assert (session["amount_total"], session["currency"]) == (3000, "jpy")
    standin.pay(order.stripe_session_id)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


@pytest.mark.parametrize("fault", [500, "unreachable"])
def test_stripe_failure_on_create_releases_seats(client, workshop, standin, fault):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    standin.fail_next(fault)

    response = client.post("/tickets/checkout/", checkout_data(ticket_type))

    assert response.status_code == 503
    assert "Please try again in a few minutes." in response.content.decode()
    order = Order.objects.get()
    assert order.status == Order.Status.EXPIRED
    assert order.stripe_session_id is None
    assert capacity.seats_taken([ticket_type.id], now=timezone.now()) == {}


def test_stripe_500_retried_with_same_idempotency_key(workshop, paid_type, standin, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    standin.fail_next(500)

    order = card_order(workshop, paid_type)

    keys = [headers["Idempotency-Key"] for _, _, headers in standin.requests]
    assert keys == [f"order-{order.code}-checkout"] * 2
    assert order.status == Order.Status.PENDING
    assert len(standin.sessions) == 1


def test_success_page_fulfils_without_webhook(client, workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id, deliver=False)

    response = client.get(order.get_absolute_url() + "?session_id=cs_forged")

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert "Status: <strong>Paid</strong>" in response.content.decode()
    assert ("GET", f"/v1/checkout/sessions/{order.stripe_session_id}") in [
        (m, p) for m, p, _ in standin.requests
    ]


def test_success_page_and_webhook_send_one_email(
    client, workshop, paid_type, standin, outbox, django_capture_on_commit_callbacks
):
    order = card_order(workshop, paid_type)
    with django_capture_on_commit_callbacks(execute=True):
        event = standin.pay(order.stripe_session_id, deliver=False)
        client.get(order.get_absolute_url() + f"?session_id={order.stripe_session_id}")
        response = post_event(client, standin, event)

    assert response.content == b"already paid"
    assert [m.to for m in outbox] == [[order.buyer_email], [order.tickets.get().attendee_email]]


def test_webhook_forged_signature_rejected(client, workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    event = standin.pay(order.stripe_session_id, deliver=False)

    response = post_event(client, standin, event, secret="whsec_forged")

    assert (response.status_code, response.content) == (400, b"Bad signature.")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert StripeEvent.objects.count() == 0


def test_webhook_missing_signature_rejected(client, standin):
    response = client.post(WEBHOOK, data=b"{}", content_type="application/json")

    assert response.status_code == 400


def test_webhook_replayed_old_signature_rejected(client, workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    event = standin.pay(order.stripe_session_id, deliver=False)

    response = post_event(client, standin, event, timestamp=time.time() - 301)

    assert (response.status_code, response.content) == (400, b"Bad signature.")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", b"Malformed payload."),
        (b'"a string"', b"Malformed payload."),
        (b'{"id": "evt_1", "type": "checkout.session.completed"}', b"The event lacks"),
        (b"\xff\xfe", b"Malformed payload."),
    ],
)
def test_webhook_malformed_rejected(client, standin, payload, message):
    signature = signature_header(payload, standin.webhook_secret)

    response = client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert response.status_code == 400
    assert response.content.startswith(message)


def test_webhook_get_not_allowed(client, standin):
    assert client.get(WEBHOOK).status_code == 405


def test_webhook_duplicate_processed_once(
    client, workshop, paid_type, standin, outbox, django_capture_on_commit_callbacks
):
    order = card_order(workshop, paid_type)
    with django_capture_on_commit_callbacks(execute=True):
        event = standin.pay(order.stripe_session_id)
        again = post_event(client, standin, event)

    assert (again.status_code, again.content) == (200, b"already processed")
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert [m.to for m in outbox] == [[order.buyer_email], [order.tickets.get().attendee_email]]


def test_webhook_unknown_order_acknowledged(client, standin):
    session = standin.handle(
        "POST",
        "/v1/checkout/sessions",
        {
            "mode": "payment",
            "client_reference_id": "NOSUCH",
            "line_items": [
                {"quantity": "1", "price_data": {"currency": "eur", "unit_amount": "100"}}
            ],
        },
        {"Authorization": f"Bearer {standin.api_key}"},
    )[1]

    event = standin.pay(session["id"], deliver=False)
    response = post_event(client, standin, event)

    assert (response.status_code, response.content) == (200, b"unknown order")
    assert StripeEvent.objects.get().order is None


def test_webhook_unknown_session_acknowledged(client, standin):
    event = standin.make_event("checkout.session.completed", {"id": "cs_test_unknown"})

    response = post_event(client, standin, event)

    assert response.status_code == 200
    assert response.content.startswith(b"unknown object")


def test_webhook_stripe_down_asks_for_retry(client, workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    event = standin.pay(order.stripe_session_id, deliver=False)
    standin.fail_next(500)

    first = post_event(client, standin, event)
    second = post_event(client, standin, event)

    assert (first.status_code, second.status_code) == (503, 200)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_session_amount_mismatch_not_fulfilled(client, workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.sessions[order.stripe_session_id]["amount_total"] = 1
    event = standin.pay(order.stripe_session_id, deliver=False)

    response = post_event(client, standin, event)

    assert response.content == b"rejected and refunded: amount 1 differs from the order total"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert standin.charge_for(order.stripe_session_id)["refunded"] is True


def test_expired_event_releases_seats(client, workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    order = card_order(workshop, ticket_type)

    standin.expire(order.stripe_session_id)

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert capacity.seats_taken([ticket_type.id], now=timezone.now()) == {}


def test_expired_event_after_payment_changes_nothing(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    late = standin.make_event("checkout.session.expired", standin.sessions[order.stripe_session_id])

    standin.deliver(late)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_async_payment_holds_seats_then_succeeds(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    order = card_order(workshop, ticket_type)
    standin.pay(order.stripe_session_id, payment_status="unpaid")
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    after_reservation = order.reserved_until + dt.timedelta(hours=1)
    assert capacity.seats_taken([ticket_type.id], now=after_reservation) == {ticket_type.id: 1}

    standin.settle(order.stripe_session_id, succeeded=True)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_async_payment_failed_releases_seats(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id, payment_status="unpaid")

    standin.settle(order.stripe_session_id, succeeded=False)

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED


def test_out_of_order_success_before_completed(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    completed = standin.pay(order.stripe_session_id, payment_status="unpaid", deliver=False)
    standin.settle(order.stripe_session_id, succeeded=True)

    status = standin.deliver(completed)

    order.refresh_from_db()
    assert status == 200
    assert order.status == Order.Status.PAID


def test_out_of_order_failed_before_completed_stays_expired(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    completed = standin.pay(order.stripe_session_id, payment_status="unpaid", deliver=False)
    standin.settle(order.stripe_session_id, succeeded=False)

    standin.deliver(completed)

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED


def test_late_payment_accepted_when_seats_remain(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=2)
    order = card_order(workshop, ticket_type)
    Order.objects.filter(pk=order.pk).update(status="expired")

    standin.pay(order.stripe_session_id)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.events.last().note == "Late card payment accepted: seats remained."


def test_late_payment_refunded_when_sold_out(
    client, workshop, standin, outbox, django_capture_on_commit_callbacks
):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type)
    Order.objects.filter(pk=late.pk).update(reserved_until=timezone.now() - dt.timedelta(1))
    other = card_order(workshop, ticket_type)

    with django_capture_on_commit_callbacks(execute=True):
        event = standin.pay(late.stripe_session_id)

    late.refresh_from_db()
    other.refresh_from_db()
    assert StripeEvent.objects.get(event_id=event["id"]).result == "refunded late payment"
    assert (late.status, late.refunded_amount) == (Order.Status.REFUNDED, Decimal("25.00"))
    assert other.status == Order.Status.PENDING
    (refund,) = standin.refunds.values()
    assert (refund["amount"], refund["payment_intent"]) == (2500, late.stripe_payment_intent_id)
    refund_request = [h for m, p, h in standin.requests if p == "/v1/refunds"][0]
    assert refund_request["Idempotency-Key"] == f"order-{late.code}-late-refund"
    assert [(m.to, m.subject) for m in outbox] == [
        ([late.buyer_email], f"Order {late.code} refunded"),
        (["ada0@example.org"], f"Your ticket for {workshop.title} is cancelled"),
    ]
    assert capacity.seats_taken([ticket_type.id], now=timezone.now()) == {ticket_type.id: 1}


def test_late_payment_refund_retried_when_stripe_down(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type)
    Order.objects.filter(pk=late.pk).update(status="expired")
    card_order(workshop, ticket_type)
    event = standin.pay(late.stripe_session_id, deliver=False)
    standin.fail_next(500, path="/v1/refunds")

    first = standin.deliver(event)
    second = standin.deliver(event)

    late.refresh_from_db()
    assert (first, second) == (503, 200)
    assert late.status == Order.Status.REFUNDED
    assert len(standin.refunds) == 1


def test_late_payment_refund_refused_by_stripe_is_retried_not_forgotten(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type)
    Order.objects.filter(pk=late.pk).update(status="expired")
    card_order(workshop, ticket_type)
    event = standin.pay(late.stripe_session_id, deliver=False)
    # A 400 (say, a disputed charge) is an InvalidRequestError, like an unknown object.
    standin.fail_next(400, path="/v1/refunds")

    first = standin.deliver(event)
    second = standin.deliver(event)

    late.refresh_from_db()
    assert (first, second) == (503, 200)
    assert late.status == Order.Status.REFUNDED
    assert len(standin.refunds) == 1


@pytest.mark.parametrize(
    ("amount", "status", "refunded"),
    [
        (1000, "partly_refunded", "10.00"),
        (None, "refunded", "25.00"),
    ],
)
def test_charge_refunded_event_recorded(workshop, paid_type, standin, amount, status, refunded):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)

    standin.refund(standin.charge_for(order.stripe_session_id)["id"], amount)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (status, Decimal(refunded))


def test_charge_refunded_events_never_go_backwards(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    charge_id = standin.charge_for(order.stripe_session_id)["id"]
    partial = standin.refund(charge_id, 1000, deliver=False)
    standin.refund(charge_id)

    standin.deliver(partial)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("25.00"))


def test_refund_order_through_stripe(workshop, paid_type, standin, organiser):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)

    refunds.refund_order(order=order, actor=organiser)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("25.00"))
    assert standin.charge_for(order.stripe_session_id)["refunded"] is True
    assert order.events.last().actor == organiser
    with pytest.raises(errors.OrderError, match="is not a paid card order"):
        refunds.refund_order(order=order)


def test_release_expired_orders_expires_open_session(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now())

    call_command("release_expired_orders", stdout=open("/dev/null", "w"))

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert standin.sessions[order.stripe_session_id]["status"] == "expired"


def test_release_expired_orders_fulfils_completed_session(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id, deliver=False)
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now())

    released = stripe_checkout.release_expired_orders()

    order.refresh_from_db()
    assert released == 0
    assert order.status == Order.Status.PAID


def test_release_expired_orders_skips_when_stripe_down(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now())
    standin.fail_next(500)

    assert stripe_checkout.release_expired_orders() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_webhook_refused_without_configuration(client, no_stripe):
    response = client.post(WEBHOOK, data=json.dumps({}), content_type="application/json")

    assert response.status_code == 503


def test_cancel_pending_card_order_closes_session(workshop, paid_type, standin, organiser):
    order = card_order(workshop, paid_type)

    lifecycle.cancel_order(order=order, actor=organiser)

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert standin.sessions[order.stripe_session_id]["status"] == "expired"


def test_cancel_refused_when_session_was_paid(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id, deliver=False)

    with pytest.raises(errors.OrderError, match=f"Order {order.code} is paid."):
        lifecycle.cancel_order(order=order)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_payment_after_cancellation_refunded(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    Order.objects.filter(pk=order.pk).update(status="cancelled")

    standin.pay(order.stripe_session_id)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("25.00"))


def test_late_payment_already_refunded_in_dashboard_recorded(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type)
    Order.objects.filter(pk=late.pk).update(status="expired")
    card_order(workshop, ticket_type)
    event = standin.pay(late.stripe_session_id, deliver=False)
    standin.refund(standin.charge_for(late.stripe_session_id)["id"], deliver=False)

    status = standin.deliver(event)

    late.refresh_from_db()
    assert status == 200
    assert (late.status, late.refunded_amount) == ("refunded", Decimal("25.00"))
    assert late.events.last().note.endswith("Stripe says it was already refunded.")


def test_late_refund_recorded_once_when_delivered_twice(
    workshop, standin, outbox, django_capture_on_commit_callbacks
):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type)
    Order.objects.filter(pk=late.pk).update(status="expired")
    card_order(workshop, ticket_type)
    standin.pay(late.stripe_session_id, deliver=False)

    with django_capture_on_commit_callbacks(execute=True):
        first = stripe_checkout.fulfil_checkout_session(session_id=late.stripe_session_id).outcome
        second = stripe_checkout.fulfil_checkout_session(session_id=late.stripe_session_id).outcome

    assert (first, second) == ("refunded late payment", "already refunded")
    assert len(standin.refunds) == 1
    assert [m.to for m in outbox] == [[late.buyer_email], ["ada0@example.org"]]


def test_two_partial_refunds_add_up(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    charge_id = standin.charge_for(order.stripe_session_id)["id"]

    statuses = [standin.refund(charge_id, 500), standin.refund(charge_id, 700)]

    order.refresh_from_db()
    assert [s["type"] for s in statuses] == ["charge.refunded"] * 2
    assert standin.deliveries[-2:][0][2] == standin.deliveries[-1][2] == 200
    assert (order.status, order.refunded_amount) == ("partly_refunded", Decimal("12.00"))
