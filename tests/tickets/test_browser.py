"""A buyer in a real browser: /tickets/ to a paid order through the Stripe stand-in."""

import copy
import os

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import TicketTypeFactory, WorkshopFactory
from tickets.models import Order
from tickets.stripe_standin import StripeStandIn

# Playwright's sync API runs an event loop in the test thread; the ORM calls between
# browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_buyer_pays_card_order_in_browser(live_server, page, settings, mailoutbox):
    workshop = WorkshopFactory()
    TicketTypeFactory(workshop=workshop, name="Regular", price="25.00", capacity=5)
    webhook = f"{live_server.url}/tickets/stripe/webhook/"
    with StripeStandIn(webhook_url=webhook) as standin:
        settings.STRIPE_SECRET_KEY = standin.api_key
        settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
        settings.STRIPE_API_BASE = standin.url
        settings.SITE_URL = live_server.url
        # The checkout form's redirect goes to the stand-in instead of checkout.stripe.com.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"].append(standin.url)
        settings.CONTENT_SECURITY_POLICY = policy

        page.goto(f"{live_server.url}/tickets/")
        assert page.inner_text(".ticket-availability") == "5 left"
        page.select_option("select", "1")
        page.click("text=Continue")
        page.fill("#id_buyer_name", "Ada Buyer")
        page.fill("#id_buyer_email", "ada@example.org")
        page.fill("#id_attendee_1_name", "Ada Attendee")
        page.fill("#id_attendee_1_email", "ada@example.org")
        page.check("#id_accept_code_of_conduct")
        page.click("text=Order and pay")
        page.wait_for_url(f"{standin.url}/pay/*")
        assert page.inner_text("h1") == "Pay 25.00 EUR"
        page.click("#pay")
        page.wait_for_url(f"{live_server.url}/orders/**")

        assert page.inner_text(".order-status") == "Status: Paid"
        assert page.locator("svg.qr").count() == 1
        order = Order.objects.get()
        assert order.status == Order.Status.PAID
        assert standin.deliveries[0][1:] == ("checkout.session.completed", 200)
        assert [m.subject for m in mailoutbox] == [f"Your tickets for {workshop.title}"]


def test_speaker_gets_free_ticket_with_demo_voucher(live_server, page, settings):
    from django.core.management import call_command

    call_command("load_demo", stdout=open(os.devnull, "w"))
    settings.STRIPE_SECRET_KEY = ""

    page.goto(f"{live_server.url}/tickets/")
    assert "Speaker or financial-aid ticket" not in page.content()
    page.fill("#id_voucher", "speaker2022")
    page.click("text=Apply")
    page.select_option("select[name^=qty_] >> nth=2", "1")
    page.click("text=Continue")
    assert page.inner_text(".order-total") == "0.00 EUR"
    page.fill("#id_buyer_name", "Grace Speaker")
    page.fill("#id_buyer_email", "grace@example.org")
    page.fill("#id_attendee_1_name", "Grace Speaker")
    page.fill("#id_attendee_1_email", "grace@example.org")
    page.check("#id_accept_code_of_conduct")
    page.click("text=Get my tickets")
    page.wait_for_url(f"{live_server.url}/orders/**")

    assert page.inner_text(".order-status") == "Status: Confirmed"
    assert page.locator("svg.qr").count() == 1
    order = Order.objects.get()
    assert (order.payment_method, order.voucher.code) == ("free", "SPEAKER2022")
