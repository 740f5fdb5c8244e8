"""The admin pages organisers use every day, in Chromium: axe at WCAG 2.2 AA, nothing past the
right edge at 1280 px, and the order list's filters big enough to tap."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from schedule.models import Call, Talk
from speakers.models import Speaker
from tests.browser import checkers
from tests.browser.conftest import ARTIFACTS
from tests.browser.layout import MEASURE_LAYOUT
from tests.factories import OrganiserFactory, TicketFactory, VoucherFactory
from tickets.models import Order, TicketType
from workshop.models import Workshop
from workshop.roles import ORGANISER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def admin_paths():
    """The pages an organiser opens: each list, the add pages, and a change page of each kind."""
    workshop = Workshop.objects.get()
    talk = Talk.objects.filter(slot__isnull=False).first()
    speaker = Speaker.objects.first()
    ticket_type = TicketType.objects.first()
    order = Order.objects.first()
    return {
        "index": "/admin/",
        "workshop": f"/admin/workshop/workshop/{workshop.pk}/change/",
        "talks": "/admin/schedule/talk/",
        "talk-add": "/admin/schedule/talk/add/",
        "talk-change": f"/admin/schedule/talk/{talk.pk}/change/",
        "slots": "/admin/schedule/slot/",
        "speakers": "/admin/speakers/speaker/",
        "speaker-change": f"/admin/speakers/speaker/{speaker.pk}/change/",
        "ticket-types": "/admin/tickets/tickettype/",
        "ticket-type-change": f"/admin/tickets/tickettype/{ticket_type.pk}/change/",
        "vouchers": "/admin/tickets/voucher/",
        "voucher-add": "/admin/tickets/voucher/add/",
        "orders": "/admin/tickets/order/",
        "order-change": f"/admin/tickets/order/{order.pk}/change/",
        "order-refund": f"/admin/tickets/order/{order.pk}/refund/",
        "tickets": "/admin/tickets/ticket/",
        "call": f"/admin/schedule/call/{Call.objects.get().pk}/change/",
        "proposals": "/admin/schedule/proposal/",
        "messages": "/admin/tickets/attendeemessage/",
    }


@pytest.fixture
def admin_page(browser, live_server):
    call_command("load_demo", stdout=io.StringIO())
    workshop = Workshop.objects.get()
    ticket_type = TicketType.objects.filter(workshop=workshop).first()
    TicketFactory(ticket_type=ticket_type, order__workshop=workshop, attendee_name="Ada Lovelace")
    VoucherFactory(workshop=workshop)
    organiser = OrganiserFactory(role=ORGANISER)
    client = Client()
    client.force_login(organiser)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    yield context.new_page()
    context.close()


def test_admin_pages_pass_axe_and_fit_the_screen(admin_page):
    page = admin_page
    if checkers.axe_missing_reason():
        pytest.skip(checkers.axe_missing_reason())
    found = {}
    for name, path in admin_paths().items():
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(path)
            assert response.status == 200, path
            shot = ARTIFACTS / "admin" / f"{name}-{width}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            failing = checkers.failing_violations(checkers.run_axe(page))
            if failing:
                found[f"{name} at {width}px"] = checkers.describe_violations(failing)
            if width == 1280:
                layout = page.evaluate(MEASURE_LAYOUT)
                if layout["scrollWidth"] > layout["viewport"] or layout["pastEdge"]:
                    found[f"{name} overflows at 1280px"] = str(layout["pastEdge"])
    report = "\n".join(f"{where}:\n{what}" for where, what in found.items())
    (ARTIFACTS / "admin" / "found.txt").write_text(report)
    assert found == {}, report
