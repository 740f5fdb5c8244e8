"""A newcomer tries card payment locally, as `make run` offers it without Stripe keys.

The stand-in runs as `manage.py run_stripe_standin` in its own process; Chromium walks from the
tickets to its payment page (which says that no money moves) and back to the paid order, on a
phone and on a desktop. Each page is checked with axe and the Nu checker, must not scroll
sideways, and is kept as a screenshot in tests/artifacts/local-payment/.
"""

import copy
import re

import pytest

from tests.browser import checkers
from tests.browser.checkers import assert_accessible
from tests.browser.conftest import ARTIFACTS
from tests.browser.layout import MEASURE_LAYOUT
from tests.tickets.test_standin_command import standin_command
from tickets.models import Order
from tickets.services.checkin import refusal_reason

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": 375, "desktop": 1280}
ORDER_PAGE = re.compile(r".*/orders/[^/]+/[^/]+/\?session_id=cs_test_\w+$")


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def context_options(request):
    return {"viewport": {"width": WIDTHS[request.param], "height": 900}}


@pytest.fixture
def local_stripe(settings, live_server):
    """The stand-in as `make run` starts it; the checkout may be redirected to it."""
    with standin_command(settings, live_server.url) as (process, _):
        base = settings.STRIPE_API_BASE
        # Settings add it to form-action at start-up (tests/workshop/test_stripe_settings.py);
        # this process started with Stripe's address.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"].append(base)
        settings.CONTENT_SECURITY_POLICY = policy
        yield base


def check_step(page, name, documents):
    """Accessible, no script, no sideways scrolling; keep a screenshot and the HTML for vnu."""
    width = page.viewport_size["width"]
    assert page.locator("script").count() == 0, f"{name} loads a script"
    path = ARTIFACTS / "local-payment" / f"{name}-{width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    layout = page.evaluate(MEASURE_LAYOUT)
    assert layout["scrollWidth"] <= width, f"{name} scrolls sideways at {width}px (see {path})"
    assert layout["pastEdge"] == [], f"{name}: text past the right edge: {layout['pastEdge']}"
    assert_accessible(page)
    documents[name] = page.content()


def assert_valid_html(documents):
    """Check the pages' HTML in one run of the Nu checker (when it is here)."""
    if checkers.vnu_missing_reason():
        return
    for name, messages in checkers.validate_html(documents).items():
        errors = checkers.html_errors(messages)
        assert errors == [], f"{name}:\n{checkers.describe_html_messages(errors)}"


def choose_supporter_ticket(page):
    page.goto("/tickets/")
    page.get_by_label("Number of “Supporter ticket” tickets").select_option("1")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/tickets/checkout/**")


def fill_checkout(page):
    page.get_by_label("Your name").fill("Ada Newcomer")
    page.get_by_label("Your e-mail address").fill("ada@example.org")
    page.fill("#id_attendee_1_name", "Ada Newcomer")
    page.fill("#id_attendee_1_email", "ada@example.org")
    page.get_by_label("I accept the code of conduct and the privacy notice.").check()


def test_newcomer_pays_by_card_on_the_local_test_payment_page(page, local_stripe, mailoutbox):
    documents = {}
    choose_supporter_ticket(page)
    card = page.get_by_label("Card (local test payment page: no money moves)")
    assert card.is_checked()
    assert page.get_by_label("Invoice / bank transfer").count() == 1
    check_step(page, "checkout", documents)
    fill_checkout(page)
    page.get_by_role("button", name="Order and pay").click()

    page.wait_for_url(f"{local_stripe}/pay/cs_test_*")
    assert page.title() == "Pay 25.00 EUR · Local test payment (no money moves)"
    assert page.locator(".notice strong").inner_text() == "Local test payment: no money moves."
    assert page.locator("#total").inner_text() == "25.00 EUR"
    check_step(page, "payment", documents)
    page.get_by_role("button", name="Pay 25.00 EUR (test, no money moves)").click()

    page.wait_for_url(ORDER_PAGE)
    assert page.locator(".order-status").inner_text() == "Status: Paid"
    assert page.locator(".ticket h3").all_inner_texts() == ["Supporter ticket: Ada Newcomer"]
    check_step(page, "paid-order", documents)
    order = Order.objects.get()
    assert (order.status, order.total, order.payment_method) == (Order.Status.PAID, 25, "stripe")
    assert [refusal_reason(ticket) for ticket in order.tickets.all()] == [""]
    assert [m.to for m in mailoutbox] == [["ada@example.org"]]
    assert_valid_html(documents)


def test_newcomer_cancels_on_the_local_test_payment_page(page, local_stripe):
    documents = {}
    choose_supporter_ticket(page)
    fill_checkout(page)
    page.get_by_role("button", name="Order and pay").click()
    page.wait_for_url(f"{local_stripe}/pay/cs_test_*")

    page.get_by_role("link", name="Cancel and go back to the shop").click()

    page.wait_for_url(re.compile(r".*/orders/[^/]+/[^/]+/\?cancelled=1$"))
    check_step(page, "cancelled", documents)
    assert Order.objects.get().status == Order.Status.PENDING
    assert_valid_html(documents)
