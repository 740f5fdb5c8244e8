"""Several senders of one message at once, over a real SMTP server, on PostgreSQL."""

import asyncio
import threading
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, WorkshopFactory
from tests.tickets.test_messages_smtp import free_port
from tickets.models import MessageDelivery
from tickets.services import messages as mailing

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
    pytest.mark.django_db(transaction=True),
]

ATTENDEES = 30
SENDERS = 4


class SlowCountingHandler:
    """Accept every message a little slowly, so that senders overlap, and count them."""

    def __init__(self):
        self.received = Counter()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        self.received.update(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    handler = SlowCountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def message():
    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop)
    for n in range(ATTENDEES):
        TicketFactory(
            order=OrderFactory(workshop=workshop),
            ticket_type=ticket_type,
            attendee_email=f"person{n}@example.org",
        )
    return mailing.save_draft(
        workshop=workshop, subject="Hello", body="Hi.", ticket_types=[], author=None
    )


def run_together(target, count):
    """Start ``count`` threads at the same moment; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_send_clicks_send_each_address_once(smtp, message):
    results = run_together(lambda: mailing.send_message(message=message), SENDERS)

    outcomes = [r for r in results if isinstance(r, mailing.Outcome)]
    refusals = [r for r in results if isinstance(r, mailing.AlreadySent)]
    assert len(outcomes) == 1
    assert len(refusals) == SENDERS - 1
    assert outcomes[0] == mailing.Outcome(sent=ATTENDEES, failed=0)
    assert smtp.received == {f"person{n}@example.org": 1 for n in range(ATTENDEES)}
    assert MessageDelivery.objects.filter(status="sent", attempts=1).count() == ATTENDEES


def test_parallel_senders_share_pending_deliveries_without_sending_twice(
    smtp, message, monkeypatch
):
    with monkeypatch.context() as patch:
        # Freeze the recipients without sending, as a request cut off at once would.
        patch.setattr(mailing, "deliver_pending", lambda *, message: mailing.Outcome(0, 0))
        mailing.send_message(message=message)

    results = run_together(lambda: mailing.deliver_pending(message=message), SENDERS)

    assert all(isinstance(r, mailing.Outcome) for r in results), results
    assert sum(r.sent for r in results) == ATTENDEES
    assert sum(r.sent > 0 for r in results) > 1  # the work really was shared
    assert smtp.received == {f"person{n}@example.org": 1 for n in range(ATTENDEES)}
    assert MessageDelivery.objects.filter(status="sent", attempts=1).count() == ATTENDEES
