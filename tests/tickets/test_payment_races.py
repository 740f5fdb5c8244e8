"""A payment confirmed at the moment its reservation ends, while another buyer checks out.

Real gunicorn servers (two, of two worker processes each) on PostgreSQL and the Stripe stand-in:
the signed webhook (or the buyer's return to the success page) reaches one server while a second
buyer's checkout reaches the other, both fired together at times swept around the end of the
first order's reservation. Whoever wins, the last seat (or the voucher's last use) is sold once.
"""

import datetime as dt
import re
import threading
import urllib.error
import urllib.request
from collections import Counter

import pytest
import requests
from django.db import connection
from django.utils import timezone

from tests.factories import TicketTypeFactory, VoucherFactory, WorkshopFactory
from tests.servers import shop_servers
from tickets.models import Order, Ticket, holding_seats_q
from tickets.services import lifecycle, stripe_checkout
from tickets.stripe_standin import StripeStandIn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

# Offsets (seconds) from the moment both requests leave to the end of the reservation: the
# decision on the server falls a few milliseconds after that, on either side of the end.
OFFSETS = [n / 1000 for n in range(-4, 40, 2)]
ROUNDS = 1


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def servers(django_db_setup, standin):
    with shop_servers(
        standin,
        TICKETS_MAX_UNPAID_SEATS_PER_IP="100000",
        TICKETS_MAX_UNPAID_SEATS_PER_EMAIL="100000",
    ) as urls:
        yield urls


@pytest.fixture
def shop(servers, standin, transactional_db, settings):
    """The workshop on both servers; this process talks to the same stand-in."""
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.RATELIMIT_ENABLED = False
    settings.TICKETS_MAX_UNPAID_SEATS_PER_IP = settings.TICKETS_MAX_UNPAID_SEATS_PER_EMAIL = 10**5
    standin.webhook_url = f"{servers[0]}/tickets/stripe/webhook/"
    return WorkshopFactory()


def placed_card_order(workshop, ticket_type, number, voucher_code=None):

    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer={"name": f"First {number}", "email": f"first{number}@example.org"},
        attendees=[{"name": f"First {number}", "email": f"first{number}@example.org"}],
        voucher_code=voucher_code,
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    return order


