"""An organiser at the door, on a phone-wide browser: search, check in, scan (Chromium)."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.browser import checkers
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, share_test_connections
from tests.browser.keyboard import focused, tab_to
from tests.factories import (
    OrderFactory,
    OrganiserFactory,
    TicketFactory,
    TicketTypeFactory,
    WorkshopFactory,
)
from tickets.models import CheckInEvent, Ticket
from workshop.roles import DOOR_STAFF, ORGANISER

# Playwright's sync API runs an event loop in the test thread; the ORM calls between
# browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
PHONE = {"width": 375, "height": 740}

# Stand-ins for a browser with BarcodeDetector and a camera: the "camera" is a canvas and
# the detector reads the QR code of ticket SCAN000001, as a phone would.
FAKE_SCANNER = """
window.BarcodeDetector = class {
  static getSupportedFormats() { return Promise.resolve(["qr_code"]); }
  detect() {
    return Promise.resolve([{rawValue: location.origin + "/organisers/check-in/SCAN000001/"}]);
  }
};
navigator.mediaDevices.getUserMedia = () => {
  const canvas = document.createElement("canvas");
  canvas.width = 16; canvas.height = 16;
  canvas.getContext("2d").fillRect(0, 0, 16, 16);
  return Promise.resolve(canvas.captureStream());
};
"""


@pytest.fixture
def context(live_server):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # ORM calls between browser steps must use the test's connection, not a second one
        # that would keep PostgreSQL from dropping the test database.
        share_test_connections()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True
        )
        context.set_default_timeout(10_000)
        yield context
        browser.close()


def sign_in(context, live_server, user):
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def watch_csp(page):
    """Collect Content Security Policy violations reported on the console."""
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


@pytest.fixture
def door(live_server, context):
    workshop = WorkshopFactory(format="in_person")
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    order = OrderFactory(workshop=workshop, buyer_name="Bea Buyer", buyer_email="bea@example.org")
    TicketFactory(
        order=order,
        ticket_type=regular,
        code="K7PX2M9QRT",
        attendee_name="Ada Lovelace",
        attendee_email="ada.lovelace@example.org",
    )
    TicketFactory(order=order, ticket_type=regular, code="SCAN000001", attendee_name="Sam Scan")
    organiser = OrganiserFactory(username="door", email="door@example.org", role=DOOR_STAFF)
    sign_in(context, live_server, organiser)
    return organiser


@pytest.fixture
def full_organiser(live_server, context, door):
    """The door's workshop, seen by an organiser who may see every panel of the dashboard."""
    organiser = OrganiserFactory(username="full", email="full@example.org", role=ORGANISER)
    sign_in(context, live_server, organiser)
    return organiser


def test_organiser_finds_and_checks_in_with_keyboard_on_phone(context, door):
    page = context.new_page()
    violations = watch_csp(page)

    page.goto("/organisers/check-in/")
    assert focused(page)["id"] == "checkin-q"
    page.keyboard.type("lovelace")
    page.keyboard.press("Enter")
    page.wait_for_url("**/organisers/check-in/?q=lovelace")
    assert page.locator("#checkin-results-heading").inner_text() == "1 ticket matches “lovelace”"
    button = page.get_by_role("button", name="Check in Ada Lovelace")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "checkin-results-375.png"), full_page=True)
    # The name is there for screen readers (visually hidden), so innerText breaks the line.
    tab_to(page, text="Check in\nAda Lovelace")
    page.keyboard.press("Enter")

    page.wait_for_url("**/organisers/check-in/K7PX2M9QRT/")
    assert page.locator(".message-success").inner_text() == "Ada Lovelace (K7PX2M9QRT) checked in."
    assert page.locator(".checkin-state").inner_text().startswith("Checked in at ")
    assert page.locator(".checkin-count").inner_text() == "1 of 2 valid tickets checked in."
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Without BarcodeDetector (Chromium on Linux has none) the scanner stays out of the way.
    assert page.locator("[data-scanner]").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "checkin-375.png"), full_page=True)
    ticket = Ticket.objects.get(code="K7PX2M9QRT")
    assert ticket.checked_in_by == door
    assert violations == []

    page.get_by_role("button", name="Undo check-in of Ada Lovelace").press("Enter")
    page.wait_for_load_state()
    assert page.locator(".message-success").inner_text() == (
        "Check-in of Ada Lovelace (K7PX2M9QRT) undone."
    )
    assert list(CheckInEvent.objects.values_list("action", flat=True)) == ["check_in", "undo"]


def test_organiser_scans_qr_code_with_browser_scanner(context, door):
    context.add_init_script(FAKE_SCANNER)
    page = context.new_page()
    violations = watch_csp(page)

    page.goto("/organisers/check-in/")
    page.get_by_role("button", name="Scan a QR code").click()

    page.wait_for_url("**/organisers/check-in/SCAN000001/")
    assert page.locator("h2").first.inner_text() == "Sam Scan"
    page.get_by_role("button", name="Check in Sam Scan").click()
    assert page.locator(".message-success").inner_text() == "Sam Scan (SCAN000001) checked in."
    assert violations == []


def test_dashboard_fits_a_phone(context, full_organiser):
    page = context.new_page()
    violations = watch_csp(page)

    page.goto("/organisers/")

    assert page.locator("h1").inner_text() == "Organisers' dashboard"
    assert page.locator("svg.bar-chart").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_text("Orders by day as a table").click()
    assert page.locator(".chart-data table").is_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-375.png"), full_page=True)
    assert violations == []


def test_dashboard_table_captions_fit_their_panel_on_a_phone(context, full_organiser):
    page = context.new_page()

    page.goto("/organisers/")

    # A caption as wide as its scrolling table would be cut at the panel's edge.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.figures-scroll caption')]
            .filter((caption) => caption.getBoundingClientRect().right
                > caption.closest('.figures-scroll').getBoundingClientRect().right + 1)
            .map((caption) => caption.textContent.trim().slice(0, 40))"""
    )
    assert page.locator(".figures-scroll caption").count() >= 2
    assert overflowing == []


def test_dashboard_is_accessible_on_a_phone(context, full_organiser):
    page = context.new_page()

    page.goto("/organisers/")

    # Tables scroll sideways in their panels here: a keyboard must reach every scroller.
    checkers.assert_accessible(page)


def test_door_staff_dashboard_fits_a_phone_and_is_accessible(context, door):
    page = context.new_page()
    violations = watch_csp(page)

    page.goto("/organisers/")

    assert page.locator("h2").all_inner_texts() == ["Check-in"]
    summary = page.locator(".panel p").inner_text()
    assert summary == "0 of 2 valid tickets checked in. Check attendees in"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "dashboard-door-375.png"), full_page=True)
    checkers.assert_accessible(page)
    assert violations == []
