"""Messages to attendees through the mail queue to a real SMTP server (aiosmtpd).

The tasks run at once (the immediate backend), so each e-mail's first attempt happens while
the organiser sends; later attempts are what the workers' sweep of overdue e-mails runs
(``workshop.mail.send_overdue_emails``). The organiser's pages must tell queued from sent.
"""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tests.smtp import SMTPServer, free_port, smtp_settings
from tickets.models import MessageDelivery
from tickets.services import messages as mailing
from workshop import mail
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db

PEOPLE = ["ada", "bob", "carol", "dave", "erin"]
LIST = "/organisers/messages/"


@pytest.fixture
def smtp_port(settings):
    """Deliver to a local port; the test decides whether a server listens there."""
    port = free_port()
    for name, value in smtp_settings(port).items():
        setattr(settings, name, value)
    return port


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(port=smtp_port).start()
    yield server
    server.stop()


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


def received(server):
    return Counter(address for rcpt_tos, _ in server.handler.received for address in rcpt_tos)


def states(message):
    deliveries = message.deliveries.select_related("outgoing_email")
    return {d.email: (d.state, d.outgoing_email.attempts) for d in deliveries}


def run_overdue_sweep(hours):
    """Run what the workers' periodic job runs, as if ``hours`` had passed."""
    return mail.send_overdue_emails(now=timezone.now() + dt.timedelta(hours=hours))


def test_server_down_shows_queued_then_sent_once_when_it_is_back(
    organiser_client, smtp_port, message
):
    url = f"{LIST}{message.pk}/"

    response = organiser_client.post(f"{url}send/", {"recipient_count": "5"}, follow=True)

    html = response.content.decode()
    assert "5 e-mails queued for delivery" in html
    assert (
        "<strong>Being delivered.</strong> The mail server has accepted 0 of 5 e-mails; "
        "5 queued, not accepted yet" in html
    )
    assert html.count("<td>Queued, next attempt") == 5
    assert html.count("<td>ConnectionRefusedError:") == 5
    assert "<td>Sent</td>" not in html
    assert "Retry the" not in html
    assert states(message) == {f"{name}@example.org": ("queued", 1) for name in PEOPLE}
    listing = organiser_client.get(LIST).content.decode()
    assert "<td>Being delivered</td>" in listing

    server = SMTPServer(port=smtp_port).start()  # the mail server is back
    try:
        assert run_overdue_sweep(hours=1) == 5
        assert run_overdue_sweep(hours=2) == 0
    finally:
        server.stop()

    assert received(server) == {f"{name}@example.org": 1 for name in PEOPLE}
    assert states(message) == {f"{name}@example.org": ("sent", 2) for name in PEOPLE}
    html = organiser_client.get(url).content.decode()
    assert "<strong>Delivered.</strong> The mail server has accepted 5 of 5 e-mails." in html
    assert html.count("<td>Sent</td>") == 5
    assert "ConnectionRefusedError" not in html


def test_refused_recipient_fails_with_the_servers_answer_and_retry_sends_it(
    organiser_client, smtp, message
):
    smtp.handler.refuse.add("bob@example.org")
    url = f"{LIST}{message.pk}/"

    response = organiser_client.post(f"{url}send/", {"recipient_count": "5"}, follow=True)

    assert received(smtp) == {f"{n}@example.org": 1 for n in PEOPLE if n != "bob"}
    assert states(message)["bob@example.org"] == ("failed", 1)
    html = response.content.decode()
    assert "<strong>Partly failed.</strong> The mail server has accepted 4 of 5 e-mails" in html
    assert "1 failed after every attempt or were refused" in html
    assert "<td>Failed</td>" in html
    assert "<td>550 5.1.1 Mailbox unavailable</td>" in html
    assert "Retry the 1 failed</button>" in html
    # The same e-mail is on the organisers' list of e-mails not delivered.
    dashboard = organiser_client.get("/organisers/emails/failed/").content.decode()
    assert "<td>&quot;Bob&quot; &lt;bob@example.org&gt;</td>" in dashboard

    smtp.handler.refuse.clear()
    retried = organiser_client.post(f"{url}retry/", follow=True)

    assert "1 failed e-mail queued again." in retried.content.decode()
    assert "<strong>Delivered.</strong>" in retried.content.decode()
    assert received(smtp) == {f"{name}@example.org": 1 for name in PEOPLE}
    assert states(message)["bob@example.org"] == ("sent", 1)

    again = organiser_client.post(f"{url}retry/", follow=True)
    organiser_client.post(f"{url}send/", {"recipient_count": "5"})

    assert "There was nothing to retry." in again.content.decode()
    assert len(smtp.handler.received) == 5