def checkout_form(base_url, ticket_type_id, number, voucher_code=""):
    """Open the checkout like a browser; return (session, the form data to post)."""
    session = requests.Session()
    params = {f"qty_{ticket_type_id}": 1, "voucher": voucher_code}
    page = session.get(f"{base_url}/tickets/checkout/", params=params, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, (page.status_code, page.text[-1500:])
    email = f"second{number}@example.org"
    data = {
        "csrfmiddlewaretoken": token[1],
        f"qty_{ticket_type_id}": "1",
        "voucher": voucher_code,
        "buyer_name": f"Second {number}",
        "buyer_email": email,
        "attendee_1_name": f"Second {number}",
        "attendee_1_email": email,
        "payment_method": "stripe",
        "accept_code_of_conduct": "on",
    }
    return session, data


def post_webhook(standin, event):
    payload, signature = standin.signed(event)
    request = urllib.request.Request(
        standin.webhook_url,
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def race(workshop, servers, standin, *, number, offset, via, first_type, second_type, voucher=""):
    """Pay the first order as its reservation ends while a second buyer checks out."""
    first = placed_card_order(workshop, first_type, number, voucher or None)
    event = standin.pay(first.stripe_session_id, deliver=False)
    session, data = checkout_form(servers[1], second_type.id, number, voucher)
    checkout = f"{servers[1]}/tickets/checkout/"
    success = f"{servers[0]}{first.get_absolute_url()}?session_id={first.stripe_session_id}"
    start, answers = threading.Barrier(3), {}

    def confirm():
        start.wait()
        if via == "webhook":
            answers["payment"] = post_webhook(standin, event)
        else:
            answers["payment"] = requests.get(success, timeout=30).status_code

    def buy():
        start.wait()
        answer = session.post(
            checkout, data=data, headers={"Referer": checkout}, allow_redirects=False, timeout=30
        )
        answers["checkout"] = answer.status_code

    threads = [threading.Thread(target=confirm), threading.Thread(target=buy)]
    for thread in threads:
        thread.start()
    Order.objects.filter(pk=first.pk).update(
        reserved_until=timezone.now() + dt.timedelta(seconds=offset)
    )
    start.wait()
    for thread in threads:
        thread.join(60)
    # Stripe delivers the event whatever the success page did, and again after a 5xx.
    answers["redelivered"] = post_webhook(standin, event)
    first.refresh_from_db()
    return first, answers


def sweep(workshop, servers, standin, via, make_types, voucher=None):
    """Race at every offset; return the outcomes and the trials that sold too much."""
    outcomes, oversold = Counter(), []
    number = 0
    for _ in range(ROUNDS):
        for offset in OFFSETS:
            number += 1
            if voucher:
                # A new race for the last use: earlier orders no longer count against it.
                Order.objects.filter(voucher=voucher).update(voucher=None)
            first_type, second_type = make_types()
            first, answers = race(
                workshop,
                servers,
                standin,
                number=number,
                offset=offset,
                via=via,
                first_type=first_type,
                second_type=second_type,
                voucher=voucher.code if voucher else "",
            )
            assert answers["redelivered"] == 200, answers
            outcomes[("payment answered", answers["payment"])] += 1
            if answers["checkout"] not in (302, 409):
                outcomes[("checkout answered", answers["checkout"])] += 1
                continue
            assert first.status in (Order.Status.PAID, Order.Status.REFUNDED), first.status
            holders = holding_orders(first_type, second_type, voucher)
            outcomes[(first.status, answers["checkout"])] += 1
            if holders > 1:
                oversold.append((offset, first.status, answers["checkout"]))
    return outcomes, oversold


def holding_orders(first_type, second_type, voucher):
    """Return how many orders hold the seat (or the voucher's use) now."""
    now = timezone.now()
    if voucher:
        return voucher.orders.filter(holding_seats_q(now)).count()
    tickets = Ticket.objects.filter(ticket_type__in=[first_type, second_type])
    return tickets.filter(holding_seats_q(now, prefix="order__")).count()


@pytest.mark.parametrize("via", ["webhook", "success_page"])
def test_last_seat_paid_at_reservation_end_sold_once(shop, servers, standin, via):
    def one_seat():
        ticket_type = TicketTypeFactory(workshop=shop, price="25.00", capacity=1)
        return ticket_type, ticket_type

    outcomes, oversold = sweep(shop, servers, standin, via, one_seat)

    assert oversold == [], (oversold, outcomes)
    # Neither side waited for the other in a deadlock or timed out: every request was answered.
    assert outcomes[("payment answered", 200)] == ROUNDS * len(OFFSETS), outcomes
    assert not any(key[0] == "checkout answered" for key in outcomes), outcomes
    # The sweep straddles the end: the payment won some races and the second buyer others.
    assert outcomes[(Order.Status.PAID, 409)] > 0, outcomes
    assert outcomes[(Order.Status.REFUNDED, 302)] > 0, outcomes


@pytest.mark.parametrize("via", ["webhook", "success_page"])
def test_last_voucher_use_paid_at_reservation_end_used_once(shop, servers, standin, via):
    voucher = VoucherFactory(workshop=shop, code="LASTUSE", max_uses=1)

    def two_types():
        # Different ticket types with room to spare: only the voucher decides.
        return (
            TicketTypeFactory(workshop=shop, price="25.00", capacity=10),
            TicketTypeFactory(workshop=shop, price="25.00", capacity=10),
        )

    outcomes, oversold = sweep(shop, servers, standin, via, two_types, voucher)

    assert oversold == [], (oversold, outcomes)
    # Neither side waited for the other in a deadlock or timed out: every request was answered.
    assert outcomes[("payment answered", 200)] == ROUNDS * len(OFFSETS), outcomes
    assert not any(key[0] == "checkout answered" for key in outcomes), outcomes
    assert outcomes[(Order.Status.PAID, 409)] > 0, outcomes
    assert outcomes[(Order.Status.REFUNDED, 302)] > 0, outcomes
