"""The cap on unpaid seats one e-mail address or one client address may hold at a time."""

import datetime as dt
import hashlib
import re
import threading
import time
from collections import Counter

import pytest
import requests
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, WorkshopFactory
from tickets.models import Order, Ticket
from tickets.services import capacity, errors, lifecycle, stripe_checkout

pytestmark = pytest.mark.django_db

Status, Method = Order.Status, Order.Method


@pytest.fixture(autouse=True)
def caps(settings):
    cache.clear()
    settings.STRIPE_SECRET_KEY = "sk_test_cap"
    settings.TICKETS_MAX_UNPAID_SEATS_PER_EMAIL = 4
    settings.TICKETS_MAX_UNPAID_SEATS_PER_IP = 6
    yield
    cache.clear()


@pytest.fixture
def ticket_type(workshop):
    return TicketTypeFactory(workshop=workshop, name="Regular", capacity=100, max_per_order=10)


def people(n, name="ada"):
    return [{"name": f"{name} {i}", "email": f"{name}{i}@example.org"} for i in range(n)]


def order(ticket_type, n, *, email="ada@example.org", address=None, method=Method.STRIPE):
    return lifecycle.create_order(
        workshop=ticket_type.workshop,
        ticket_counts={ticket_type.id: n},
        buyer={"name": "Ada", "email": email},
        attendees=people(n),
        payment_method=method,
        client_address=address,
    )


def held_order(ticket_type, n, *, email="ada@example.org", **fields):
    held = OrderFactory(workshop=ticket_type.workshop, buyer_email=email, **fields)
    for _ in range(n):
        TicketFactory(order=held, ticket_type=ticket_type)
    return held


def test_seat_cap_refuses_more_unpaid_seats_per_email_and_writes_nothing(ticket_type):
    order(ticket_type, 3)
    orders, tickets = Order.objects.count(), Ticket.objects.count()

    with pytest.raises(errors.TooManyUnpaidSeats) as refused:
        order(ticket_type, 2, email="ADA@Example.org ")

    assert str(refused.value) == (
        "At most 4 unpaid or free seats can be held under one e-mail address, and this order "
        "would pass that for ADA@Example.org. Pay for or cancel its open orders (unpaid card "
        "orders end by themselves) and try again, or contact the organisers."
    )
    assert (Order.objects.count(), Ticket.objects.count()) == (orders, tickets)


def test_seat_cap_allows_up_to_the_cap(ticket_type):
    order(ticket_type, 3)

    assert order(ticket_type, 1).tickets.count() == 1


def test_seat_cap_single_order_over_cap_refused(ticket_type):
    with pytest.raises(
        errors.TooManyUnpaidSeats, match="At most 4 unpaid or free seats can be held under one"
    ):
        order(ticket_type, 5)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.PAID},
        {"status": Status.EXPIRED},
        {"status": Status.CANCELLED},
        {"status": Status.REFUNDED},
        # A card order whose reservation has run out no longer holds its seats.
        {"status": Status.PENDING, "reserved_until": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
    ],
)
def test_seat_cap_ignores_paid_expired_and_cancelled_orders(ticket_type, fields):
    held_order(ticket_type, 4, **fields)

    assert order(ticket_type, 4).tickets.count() == 4


def test_seat_cap_counts_pending_invoice_orders(ticket_type):
    held_order(ticket_type, 3, status=Status.PENDING, payment_method=Method.INVOICE)

    with pytest.raises(errors.TooManyUnpaidSeats):
        order(ticket_type, 2)


def test_seat_cap_counts_across_ticket_types(ticket_type, workshop):
    other = TicketTypeFactory(workshop=workshop, name="Other")
    order(ticket_type, 3)

    with pytest.raises(errors.TooManyUnpaidSeats):
        order(other, 2)


def test_seat_cap_one_address_cannot_take_every_free_seat(workshop):
    free = TicketTypeFactory(workshop=workshop, price="0.00", capacity=50, max_per_order=10)
    order(free, 4, method=Method.FREE)

    with pytest.raises(errors.TooManyUnpaidSeats, match="At most 4 unpaid or free seats"):
        order(free, 1, method=Method.FREE)

    assert Ticket.objects.filter(ticket_type=free).count() == 4


def test_seat_cap_free_seats_count_per_client_address(workshop):
    free = TicketTypeFactory(workshop=workshop, price="0.00", capacity=50, max_per_order=10)
    order(free, 4, email="one@example.org", address="198.51.100.7", method=Method.FREE)

    with pytest.raises(errors.TooManyUnpaidSeats, match="from one network"):
        order(free, 3, email="two@example.org", address="198.51.100.7", method=Method.FREE)

    assert order(free, 3, email="two@example.org", address="203.0.113.9", method=Method.FREE)


def test_seat_cap_free_and_unpaid_seats_count_together(ticket_type, workshop):
    free = TicketTypeFactory(workshop=workshop, price="0.00", max_per_order=10)
    order(free, 3, method=Method.FREE)

    with pytest.raises(errors.TooManyUnpaidSeats):
        order(ticket_type, 2)


def test_seat_cap_cancelled_free_seats_no_longer_count(workshop):
    free = TicketTypeFactory(workshop=workshop, price="0.00", max_per_order=10)
    lifecycle.cancel_order(order=order(free, 4, method=Method.FREE))

    assert order(free, 4, method=Method.FREE).status == Status.PAID


def test_seat_cap_per_client_address(ticket_type):
    order(ticket_type, 4, email="one@example.org", address="198.51.100.7")

    with pytest.raises(errors.TooManyUnpaidSeats) as refused:
        order(ticket_type, 3, email="two@example.org", address="198.51.100.7")

    assert str(refused.value).startswith(
        "At most 6 unpaid or free seats can be held from one network, and this order"
    )
    assert order(ticket_type, 3, email="two@example.org", address="203.0.113.9")


