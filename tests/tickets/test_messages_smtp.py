"""Messages to attendees over a real SMTP server (aiosmtpd) that fails in the middle."""

import email
import socket
from collections import Counter
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tickets.models import AttendeeMessage, MessageDelivery
from tickets.services import messages as mailing

pytestmark = pytest.mark.django_db

PEOPLE = ["ada", "bob", "carol", "dave", "erin"]


class FlakyHandler:
    """Accept mail, except: refuse some recipients (550) and some DATA commands by number (451)."""

    def __init__(self):
        self.refuse = set()
        self.fail_data_numbers = set()
        self.data_count = 0
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        if self.data_count in self.fail_data_numbers:
            return "451 4.3.0 Try again later"
        self.received.append(
            (
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 Message accepted for delivery"

    def count_by_address(self):
        return Counter(address for rcpt_tos, _ in self.received for address in rcpt_tos)

    def recover(self):
        self.refuse.clear()
        self.fail_data_numbers.clear()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_port(settings):
    """Point Django's SMTP backend at a local port; the test decides whether a server listens."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return port


@pytest.fixture
def handler():
    return FlakyHandler()


@pytest.fixture
def smtp_server(smtp_port, handler):
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def message(workshop):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular")
    for name in PEOPLE:
        order = OrderFactory(workshop=workshop)
        TicketFactory(
            order=order,
            ticket_type=ticket_type,
            attendee_name=name.title(),
            attendee_email=f"{name}@example.org",
        )
    # A second ticket for Ada, in another case: still one e-mail.
    TicketFactory(order=order, ticket_type=ticket_type, attendee_email="ADA@example.org")
    return mailing.save_draft(
        workshop=workshop,
        subject="Your stream link",
        body="Join at [the stage](https://stream.example.org).\n\n<script>steal()</script>",
        ticket_types=[],
        author=None,
    )


def statuses(message):
    return {d.email: (d.status, d.attempts, d.last_error) for d in message.deliveries.all()}


def test_smtp_failure_in_the_middle_recorded_then_retried_once(
    organiser_client, smtp_server, message
):
    smtp_server.refuse.add("bob@example.org")
    smtp_server.fail_data_numbers.add(3)  # ada, carol, then dave's DATA fails
    url = f"/organisers/messages/{message.pk}/"

    response = organiser_client.post(f"{url}send/", {"recipient_count": "5"}, follow=True)

    assert smtp_server.count_by_address() == {
        "ada@example.org": 1,
        "carol@example.org": 1,
        "erin@example.org": 1,
    }
    assert statuses(message) == {
        "ada@example.org": ("sent", 1, ""),
        "bob@example.org": ("failed", 1, "550 5.1.1 Mailbox unavailable"),
        "carol@example.org": ("sent", 1, ""),
        "dave@example.org": ("failed", 1, "451 4.3.0 Try again later"),
        "erin@example.org": ("sent", 1, ""),
    }
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.PARTLY_FAILED
    html = response.content.decode()
    assert "Sent 3; 2 could not be sent." in html
    assert "<td>550 5.1.1 Mailbox unavailable</td>" in html
    assert "Retry the 2 failed</button>" in html

    smtp_server.recover()
    retried = organiser_client.post(f"{url}retry/", follow=True)

    assert smtp_server.count_by_address() == {
        "ada@example.org": 1,
        "bob@example.org": 1,
        "carol@example.org": 1,
        "dave@example.org": 1,
        "erin@example.org": 1,
    }
    assert statuses(message)["bob@example.org"] == ("sent", 2, "")
    assert statuses(message)["dave@example.org"] == ("sent", 2, "")
    assert statuses(message)["ada@example.org"] == ("sent", 1, "")
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENT
    assert "Sent 2 e-mails." in retried.content.decode()

    organiser_client.post(f"{url}retry/")
    organiser_client.post(f"{url}send/", {"recipient_count": "5"})
    assert len(smtp_server.received) == 5


def test_smtp_server_down_stops_early_then_command_sends_each_once(
    organiser_client, smtp_port, handler, message
):
    response = organiser_client.post(
        f"/organisers/messages/{message.pk}/send/", {"recipient_count": "5"}, follow=True
    )

    # Three connection failures in a row: the rest wait instead of each timing out.
    assert [d.status for d in message.deliveries.all()] == ["failed"] * 3 + ["pending"] * 2
    errors = {d.last_error for d in message.deliveries.filter(status="failed")}
    assert len(errors) == 1
    assert errors.pop().startswith("ConnectionRefusedError:")
    html = response.content.decode()
    assert "the mail server could not be reached, so 3 failed and 2 are waiting" in html
    assert "Retry the 3 failed and send the 2 waiting</button>" in html
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENDING

    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        call_command("send_pending_messages")
        call_command("send_pending_messages")
    finally:
        controller.stop()

    assert handler.count_by_address() == {f"{name}@example.org": 1 for name in PEOPLE}
    assert list(message.deliveries.values_list("status", "attempts")) == [
        ("sent", 2),
        ("sent", 2),
        ("sent", 2),
        ("sent", 1),
        ("sent", 1),
    ]
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENT


def test_a_failing_recipient_does_not_stop_the_others(smtp_server, message):
    smtp_server.refuse.update({"ada@example.org", "bob@example.org", "carol@example.org"})

    outcome = mailing.send_message(message=message)

    assert outcome == mailing.Outcome(sent=2, failed=3, waiting=0)
    assert smtp_server.count_by_address() == {"dave@example.org": 1, "erin@example.org": 1}


def test_command_stops_retrying_after_max_attempts(smtp_server, message):
    smtp_server.refuse.add("bob@example.org")
    mailing.send_message(message=message)

    call_command("send_pending_messages", "--max-attempts", "2")
    call_command("send_pending_messages", "--max-attempts", "2")

    bob = MessageDelivery.objects.get(email="bob@example.org")
    assert (bob.status, bob.attempts) == ("failed", 2)
    assert smtp_server.count_by_address()["ada@example.org"] == 1


def test_smtp_message_has_text_and_sanitised_html(smtp_server, message):
    mailing.send_message(message=message)

    rcpt_tos, mail = smtp_server.received[0]
    assert rcpt_tos == ["ada@example.org"]
    assert mail["To"] == "Ada <ada@example.org>"
    assert mail["Subject"] == "Your stream link"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text.startswith("Join at [the stage](https://stream.example.org).")
    assert (
        '<a href="https://stream.example.org" rel="noopener noreferrer nofollow">the stage</a>'
        in html
    )
    assert "<script" not in html
    assert "steal()" not in html


def test_test_send_over_smtp_is_not_a_delivery(organiser_client, organiser, smtp_server, message):
    organiser.email = "org@example.org"
    organiser.save()

    response = organiser_client.post(f"/organisers/messages/{message.pk}/test/", follow=True)

    assert "A test was sent to org@example.org." in response.content.decode()
    assert smtp_server.count_by_address() == {"org@example.org": 1}
    assert smtp_server.received[0][1]["Subject"] == "[Test] Your stream link"
    assert not MessageDelivery.objects.exists()


def test_test_send_with_smtp_down_says_why(organiser_client, organiser, smtp_port, message):
    organiser.email = "org@example.org"
    organiser.save()

    response = organiser_client.post(f"/organisers/messages/{message.pk}/test/", follow=True)

    assert response.status_code == 200
    assert "The test e-mail could not be sent: ConnectionRefusedError" in response.content.decode()
