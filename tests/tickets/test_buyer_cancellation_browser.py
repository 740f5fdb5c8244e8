"""A buyer cancels their order in a real browser without JavaScript, at phone and desktop widths."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import TicketTypeFactory, WorkshopFactory
from tests.tickets.conftest import BUYER
from tests.tickets.test_waitlist_browser import (
    ARTIFACTS,
    WIDTHS,
    browser,  # noqa: F401 (the fixture)
    check_pages,
)
from tickets.models import Order
from tickets.services import lifecycle, stripe_checkout
from tickets.stripe_standin import StripeStandIn

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workshop():
    workshop = WorkshopFactory()
    workshop.buyer_cancellation_until = timezone.now() + dt.timedelta(days=7)
    workshop.save()
    return workshop


def free_order(workshop):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Community day", price="0.00")
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 2},
        buyer=BUYER,
        attendees=[BUYER, {"name": "Grace Attendee", "email": "grace@example.org"}],
        payment_method="free",
    )


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_buyer_cancels_free_order_without_javascript(
    browser,  # noqa: F811
    live_server,
    workshop,
    width,
):
    order = free_order(workshop)
    context = browser.new_context(
        base_url=live_server.url, viewport=WIDTHS[width], java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    mail.outbox.clear()

    page.goto(order.get_absolute_url())
    page.get_by_role("link", name="Cancel this order").click()
    assert page.locator("h1").inner_text() == f"Cancel order {order.code}?"
    assert "Its 2 tickets no longer admit anyone" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"order-cancel-confirm-{width}.png"), full_page=True)
    page.get_by_role("button", name=f"Cancel order {order.code}").click()

    assert page.url == live_server.url + order.get_absolute_url()
    main = page.locator("main").inner_text()
    told = f"Order {order.code} is cancelled. We have sent you an e-mail."
    assert told in page.inner_text("body")
    assert "This order is cancelled: its tickets no longer admit anyone" in main
    assert "Cancel this order" not in main
    page.screenshot(path=str(ARTIFACTS / f"order-cancelled-{width}.png"), full_page=True)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert [m.to for m in mail.outbox] == [[BUYER["email"]], ["grace@example.org"]]

    # Back to the confirmation (it is never cached): it says why nothing more can happen.
    page.go_back()
    assert f"Order {order.code} is cancelled already." in page.locator("main").inner_text()
    assert page.get_by_role("button", name=f"Cancel order {order.code}").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"order-cancel-refused-{width}.png"), full_page=True)
    context.close()

    other = free_order(workshop)
    check_pages(
        browser,
        live_server,
        width,
        {
            f"order-cancel-offered-{width}": other.get_absolute_url(),
            f"order-cancel-page-{width}": f"{other.get_absolute_url()}cancel/",
            f"order-cancel-done-{width}": order.get_absolute_url(),
            f"order-cancel-too-late-{width}": f"{order.get_absolute_url()}cancel/",
        },
    )


def paid_card_order(workshop, standin, settings):
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=[{"name": "Grace Attendee", "email": "grace@example.org"}],
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id, deliver=False)
    stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
    return order


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_buyer_cancels_paid_order_and_sees_the_refund_without_javascript(
    browser,  # noqa: F811
    live_server,
    workshop,
    settings,
    width,
):
    workshop.buyer_cancellation_paid = True
    workshop.buyer_cancellation_fee = Decimal("5.00")
    workshop.save()
    with StripeStandIn() as standin:
        order = paid_card_order(workshop, standin, settings)
        other = paid_card_order(workshop, standin, settings)
        context = browser.new_context(
            base_url=live_server.url, viewport=WIDTHS[width], java_script_enabled=False
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        ARTIFACTS.mkdir(exist_ok=True)

        page.goto(order.get_absolute_url())
        page.get_by_role("link", name="Cancel this order").click()
        confirm_text = page.locator("main").inner_text()
        assert (
            "20.00 EUR is refunded: the 25.00 EUR you paid, less the cancellation fee of 5.00 EUR."
            in confirm_text
        )
        page.screenshot(path=str(ARTIFACTS / f"order-paid-cancel-{width}.png"), full_page=True)
        page.get_by_role("button", name=f"Cancel order {order.code}").click()

        told = f"Order {order.code} is cancelled and 20.00 EUR is refunded to your card."
        assert told in page.inner_text("body")
        assert "Refunds" in page.locator("table.refunds caption").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"order-paid-refunded-{width}.png"), full_page=True)
        context.close()
        order.refresh_from_db()
        assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("20"))
        assert standin.charge_for(order.stripe_session_id)["amount_refunded"] == 2000

        check_pages(
            browser,
            live_server,
            width,
            {
                f"order-paid-cancel-page-{width}": f"{other.get_absolute_url()}cancel/",
                f"order-refunded-{width}": order.get_absolute_url(),
            },
        )