def test_temporary_refusal_stays_queued_with_the_servers_answer(organiser_client, smtp, message):
    smtp.handler.fail_data = True

    response = organiser_client.post(
        f"{LIST}{message.pk}/send/", {"recipient_count": "5"}, follow=True
    )

    html = response.content.decode()
    assert html.count("<td>451 4.3.0 Try again later</td>") == 5
    assert html.count("<td>Queued, next attempt") == 5
    assert "<td>Failed</td>" not in html
    assert smtp.handler.received == []


def test_given_up_after_the_last_attempt_then_retried_from_the_dashboard(
    organiser_client, settings, smtp_port, message
):
    settings.EMAIL_MAX_ATTEMPTS = 2
    mailing.send_message(message=message)
    run_overdue_sweep(hours=1)
    url = f"{LIST}{message.pk}/"

    html = organiser_client.get(url).content.decode()

    assert states(message) == {f"{name}@example.org": ("failed", 2) for name in PEOPLE}
    assert "<strong>Failed.</strong> The mail server has accepted 0 of 5 e-mails" in html
    assert "Retry the 5 failed</button>" in html

    server = SMTPServer(port=smtp_port).start()
    try:
        organiser_client.post("/organisers/emails/retry/", {"all": "1"})
    finally:
        server.stop()

    assert received(server) == {f"{name}@example.org": 1 for name in PEOPLE}
    assert "<strong>Delivered.</strong>" in organiser_client.get(url).content.decode()


def test_smtp_message_has_text_and_sanitised_html(smtp, message):
    mailing.send_message(message=message)

    rcpt_tos, sent = smtp.handler.received[0]
    assert rcpt_tos == ["ada@example.org"]
    assert sent["To"] == "Ada <ada@example.org>"
    assert sent["Subject"] == "Your stream link"
    logged = MessageDelivery.objects.get(email="ada@example.org").outgoing_email
    assert sent["Message-ID"] == logged.message["headers"]["Message-ID"]
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert text.startswith("Join at [the stage](https://stream.example.org).")
    assert (
        '<a href="https://stream.example.org" rel="noopener noreferrer nofollow">the stage</a>'
        in html
    )
    assert "<script" not in html
    assert "steal()" not in html


def test_test_send_over_smtp_is_not_a_delivery(organiser_client, organiser, smtp, message):
    organiser.email = "org@example.org"
    organiser.save()

    response = organiser_client.post(f"{LIST}{message.pk}/test/", follow=True)

    html = response.content.decode()
    assert "A test e-mail to org@example.org is queued for delivery." in html
    assert received(smtp) == {"org@example.org": 1}
    assert smtp.handler.received[0][1]["Subject"] == "[Test] Your stream link"
    assert not MessageDelivery.objects.exists()


def test_test_send_with_smtp_down_is_queued_not_reported_sent(
    organiser_client, organiser, smtp_port, message
):
    organiser.email = "org@example.org"
    organiser.save()

    response = organiser_client.post(f"{LIST}{message.pk}/test/", follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "A test e-mail to org@example.org is queued for delivery." in html
    assert "A test was sent" not in html
    email = OutgoingEmail.objects.get()
    assert (email.state, email.subject) == ("queued", "[Test] Your stream link")
    assert email.last_error.startswith("ConnectionRefusedError")
