"""The Stripe stand-in answers like Stripe, so the app's tests mean something."""

import time

import pytest
import stripe

from tickets.stripe_standin import StripeStandIn, decode_form

LINE_ITEMS = [{"quantity": 2, "price_data": {"currency": "eur", "unit_amount": 2500}}]


@pytest.fixture
def server():
    with StripeStandIn() as standin:
        yield standin


def client_for(server, key=None):
    return stripe.StripeClient(
        key or server.api_key, base_addresses={"api": server.url}, max_network_retries=0
    )


def create(client, **extra):
    return client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": LINE_ITEMS, "success_url": "http://x/", **extra},
        extra.pop("options", None),
    )


def test_decode_form_brackets():
    body = "a=1&b[c]=2&d[0][e]=3&d[1][e]=4&f[]=x&f[]=y"

    assert decode_form(body) == {
        "a": "1",
        "b": {"c": "2"},
        "d": [{"e": "3"}, {"e": "4"}],
        "f": ["x", "y"],
    }


def test_session_created_with_stripe_shape(server):
    session = create(client_for(server), client_reference_id="ABC", metadata={"order_code": "ABC"})

    assert session.object == "checkout.session"
    assert (session.amount_total, session.currency, session.status) == (5000, "eur", "open")
    assert session.url == f"{server.url}/pay/{session.id}"
    assert session.metadata.to_dict() == {"order_code": "ABC"}


def test_wrong_key_refused_with_stripe_error(server):
    with pytest.raises(stripe.AuthenticationError) as error:
        create(client_for(server, key="sk_test_wrong"))

    assert error.value.http_status == 401
    assert error.value.json_body == {
        "error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}
    }


def test_idempotency_key_replays_answer(server):
    client = client_for(server)
    options = {"idempotency_key": "k1"}

    first = client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": LINE_ITEMS}, options
    )
    second = client.v1.checkout.sessions.create(
        {"mode": "payment", "line_items": LINE_ITEMS}, options
    )

    assert first.id == second.id
    assert len(server.sessions) == 1
    other_items = [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 1}}]
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create({"mode": "payment", "line_items": other_items}, options)


def test_expires_at_too_soon_refused(server):
    with pytest.raises(stripe.InvalidRequestError) as error:
        create(client_for(server), expires_at=int(time.time()) + 60)

    assert error.value.param == "expires_at"


@pytest.mark.parametrize(
    ("fault", "exception"), [(500, stripe.APIError), ("unreachable", stripe.APIConnectionError)]
)
def test_fail_next(server, fault, exception):
    server.fail_next(fault)

    with pytest.raises(exception):
        create(client_for(server))
    assert create(client_for(server)).status == "open"


def test_unknown_session_is_resource_missing(server):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client_for(server).v1.checkout.sessions.retrieve("cs_test_nope")

    assert (error.value.http_status, error.value.code) == (404, "resource_missing")


def test_pay_signs_event_for_webhook(server):
    received = []
    server.webhook_url = lambda payload, signature: received.append((payload, signature)) or 200
    session = create(client_for(server))

    server.pay(session.id)

    payload, signature = received[0]
    event = stripe.Webhook.construct_event(payload, signature, server.webhook_secret)
    assert event.type == "checkout.session.completed"
    assert event.data.object.payment_status == "paid"
