"""Many buyers at once for few seats, through real HTTP, on PostgreSQL."""

import re
import threading
from collections import Counter

import pytest
import requests
from django.db import connection

from tests.factories import TicketTypeFactory, WorkshopFactory
from tickets.models import Order, Ticket
from tickets.services import lifecycle, stripe_checkout
from tickets.stripe_standin import StripeStandIn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

BUYERS = 40
SEATS = 10


def buy(base_url, ticket_type_id, number, results):
    """Walk the checkout like a browser: get the form (and CSRF cookie), then post it."""
    session = requests.Session()
    checkout = f"{base_url}/tickets/checkout/"
    page = session.get(checkout, params={f"qty_{ticket_type_id}": 1}, timeout=60)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, (page.status_code, page.url, page.text[-1500:])
    token = match[1]
    data = {
        "csrfmiddlewaretoken": token,
        f"qty_{ticket_type_id}": "1",
        "buyer_name": f"Buyer {number}",
        "buyer_email": f"buyer{number}@example.org",
        "attendee_1_name": f"Buyer {number}",
        "attendee_1_email": f"buyer{number}@example.org",
        "payment_method": "stripe",
        "accept_code_of_conduct": "on",
    }
    results[number] = session.post(
        checkout, data=data, headers={"Referer": checkout}, allow_redirects=False, timeout=60
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_buyers_never_oversell(live_server, settings):
    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular", capacity=SEATS)
    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = standin.api_key
        settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        results = {}
        threads = [
            threading.Thread(target=buy, args=(live_server.url, ticket_type.id, n, results))
            for n in range(BUYERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        statuses = Counter(response.status_code for response in results.values())
        assert statuses == {302: SEATS, 409: BUYERS - SEATS}
        for response in results.values():
            if response.status_code == 302:
                assert response.headers["Location"].startswith(f"{standin.url}/pay/")
            else:
                assert "“Regular” is sold out." in response.text
        assert len(standin.sessions) == SEATS
    assert Order.objects.filter(status=Order.Status.PENDING).count() == SEATS
    assert Ticket.objects.filter(ticket_type=ticket_type).count() == SEATS


@pytest.mark.django_db(transaction=True)
def test_lock_wait_timeout_answers_busy(client, settings):
    from django.db import transaction

    from tests.tickets.test_stripe import checkout_data
    from tickets.models import TicketType

    settings.TICKETS_LOCK_TIMEOUT_MS = 200
    settings.STRIPE_SECRET_KEY = "sk_test_unused"
    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular", capacity=SEATS)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            TicketType.objects.select_for_update().get(pk=ticket_type.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    try:
        response = client.post("/tickets/checkout/", checkout_data(ticket_type))
    finally:
        release.set()
        holder.join()

    assert response.status_code == 503
    assert "Busy, please try again" in response.content.decode()
    assert Order.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_success_page_and_webhook_at_once_fulfil_once(settings, mailoutbox):
    from tests.tickets.conftest import BUYER, people

    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=SEATS)
    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = standin.api_key
        settings.STRIPE_API_BASE = standin.url
        order = lifecycle.create_order(
            workshop=workshop,
            ticket_counts={ticket_type.id: 1},
            buyer=BUYER,
            attendees=people(1),
            payment_method="stripe",
        )
        stripe_checkout.start_checkout(order=order)
        order.refresh_from_db()
        standin.pay(order.stripe_session_id, deliver=False)
        start, results = threading.Barrier(8), []

        def fulfil():
            start.wait()
            results.append(
                stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id).outcome
            )
            connection.close()

        threads = [threading.Thread(target=fulfil) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(results) == ["already paid"] * 7 + ["paid"]
    assert order.events.filter(to_status="paid").count() == 1
    # Paid once, so told once: the buyer's confirmation and the attendee's own ticket e-mail.
    assert sorted(address for mail in mailoutbox for address in mail.to) == [
        "ada0@example.org",
        BUYER["email"],
    ]
