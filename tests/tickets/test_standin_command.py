"""`manage.py run_stripe_standin`: card payment tried in development, as `make run` starts it.

The command runs in its own process, as beside `make run`'s web server; the shop (the live
server) talks to it through the real `stripe` library, and its payment page delivers the signed
webhook to the shop.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.tickets.test_stripe import checkout_data
from tickets.models import Order
from tickets.services.checkin import refusal_reason

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "sk_test_standin", "whsec_standin"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_url(url, data=None):
    """GET (or POST ``data``) without following redirects; return (status, headers, text)."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@contextlib.contextmanager
def standin_command(settings, site_url):
    """Run the command as `make run` does, point the shop at it; yield (process, first line)."""
    base = f"http://127.0.0.1:{free_port()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "workshop.settings",
        "SITE_URL": site_url,
        "STRIPE_SECRET_KEY": KEY,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": base,
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_stripe_standin"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = KEY, SECRET
        settings.STRIPE_API_BASE = base
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.SITE_URL = site_url
        yield process, first_line
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture
def standin_process(settings, live_server):
    with standin_command(settings, live_server.url) as started:
        yield started


def test_standin_command_serves_a_card_payment_end_to_end(
    client, workshop, paid_type, standin_process, live_server
):
    process, first_line = standin_process
    assert first_line.startswith("Stripe stand-in on http://127.0.0.1:")
    assert "no money moves" in first_line
    assert f"events go to {live_server.url}/tickets/stripe/webhook/" in first_line

    response = client.post("/tickets/checkout/", checkout_data(paid_type, 2))
    order = Order.objects.get()
    pay_url = response["Location"]
    status, headers, page = open_url(pay_url)
    assert (response.status_code, order.status) == (302, Order.Status.PENDING)
    assert pay_url == order.stripe_session_url
    assert status == 200
    assert "Local test payment: no money moves." in page
    assert "<td>Workshop: Regular</td><td>2</td><td>25.00 EUR</td>" in page.replace(
        order.workshop.title, "Workshop"
    )
    assert '<td id="total">50.00 EUR</td>' in page
    assert "form-action" not in headers["Content-Security-Policy"]
    assert f'href="{live_server.url}{order.get_absolute_url()}?cancelled=1"' in page

    status, headers, _ = open_url(pay_url, data=b"")

    order.refresh_from_db()
    assert status == 303
    assert headers["Location"] == (
        f"{live_server.url}{order.get_absolute_url()}?session_id={order.stripe_session_id}"
    )
    assert order.status == Order.Status.PAID
    assert [refusal_reason(ticket) for ticket in order.tickets.all()] == ["", ""]
    order_page = client.get(headers["Location"].removeprefix(live_server.url))
    assert "Status: <strong>Paid</strong>" in order_page.content.decode()
    # Paying again (a double click, the back button) pays nothing twice.
    status, _, page = open_url(pay_url, data=b"")
    assert status == 409
    assert "This payment is complete." in page

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_standin_command_refuses_stripes_own_address(settings):
    settings.STRIPE_API_BASE = "https://api.stripe.com"

    with pytest.raises(CommandError, match="runs in development only"):
        call_command("run_stripe_standin")


def test_standin_command_refuses_production(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="runs in development only"):
        call_command("run_stripe_standin")


def test_standin_command_refuses_an_address_not_on_this_machine(settings):
    settings.STRIPE_API_BASE = "http://stripe.example.org:8001"

    with pytest.raises(CommandError, match="must be http://127.0.0.1:<port>"):
        call_command("run_stripe_standin")
