"""Every address the site hands out follows SITE_URL, so `make run PORT=8102` links to :8102."""

import re
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from icalendar import Calendar

from speakers import services as speaker_services
from tests.factories import SlotFactory, SpeakerFactory, TalkFactory, TicketFactory
from tests.tickets.conftest import BUYER, people
from tests.workshop.test_settings import run_django
from tickets import emails
from tickets.models import Order
from tickets.qr import checkin_url
from tickets.services import lifecycle, stripe_checkout

pytestmark = pytest.mark.django_db

SERVED = "http://127.0.0.1:8102"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def served_on_8102(settings):
    settings.SITE_URL = SERVED


def links_in(text):
    return set(re.findall(r"https?://[^\s\"'<>]+", text))


def test_site_url_follows_host_and_port_in_development():
    result = run_django("print(settings.SITE_URL)", HOST="127.0.0.1", PORT="8102")

    assert result.stdout.strip() == SERVED


@pytest.mark.parametrize(
    ("host", "expected"),
    [("0.0.0.0", SERVED), ("localhost", "http://localhost:8102"), ("::", "http://[::1]:8102")],
)
def test_site_url_reaches_a_wildcard_or_named_host(host, expected):
    result = run_django("print(settings.SITE_URL)", HOST=host, PORT="8102")

    assert result.stdout.strip() == expected


def test_site_url_given_wins_over_host_and_port():
    result = run_django(
        "print(settings.SITE_URL)", HOST="0.0.0.0", PORT="8102", SITE_URL="http://box.lan:9000/"
    )

    assert result.stdout.strip() == "http://box.lan:9000"


def test_make_run_passes_host_and_port_to_django():
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8102"], cwd=ROOT, capture_output=True, text=True, check=True
    )

    runserver = [line for line in result.stdout.splitlines() if "runserver" in line]
    assert len(runserver) == 1
    assert "HOST=127.0.0.1 PORT=8102 " in runserver[0]
    assert runserver[0].endswith("runserver 127.0.0.1:8102")


def test_ticket_email_links_qr_codes_and_calendar_use_site_url(workshop):
    ticket = TicketFactory(order__workshop=workshop, order__status=Order.Status.PAID)
    mail.outbox.clear()

    emails.send_confirmation(ticket.order)

    message = mail.outbox[0]
    assert links_in(message.body) == {
        SERVED,
        f"{SERVED}{ticket.order.get_absolute_url()}",
        f"{SERVED}/workshop.ics",
        f"{SERVED}/schedule.ics",
    }
    assert "webcal://127.0.0.1:8102/workshop.ics" in message.body
    assert checkin_url(ticket.code) == f"{SERVED}/organisers/check-in/{ticket.code}/"
    ics = Calendar.from_ical(
        dict((n, c) for n, c, _ in message.attachments)[f"{workshop.slug}.ics"]
    )
    (event,) = ics.walk("VEVENT")
    assert str(event["url"]) == f"{SERVED}/"
    assert str(event["uid"]) == f"{workshop.slug}@127.0.0.1:8102"


def test_schedule_calendar_links_use_site_url(client, workshop):
    talk = TalkFactory(slug="choosing-metrics", published=True)
    SlotFactory(workshop=workshop, talk=talk)

    ics = Calendar.from_ical(client.get("/schedule.ics").content)

    (event,) = ics.walk("VEVENT")
    assert str(event["url"]) == f"{SERVED}/talks/choosing-metrics/"


def test_invitation_link_uses_site_url(workshop, django_capture_on_commit_callbacks):
    speaker = SpeakerFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = speaker_services.invite_speaker(
            speaker=speaker, email="grace@example.org"
        )

    (message,) = mail.outbox
    assert links_in(message.body) == {f"{SERVED}/speakers/invitation/{token}/"}


def test_stripe_return_links_use_site_url(workshop, paid_type, standin):
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={paid_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="stripe",
    )

    stripe_checkout.start_checkout(order=order)

    order.refresh_from_db()
    session = standin.sessions[order.stripe_session_id]
    page = f"{SERVED}{order.get_absolute_url()}"
    assert session["success_url"] == page + "?session_id={CHECKOUT_SESSION_ID}"
    assert session["cancel_url"] == page + "?cancelled=1"
