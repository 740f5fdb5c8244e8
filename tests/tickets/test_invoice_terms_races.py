"""A late bank transfer recorded by an organiser while a buyer takes the freed seat.

Real gunicorn servers (two, of two worker processes each) on PostgreSQL: the organiser's
"Mark selected invoice orders paid" reaches one server while a new buyer's checkout of the
expired order's last seat reaches the other, fired together at offsets swept around each
other. Whoever wins, the seat is held once: the transfer is accepted and the buyer told it is
sold out, or the buyer gets it and the transfer is recorded as money to return.
"""

import re
import threading
import time
from collections import Counter

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.factories import TicketTypeFactory, UserFactory, WorkshopFactory
from tests.servers import gunicorn_servers, server_env
from tests.tickets.test_invoice_terms import days, local, place
from tickets.models import Order, Ticket, holding_seats_q
from tickets.services.invoice_terms import expire_overdue_invoice_orders

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

# Seconds the organiser's request leaves after the buyer's (negative: before).
OFFSETS = [n / 1000 for n in range(-20, 22, 2)]


@pytest.fixture(scope="module")
def servers(django_db_setup):
    env = server_env(
        settings,
        RATELIMIT_ENABLED="0",
        TICKETS_MAX_UNPAID_SEATS_PER_IP="100000",
        TICKETS_MAX_UNPAID_SEATS_PER_EMAIL="100000",
        STRIPE_SECRET_KEY="",
    )
    with gunicorn_servers(env) as urls:
        yield urls


def organiser_session(base_url):
    """Return a requests session signed in as a staff member, and the admin's CSRF token."""
    organiser = UserFactory(username="racer", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(organiser)
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    page = session.get(f"{base_url}/admin/tickets/order/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, (page.status_code, page.text[-1500:])
    return session, token[1]


def buyer_form(base_url, ticket_type_id, number):
    session = requests.Session()
    page = session.get(
        f"{base_url}/tickets/checkout/", params={f"qty_{ticket_type_id}": 1}, timeout=30
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, (page.status_code, page.text[-1500:])
    email = f"second{number}@example.org"
    return session, {
        "csrfmiddlewaretoken": token[1],
        f"qty_{ticket_type_id}": "1",
        "buyer_name": f"Second {number}",
        "buyer_email": email,
        "attendee_1_name": f"Second {number}",
        "attendee_1_email": email,
        "payment_method": "invoice",
        "invoice_details": "Main Street 1",
        "accept_code_of_conduct": "on",
    }


def race(workshop, servers, organiser, *, number, offset):
    """Record the transfer of an expired order while a buyer checks out its seat."""
    ticket_type = TicketTypeFactory(
        workshop=workshop, price="40.00", capacity=1, invoice_allowed=True
    )
    late = place(workshop, ticket_type, email=f"first{number}@example.org")
    expire_overdue_invoice_orders(now=local(workshop, late.payment_last_day + days(1)))
    session, token = organiser
    buyer, data = buyer_form(servers[1], ticket_type.id, number)
    start, answers = threading.Barrier(2), {}

    def record():
        start.wait()
        time.sleep(max(offset, 0))
        answer = session.post(
            f"{servers[0]}/admin/tickets/order/",
            data={
                "csrfmiddlewaretoken": token,
                "action": "mark_paid",
                "_selected_action": [late.pk],
            },
            allow_redirects=False,
            timeout=30,
        )
        answers["transfer"] = answer.status_code

    def buy():
        start.wait()
        time.sleep(max(-offset, 0))
        answer = buyer.post(
            f"{servers[1]}/tickets/checkout/", data=data, allow_redirects=False, timeout=30
        )
        answers["checkout"] = answer.status_code

    threads = [threading.Thread(target=record), threading.Thread(target=buy)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    late.refresh_from_db()
    holders = Ticket.objects.filter(ticket_type=ticket_type).filter(
        holding_seats_q(timezone.now(), prefix="order__")
    )
    return late, answers, holders.count()


@pytest.mark.django_db(transaction=True)
def test_late_transfer_and_new_buyer_hold_the_seat_once(servers):
    workshop = WorkshopFactory()
    organiser = organiser_session(servers[0])
    outcomes, oversold = Counter(), []

    for number, offset in enumerate(OFFSETS):
        late, answers, holders = race(workshop, servers, organiser, number=number, offset=offset)
        assert answers["transfer"] == 302, answers
        outcomes[(late.status, answers["checkout"])] += 1
        if holders != 1:
            oversold.append((offset, late.status, answers["checkout"], holders))

    assert oversold == [], (oversold, outcomes)
    # Exactly the two right endings, never a 5xx or a lock timeout.
    assert set(outcomes) <= {(Order.Status.PAID, 409), (Order.Status.EXPIRED, 302)}, outcomes
    refused = Order.objects.filter(status=Order.Status.EXPIRED, refund_owed__gt=0).count()
    assert refused == outcomes[(Order.Status.EXPIRED, 302)], outcomes
    # The sweep straddles: the transfer won some races and the buyer others.
    assert outcomes[(Order.Status.PAID, 409)] > 0, outcomes
    assert outcomes[(Order.Status.EXPIRED, 302)] > 0, outcomes
