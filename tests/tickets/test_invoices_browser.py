"""Invoices in real tools: valid HTML (Nu HTML Checker) and one A4 sheet when Chromium prints."""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import checkers
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import TicketTypeFactory
from tests.tickets.test_invoices import invoice_order, paid_order
from tests.tickets.test_stripe import checkout_data
from tickets.services.credit_notes import issue_credit_note
from tickets.services.invoices import issue_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"


def taxed(workshop):
    workshop.tax_rate = Decimal("19")
    workshop.organiser_name = "Workshop Society e.V."
    workshop.organiser_address = "Science Park 5\n14195 Berlin"
    workshop.invoice_note = "IBAN DE02 1001 0010 0123 4567 89"
    workshop.save()
    return workshop


def test_invoice_pages_are_valid_html(client, workshop, no_stripe):
    if reason := checkers.vnu_missing_reason():
        pytest.skip(reason)
    order = invoice_order(taxed(workshop), billing={"vat_number": "DE1234", "po_number": "7"})
    refunded = paid_order(workshop)
    issue_invoice(order=refunded)
    issue_credit_note(order=refunded, amount="10.00", reason="Refunded in part.")
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)
    bad_billing = {**checkout_data(ticket_type), "payment_method": "invoice", "vat_number": "?"}
    documents = {
        "invoice-due": client.get(f"{order.get_absolute_url()}invoice/").content.decode(),
        "invoice-refunded": client.get(f"{refunded.get_absolute_url()}invoice/").content.decode(),
        "credit-note": client.get(
            f"{refunded.get_absolute_url()}documents/{refunded.credit_notes.get().number}/"
        ).content.decode(),
        "order-with-credit-note": client.get(refunded.get_absolute_url()).content.decode(),
        "order-with-invoice": client.get(order.get_absolute_url()).content.decode(),
        "checkout-billing-errors": client.post("/tickets/checkout/", bad_billing).content.decode(),
    }

    messages = checkers.validate_html(documents)

    for name, found in messages.items():
        assert checkers.html_errors(found) == [], f"{name}:\n" + checkers.describe_html_messages(
            found
        )


@pytest.mark.django_db(transaction=True)
def test_invoice_accessible_and_prints_on_one_a4_sheet_in_chromium(
    live_server, workshop, no_stripe
):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    order = invoice_order(taxed(workshop))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        failed = []
        page.on("response", lambda r: r.status >= 400 and failed.append((r.status, r.url)))
        # Chromium asks for /favicon.ico on its own; only the page's resources and CSP count.
        page.on("console", lambda m: "Content Security Policy" in m.text and failed.append(m.text))
        page.goto(f"{live_server.url}{order.get_absolute_url()}invoice/")
        checkers.assert_accessible(page)  # axe-core, WCAG 2.2 AA, on screen
        page.emulate_media(media="print")
        page.screenshot(path=ARTIFACTS / "invoice-print.png", full_page=True)
        hidden = {
            selector: not page.locator(selector).first.is_visible()
            for selector in (".site-header", ".site-footer", ".invoice-actions")
        }
        heading = page.locator("h1").inner_text()
        pdf = page.pdf(prefer_css_page_size=True)
        browser.close()

    assert failed == []
    # Only invoice.css hides these, so this also proves the stylesheet loaded.
    assert hidden == {".site-header": True, ".site-footer": True, ".invoice-actions": True}
    assert heading == f"Invoice {order.invoice.number}"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    # A4 in PDF points: 595 x 842.
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert (round(float(box[1])), round(float(box[2]))) == (595, 842)


# Return the words (runs without spaces or dashes) of the matched elements that the browser
# split across two lines, as a table column squeezed to a few letters does.
BROKEN_WORDS = """(selector) => {
  const broken = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const word of node.textContent.matchAll(/[^\\s\\u2014-]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
          .map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.django_db(transaction=True)
def test_invoice_items_keep_their_words_whole_on_a_phone(live_server, workshop, no_stripe):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    workshop.title = "Real-world Perspectives in Machine Learning for Science"
    workshop.save()
    order = invoice_order(workshop)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(f"{live_server.url}{order.get_absolute_url()}invoice/")
        broken = page.evaluate(BROKEN_WORDS, ".invoice-items th, .invoice-items td")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        browser.close()

    assert broken == []
    assert scroll_width <= 375
