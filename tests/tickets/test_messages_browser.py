"""An organiser in a real browser writes, previews, tests and sends a message to attendees."""

import os

import pytest
from django.conf import settings
from django.test import Client

from tests.browser import checkers
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import (
    OrderFactory,
    OrganiserFactory,
    TicketFactory,
    TicketTypeFactory,
    WorkshopFactory,
)
from tickets.models import AttendeeMessage
from workshop.roles import ORGANISER

# Playwright's sync API runs an event loop in the test thread; the ORM calls between
# browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        yield context.new_page()
        browser.close()


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_organiser_writes_previews_tests_and_sends_once(live_server, page, mailoutbox):
    workshop = WorkshopFactory()
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    student = TicketTypeFactory(workshop=workshop, name="Student")
    for name, ticket_type in [("Ada", student), ("Bob", student), ("Cy", regular)]:
        TicketFactory(
            order=OrderFactory(workshop=workshop),
            ticket_type=ticket_type,
            attendee_name=name,
            attendee_email=f"{name.lower()}@example.org",
        )
    organiser = OrganiserFactory(email="org@example.org", role=ORGANISER)
    sign_in(page, live_server, organiser)

    page.goto("/organisers/messages/")
    page.get_by_role("link", name="Write a message").click()
    page.get_by_label("Subject").fill("Student meetup")
    page.get_by_label("Message").fill("Meet at **noon**.\n\n<script>alert(1)</script>")
    page.get_by_label("Student").check()
    page.get_by_role("button", name="Save and preview").click()

    assert page.locator("h1").inner_text() == "Preview: Student meetup"
    assert page.locator(".message-body strong").inner_text() == "noon"
    assert page.locator(".message-body script").count() == 0
    assert page.get_by_role("heading", name="Recipients (2)").is_visible()
    assert page.locator(".recipients li").all_inner_texts() == [
        "Ada <ada@example.org>",
        "Bob <bob@example.org>",
    ]

    page.get_by_role("button", name="Send a test to myself").click()
    assert "A test e-mail to org@example.org is queued for delivery." in (
        page.locator(".messages").inner_text()
    )
    assert [m.to for m in mailoutbox] == [["org@example.org"]]

    # Sending to everyone is a step of its own, away from the test button.
    page.get_by_role("link", name="Review and send to 2 attendees…").click()
    assert page.locator("h1").inner_text() == "Send “Student meetup” to 2 attendees?"
    assert page.get_by_role("button", name="Send a test to myself").count() == 0
    checkers.assert_accessible(page)
    if checkers.vnu_missing_reason() is None:
        found = checkers.validate_html({"confirm-send": page.content()})["confirm-send"]
        assert checkers.html_errors(found) == [], checkers.describe_html_messages(found)
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        (ARTIFACTS / "messages").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "messages" / f"confirm-send-{width}.png"))
    # A second tab still shows the confirmation with its send button: a late second click.
    stale = page.context.new_page()
    stale.goto(page.url)
    page.get_by_role("button", name="Send now to 2 attendees").click()
    assert "2 e-mails queued for delivery" in page.locator(".messages").inner_text()
    stale.get_by_role("button", name="Send now to 2 attendees").click()
    assert "This message has already been sent; nothing was sent again." in (
        stale.locator(".messages").inner_text()
    )

    assert page.locator("h1").inner_text() == "Student meetup"
    # The tasks ran at once (tests/conftest.py): the mail server took both e-mails.
    assert page.get_by_text("Delivered. The mail server has accepted 2 of 2 e-mails").is_visible()
    assert sorted(m.to[0] for m in mailoutbox[1:]) == [
        '"Ada" <ada@example.org>',
        '"Bob" <bob@example.org>',
    ]
    message = AttendeeMessage.objects.get()
    assert message.status == AttendeeMessage.Status.SENT
    assert message.deliveries.count() == 2


def test_message_tables_keep_their_words_whole_on_a_phone(live_server, page, mailoutbox):
    from tests.tickets.test_invoices_browser import BROKEN_WORDS
    from tickets.services import messages as mailing

    workshop = WorkshopFactory()
    ticket_type = TicketTypeFactory(workshop=workshop)
    for name in ["Zoë Ångström", "Ann O'Neil"]:
        TicketFactory(
            order=OrderFactory(workshop=workshop),
            ticket_type=ticket_type,
            attendee_name=name,
            attendee_email=f"{name.split()[0].lower()}@example.org",
        )
    organiser = OrganiserFactory(email="organiser@example.org", role=ORGANISER)
    message = mailing.save_draft(
        workshop=workshop,
        subject="Welcome and practical information",
        body="See you soon.",
        ticket_types=[],
        author=organiser,
    )
    mailing.send_message(message=message)
    sign_in(page, live_server, organiser)
    page.set_viewport_size({"width": 375, "height": 800})

    broken = {}
    for path in ["/organisers/messages/", f"/organisers/messages/{message.pk}/"]:
        page.goto(path)
        broken[path] = page.evaluate(BROKEN_WORDS, "table th, table td")
        # The tables scroll sideways now: a keyboard must reach the scrollers.
        checkers.assert_accessible(page)

    assert broken == {"/organisers/messages/": [], f"/organisers/messages/{message.pk}/": []}
