"""Two accounts claiming one order at once, and a claim racing a new link, on PostgreSQL."""

import threading

import pytest
from django.core import mail
from django.db import connection

from tests.factories import OrderFactory, UserFactory, WorkshopFactory
from tickets.models import Order, OrderEvent
from tickets.services import order_links

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]


def at_once(*calls):
    """Run each call in its own thread and connection, released together; return results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # reported to the test, not lost in the thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_accounts_claiming_one_order_at_once_one_gets_it(attempt):
    order = OrderFactory(workshop=WorkshopFactory(), buyer_email="shared@example.org")
    first, second = UserFactory(), UserFactory()
    tokens = {
        user: order_links.claim_token(user=user, email="shared@example.org", orders=[order])
        for user in (first, second)
    }

    results = at_once(
        *(lambda u=u: order_links.claim_orders(token=tokens[u], user=u) for u in tokens)
    )

    owner = Order.objects.get(pk=order.pk).user
    assert owner in (first, second)
    assert sorted(len(added) for added in results) == [0, 1]
    events = OrderEvent.objects.filter(order=order, note="Added to the buyer's account.")
    assert [event.actor for event in events] == [owner]


@pytest.mark.django_db(transaction=True)
def test_new_links_at_once_the_link_that_works_is_e_mailed():
    order = OrderFactory(workshop=WorkshopFactory(), buyer_email="buyer@example.org")
    mail.outbox.clear()

    results = at_once(
        *(lambda: order_links.rotate_secret(order=order, reason="test") for _ in range(2))
    )

    final = Order.objects.get(pk=order.pk).secret
    assert all(isinstance(result, Order) for result in results), results
    # Serialised by the row lock: two different links, the one that works among those sent.
    assert len({result.secret for result in results}) == 2
    assert final in {result.secret for result in results}
    assert len(mail.outbox) == 2
    assert any(final in message.body for message in mail.outbox)
