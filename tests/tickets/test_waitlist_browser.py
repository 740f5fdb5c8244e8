"""The waiting list in a real browser without JavaScript, at phone and desktop widths (Chromium)."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from tests.browser import checkers
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, share_test_connections
from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, WorkshopFactory
from tickets.models import Order, WaitingListEntry
from tickets.services import waitlist

# Playwright's sync API runs an event loop in the test thread; the ORM calls between
# browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
WIDTHS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}


@pytest.fixture
def browser(live_server):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        share_test_connections()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def sold_out():
    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop, name="Hands-on tutorial", capacity=1)
    ticket_type.order = OrderFactory(workshop=workshop)
    TicketFactory(ticket_type=ticket_type, order=ticket_type.order)
    TicketTypeFactory(workshop=workshop, name="Talks only", capacity=50)
    return ticket_type


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def check_pages(browser, live_server, width, paths):
    """Screenshot, measure and check each page in a browser with JavaScript (axe needs it)."""
    context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
    page = context.new_page()
    page.set_default_timeout(15_000)
    documents = {}
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in paths.items():
        page.goto(path)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert no_horizontal_scroll(page), name
        checkers.assert_accessible(page)
        documents[name] = page.content()
    context.close()
    if checkers.vnu_missing_reason() is None:
        messages = checkers.validate_html(documents)
        errors = {name: checkers.html_errors(found) for name, found in messages.items()}
        assert all(not found for found in errors.values()), {
            name: checkers.describe_html_messages(found) for name, found in errors.items() if found
        }


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_join_confirm_and_offer_without_javascript(browser, live_server, sold_out, width):
    context = browser.new_context(
        base_url=live_server.url, viewport=WIDTHS[width], java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    mail.outbox.clear()

    page.goto("/tickets/")
    page.get_by_role("link", name="Join the waiting list for “Hands-on tutorial”").click()
    assert page.locator("h1").inner_text() == "Waiting list: Hands-on tutorial"
    join_path = page.url.removeprefix(live_server.url)
    page.get_by_label("Your name (optional)").fill("Wen Waiter")
    page.get_by_label("Your e-mail address").fill("wen@example.org")
    page.get_by_role("button", name="Join the waiting list").click()
    assert page.locator("h1").inner_text() == "Check your inbox"
    page.screenshot(path=str(ARTIFACTS / f"waitlist-joined-{width}.png"), full_page=True)

    link = re.search(r"http://\S+/tickets/waiting-list/confirm/\S+/", mail.outbox[-1].body)[0]
    confirm_path = "/" + link.split("/", 3)[3]
    page.goto(confirm_path)
    page.get_by_role("button", name="Confirm my place").click()
    assert "number 1 in line" in page.locator("main").inner_text()

    Order.objects.filter(pk=sold_out.order.pk).update(status=Order.Status.CANCELLED)
    waitlist.process_waiting_lists()
    entry = WaitingListEntry.objects.get()
    offer_path = f"/tickets/waiting-list/offer/{waitlist.sign(entry, waitlist.OFFER_SALT)}/"
    page.goto(offer_path)
    assert page.locator("h1").inner_text() == "A seat is held for you"
    page.get_by_role("button", name="Buy your ticket").click()
    assert page.locator("h1").inner_text() == "Checkout"
    assert "Hands-on tutorial" in page.locator("main").inner_text()
    context.close()

    Order.objects.filter(pk=sold_out.order.pk).update(status=Order.Status.PAID)
    check_pages(
        browser,
        live_server,
        width,
        {
            f"waitlist-join-{width}": join_path,
            f"waitlist-confirmed-{width}": confirm_path,
            f"waitlist-offer-{width}": offer_path,
        },
    )
