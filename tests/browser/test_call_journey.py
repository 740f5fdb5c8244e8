"""An author's journey through the call for proposals in Chromium, on a phone and on a
desktop: sign in, submit (once with a mistake), edit, be accepted, confirm.

Each step is checked with axe, must not scroll sideways, loads no script (so it works without
JavaScript: plain links and forms), and is kept as a screenshot in tests/artifacts/call/ to
look at; the form with its errors also goes through the Nu checker.
"""

import re

import pytest
from allauth.account.models import EmailAddress

from schedule.decisions import decide_proposals
from schedule.models import Proposal
from tests.browser import checkers
from tests.browser.checkers import assert_accessible
from tests.browser.conftest import ARTIFACTS
from tests.browser.layout import MEASURE_LAYOUT
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def context_options(request):
    """A browser as wide as a phone or a desktop.

    JavaScript stays on only because axe and the layout measure run in the page; the page
    itself loads no script (checked at each step).
    """
    return {"viewport": {"width": WIDTHS[request.param], "height": 900}}


@pytest.fixture
def author(transactional_db):
    user = UserFactory(username="grace", email="grace@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def check_step(page, name):
    """Check the page as it is now: accessible, no script, no sideways scrolling; keep a
    screenshot."""
    width = page.viewport_size["width"]
    assert page.locator("script").count() == 0, f"{name} loads a script"
    path = ARTIFACTS / "call" / f"{name}-{width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    layout = page.evaluate(MEASURE_LAYOUT)
    assert layout["scrollWidth"] <= width, f"{name} scrolls sideways at {width}px (see {path})"
    assert layout["pastEdge"] == [], f"{name}: text past the right edge: {layout['pastEdge']}"
    assert layout["overlaps"] == [], f"{name}: overlapping text: {layout['overlaps']}"
    assert_accessible(page)


def assert_valid_html(page, name):
    if checkers.vnu_missing_reason():
        return
    messages = checkers.validate_html({name: page.content()})[name]
    errors = checkers.html_errors(messages)
    assert errors == [], checkers.describe_html_messages(errors)


def test_an_author_submits_edits_and_confirms_a_proposal(
    page, author, live_server, settings, mailoutbox
):
    settings.SITE_URL = live_server.url

    # The call, then signing in on the way to the form.
    page.goto("/call/")
    check_step(page, "call")
    page.get_by_role("link", name="Submit a proposal").click()
    page.wait_for_url("**/accounts/login/?next=/call/submit/")
    page.fill("#id_login", "grace@example.org")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url("**/call/submit/")
    check_step(page, "submit")

    # A first try without an abstract: the mistake is named, what was typed stays.
    page.get_by_label("Your name").fill("Grace Okafor")
    page.get_by_label("Affiliation").fill("Example Lab")
    page.get_by_label("Title").fill("Honest baselines for field data")
    page.get_by_label("Talk (30 min)").check()
    page.get_by_label("Track").select_option(label="Evaluation")
    page.get_by_role(
        "group", name="Can you present live during the workshop's hours?"
    ).get_by_label("Yes").check()
    page.get_by_role("button", name="Submit the proposal").click()
    assert page.locator(".form-error").inner_text() == "Please correct the fields marked below."
    assert page.get_by_label("Title").input_value() == "Honest baselines for field data"
    check_step(page, "submit-errors")
    assert_valid_html(page, "submit-errors")

    page.get_by_label("Abstract").fill("Baselines that mean something, for *field* data.")
    page.get_by_role("button", name="Submit the proposal").click()
    page.wait_for_url("**/call/proposals/*/")
    assert "Thank you: your proposal has been received." in page.locator("main").inner_text()
    assert page.locator(".proposal-state").inner_text() == "State: Submitted"
    check_step(page, "proposal")

    # A change before the deadline.
    page.get_by_role("link", name="Edit the proposal").click()
    page.get_by_label("Title").fill("Honest baselines for field measurements")
    page.get_by_role("button", name="Save changes").click()
    assert page.locator("h1").inner_text() == "Honest baselines for field measurements"
    page.get_by_role("link", name="All your proposals").click()
    check_step(page, "my-proposals")

    # The organisers accept it; the e-mail leads to the confirmation.
    proposal = Proposal.objects.get(submitted_by=author)
    decide_proposals(proposals=[proposal], decision="accepted")
    (letter,) = mailoutbox
    link = re.search(r"http://\S+/confirm/", letter.body).group(0)
    page.goto(link)
    check_step(page, "confirm")
    page.get_by_role("button", name="Confirm: I will give this talk").click()
    assert "is confirmed and on the programme" in page.locator("main").inner_text()
    assert page.locator(".proposal-state").inner_text() == "State: Confirmed"
    check_step(page, "confirmed")

    page.goto("/talks/")
    talk = page.get_by_role("link", name="Honest baselines for field measurements", exact=True)
    assert talk.is_visible()
