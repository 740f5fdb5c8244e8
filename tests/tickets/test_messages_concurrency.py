"""Several senders of one message, and several workers delivering it, at once, on PostgreSQL."""

import asyncio
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, WorkshopFactory
from tests.smtp import free_port, smtp_settings
from tickets.models import MessageDelivery
from tickets.services import messages as mailing
from workshop import mail
from workshop.models import OutgoingEmail

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
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


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
    for name, value in smtp_settings(port, timeout=10).items():
        setattr(settings, name, value)
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

    queued = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, mailing.AlreadySent)]
    assert queued == [ATTENDEES]
    assert len(refusals) == SENDERS - 1
    assert smtp.received == {f"person{n}@example.org": 1 for n in range(ATTENDEES)}
    assert OutgoingEmail.objects.count() == ATTENDEES
    sent = MessageDelivery.objects.filter(
        outgoing_email__state=OutgoingEmail.State.SENT, outgoing_email__attempts=1
    )
    assert sent.count() == ATTENDEES


def test_workers_at_once_deliver_each_queued_email_once(smtp, message, settings):
    settings.TASKS = DB_TASKS  # queued only; the threads below are the workers
    mailing.send_message(message=message)
    email_ids = list(OutgoingEmail.objects.order_by("id").values_list("id", flat=True))
    runs = iter(range(SENDERS))

    def work():
        # Each worker runs a delivery task of its own for every e-mail of the message.
        context = SimpleNamespace(task_result=SimpleNamespace(id=f"worker-{next(runs)}"))
        return [mail.deliver_email.call(context, email_id) for email_id in email_ids]

    results = run_together(work, SENDERS)

    assert all(isinstance(r, list) for r in results), results
    outcomes = Counter(outcome for result in results for outcome in result)
    assert outcomes[OutgoingEmail.State.SENT] == ATTENDEES
    assert sum(OutgoingEmail.State.SENT in result for result in results) > 1  # work was shared
    assert smtp.received == {f"person{n}@example.org": 1 for n in range(ATTENDEES)}
    assert MessageDelivery.objects.filter(outgoing_email__state="sent").count() == ATTENDEES
