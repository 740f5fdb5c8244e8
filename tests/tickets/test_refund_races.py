"""Two organisers refunding the last euro of an order at once: one refund, never more than paid.

Over real HTTP: two gunicorn servers (two worker processes each) on PostgreSQL and the Stripe
stand-in; each organiser confirms the refund page on a different server at the same moment.
Then the service itself, from threads, without the page's confirmation, so that the amount
check under the order's lock is what refuses.
"""

import re
import threading
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.factories import TicketTypeFactory, UserFactory, WorkshopFactory
from tests.servers import shop_servers
from tests.tickets.conftest import BUYER
from tickets.models import Refund
from tickets.services import lifecycle, refunds, stripe_checkout
from tickets.services.errors import OrderError
from tickets.services.refunds import Kind
from tickets.stripe_standin import StripeStandIn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

ROUNDS = 4


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def servers(django_db_setup, standin):
    with shop_servers(standin) as urls:
        yield urls


@pytest.fixture
def shop(standin, transactional_db, settings):
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    workshop = WorkshopFactory()
    return workshop, TicketTypeFactory(workshop=workshop, price="25.00", capacity=100)


def order_with_one_euro_left(workshop, ticket_type, standin):
    """Return a paid card order of 25.00 EUR of which 24.00 EUR were refunded."""
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=[BUYER],
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id, deliver=False)
    stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
    refunds.refund(order=order, kind=Kind.AMOUNT, amount="24", reason="Most of it")
    order.refresh_from_db()
    return order


def organiser_session(base_url, username):
    organiser = UserFactory(username=username, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(organiser)
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    return session


def review(session, url):
    """Load the refund page and its review of 1.00 EUR; return the confirmation's fields."""
    form = {"kind": "amount", "amount": "1.00", "reason": "The last euro"}
    page = session.get(url, timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, (page.status_code, page.text[-1500:])
    answer = session.post(
        url,
        data={"csrfmiddlewaretoken": token[1], "step": "review", **form},
        headers={"Referer": url},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text[-1500:]
    version = re.search(r'name="version" value="([^"]+)"', answer.text)[1]
    return {"csrfmiddlewaretoken": token[1], "step": "confirm", "version": version, **form}


def test_two_organisers_refunding_the_last_euro_over_http_refund_it_once(servers, standin, shop):
    workshop, ticket_type = shop
    sessions = [organiser_session(servers[n], f"organiser{n}") for n in range(2)]
    for _ in range(ROUNDS):
        order = order_with_one_euro_left(workshop, ticket_type, standin)
        urls = [f"{base}/admin/tickets/order/{order.pk}/refund/" for base in servers]
        forms = [review(session, url) for session, url in zip(sessions, urls, strict=True)]
        start, statuses = threading.Barrier(2), [None, None]

        def confirm(n, urls=urls, forms=forms, start=start, statuses=statuses):
            start.wait()
            answer = sessions[n].post(
                urls[n],
                data=forms[n],
                headers={"Referer": urls[n]},
                allow_redirects=False,
                timeout=60,
            )
            statuses[n] = answer.status_code

        threads = [threading.Thread(target=confirm, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        order.refresh_from_db()
        charge = standin.charge_for(order.stripe_session_id)
        assert sorted(statuses) == [302, 409]
        assert (order.status, order.refunded_amount) == ("refunded", Decimal("25.00"))
        assert charge["amount_refunded"] == charge["amount"] == 2500
        assert sorted(order.refunds.values_list("amount", flat=True)) == [
            Decimal("1.00"),
            Decimal("24.00"),
        ]


def test_two_refunds_at_once_for_the_last_euro_one_is_refused(standin, shop):
    workshop, ticket_type = shop
    for _ in range(ROUNDS):
        order = order_with_one_euro_left(workshop, ticket_type, standin)
        start, results = threading.Barrier(2), [None, None]

        def run(n, order=order, start=start, results=results):
            start.wait()
            try:
                results[n] = refunds.refund(
                    order=order, kind=Kind.AMOUNT, amount="1", reason=f"Organiser {n}"
                )
            except OrderError as error:
                results[n] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        refused = [r for r in results if isinstance(r, refunds.RefundRefused)]
        made = [r for r in results if isinstance(r, Refund)]
        assert len(refused) == len(made) == 1, results
        assert "Nothing is left to refund" in str(refused[0])
        order.refresh_from_db()
        assert order.refunded_amount == Decimal("25.00")
        assert standin.charge_for(order.stripe_session_id)["amount_refunded"] == 2500
