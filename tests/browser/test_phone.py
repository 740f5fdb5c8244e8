"""Pages at a phone's width (375 px) that once broke words or hid content."""

import pytest
from django.urls import reverse

from tests.browser.conftest import ARTIFACTS
from tests.browser.layout import BROKEN_WORDS
from tests.factories import TicketTypeFactory, VoucherFactory, WorkshopFactory
from tickets.models import Voucher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def shot(page, name):
    path = ARTIFACTS / "phone" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_checkout_summary_keeps_words_whole_on_a_phone(browser, live_server):
    workshop = WorkshopFactory(currency="EUR")
    ticket = TicketTypeFactory(
        workshop=workshop, name="Academic (university or research institute)", price="1250.00"
    )
    voucher = VoucherFactory(
        workshop=workshop, code="EARLYBIRD2030", discount=Voucher.Discount.PERCENT, value=10
    )
    voucher.ticket_types.add(ticket)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()

    page.goto(f"{reverse('tickets:checkout')}?qty_{ticket.id}=2&voucher=EARLYBIRD2030")
    broken = page.evaluate(BROKEN_WORDS, ".order-summary")
    rights = page.locator(".order-summary :is(th, td)").evaluate_all(
        "cells => cells.map((cell) => cell.getBoundingClientRect().right)"
    )
    shot(page, "checkout")
    context.close()

    assert broken == []
    assert max(rights) <= 375 - 16, "the summary does not fit the screen"