def test_seat_cap_unknown_addresses_do_not_share_a_count(ticket_type):
    order(ticket_type, 4, email="one@example.org", address="unknown")

    assert order(ticket_type, 4, email="two@example.org", address="unknown").client_hash == ""


def test_seat_cap_stores_only_a_keyed_hash_of_the_address(ticket_type):
    created = order(ticket_type, 1, address="198.51.100.7")

    created.refresh_from_db()
    assert created.client_hash == capacity.hash_client("198.51.100.7")
    assert len(created.client_hash) == 64
    assert "198.51.100.7" not in str(Order.objects.filter(pk=created.pk).values().get())


def checkout_data(ticket_type, n, email):
    data = {
        f"qty_{ticket_type.id}": str(n),
        "buyer_name": "Ada",
        "buyer_email": email,
        "payment_method": "stripe",
        "accept_code_of_conduct": "on",
    }
    for i in range(1, n + 1):
        data[f"attendee_{i}_name"] = f"Ada {i}"
        data[f"attendee_{i}_email"] = f"ada{i}@example.org"
    return data


def test_checkout_over_seat_cap_answers_429_with_message(client, ticket_type, monkeypatch):
    monkeypatch.setattr(
        stripe_checkout, "start_checkout", lambda order: "https://stripe.invalid/pay"
    )
    first = client.post("/tickets/checkout/", checkout_data(ticket_type, 3, "ada@example.org"))

    response = client.post("/tickets/checkout/", checkout_data(ticket_type, 2, "ada@example.org"))

    assert first.status_code == 302
    assert response.status_code == 429
    html = response.content.decode()
    assert "this order would pass that for ada@example.org" in html
    assert 'name="buyer_email"' in html  # the form is shown again, filled in
    assert Order.objects.count() == 1


def email_claim(email):
    """Return a different spoofed address per request, which must not count."""
    return f"192.0.2.{ord(email[0])}"


def test_checkout_seat_cap_counts_client_behind_proxy(client, ticket_type, settings, monkeypatch):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    monkeypatch.setattr(
        stripe_checkout, "start_checkout", lambda order: "https://stripe.invalid/pay"
    )

    def post(email, address):
        return client.post(
            "/tickets/checkout/",
            checkout_data(ticket_type, 3, email),
            # The proxy appends the address it saw; the first entry is the client's own claim.
            HTTP_X_FORWARDED_FOR=f"{email_claim(email)}, {address}",
        )

    statuses = [
        post("a@example.org", "198.51.100.1").status_code,
        post("b@example.org", "198.51.100.1").status_code,
        post("c@example.org", "198.51.100.1").status_code,
        post("d@example.org", "198.51.100.2").status_code,
    ]

    assert statuses == [302, 302, 429, 302]
    assert Order.objects.get(buyer_email="d@example.org").client_hash == capacity.hash_client(
        "198.51.100.2"
    )


# -- PostgreSQL: one buyer's concurrent checkouts ------------------------------------------------


def buy(base_url, ticket_type_id, number, results):
    """Walk the checkout like a browser from one address with one e-mail address."""
    session = requests.Session()
    checkout = f"{base_url}/tickets/checkout/"
    page = session.get(checkout, params={f"qty_{ticket_type_id}": 1}, timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    data = {
        "csrfmiddlewaretoken": token,
        f"qty_{ticket_type_id}": "1",
        "buyer_name": "Bot",
        "buyer_email": "bot@example.org",
        "attendee_1_name": f"Bot {number}",
        "attendee_1_email": f"bot{number}@example.org",
        "payment_method": "stripe",
        "accept_code_of_conduct": "on",
    }
    results[number] = session.post(
        checkout, data=data, headers={"Referer": checkout}, allow_redirects=False, timeout=60
    )


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The cap under concurrency is proven on PostgreSQL."
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_of_one_buyer_stop_at_the_cap(live_server, settings, monkeypatch):
    from tickets.stripe_standin import StripeStandIn

    settings.RATELIMIT_ENABLED = False
    real_problem = capacity.seat_cap_problem

    def slow_problem(**kwargs):
        # Widen the window between counting and writing, as a loaded server would.
        problem = real_problem(**kwargs)
        time.sleep(0.2)
        return problem

    monkeypatch.setattr(capacity, "seat_cap_problem", slow_problem)
    workshop = WorkshopFactory()
    types = [TicketTypeFactory(workshop=workshop, capacity=100) for _ in range(2)]
    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = standin.api_key
        settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        results = {}
        # Two ticket types: the capacity lock alone would let both queues pass the cap.
        threads = [
            threading.Thread(target=buy, args=(live_server.url, types[n % 2].id, n, results))
            for n in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    statuses = Counter(response.status_code for response in results.values())
    assert statuses == {302: 4, 429: 8}
    unpaid = Ticket.objects.filter(order__buyer_email="bot@example.org")
    assert unpaid.count() == 4
    assert Order.objects.filter(reserved_until__gt=timezone.now()).count() == 4


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="Advisory locks are PostgreSQL's.")
@pytest.mark.django_db(transaction=True)
def test_buyer_lock_held_elsewhere_answers_busy(settings):
    import psycopg

    settings.TICKETS_LOCK_TIMEOUT_MS = 200
    ticket_type = TicketTypeFactory(workshop=WorkshopFactory(), capacity=10)
    key = int.from_bytes(hashlib.sha256(b"email:ada@example.org").digest()[:8], "big", signed=True)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(%s)", [key])

        with pytest.raises(errors.Busy, match="Please try again."):
            order(ticket_type, 1)

    assert Order.objects.count() == 0
