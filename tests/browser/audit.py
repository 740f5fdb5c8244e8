"""Walk every page of PAGES once per test session: HTML source, axe results and layout.

Loading the demo, starting Java and opening pages once for the whole suite keeps it fast; the
tests in test_pages.py and test_responsive.py then only read the results.
"""

import io
from dataclasses import dataclass, field
from types import SimpleNamespace

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch

from tests.browser import checkers
from tests.browser.layout import MEASURE_LAYOUT
from tests.browser.pages import PAGES, WIDTHS
from tickets.services import lifecycle

PEOPLE = ["attendee", "speaker"]


@dataclass
class PageResult:
    page: object
    path: str | None = None
    missing: str | None = None
    status: int | None = None
    html: str = ""
    html_messages: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    screenshots: dict = field(default_factory=dict)
    browser_error: str | None = None


@dataclass
class SiteAudit:
    results: dict
    # The error pages Django renders itself (400, 403, 500) and the rate limit's 429: source and
    # vnu messages, by status.
    error_pages: dict = field(default_factory=dict)
    vnu_skip: str | None = None
    browser_skip: str | None = None
    axe_skip: str | None = None


def create_person(role):
    """Create a signed-up user with a verified e-mail address (names apart from the demo's)."""
    email = f"audit-{role}@example.org"
    user = get_user_model().objects.create_user(
        username=f"audit-{role}", email=email, password="x-" * 8
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def session_cookie(user):
    """Sign the user in and return the session cookie value."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def link_speaker_profile(person):
    """Make the person the owner of the first demo speaker profile, as a claimed invitation does."""
    from speakers.models import Speaker

    Speaker.objects.filter(pk=Speaker.objects.order_by("name").values("pk")[:1]).update(user=person)


def place_free_order(person, *, signed_in=True):
    """Order a free demo ticket for the person: a confirmed order with a QR code.

    ``signed_in=False`` places it as a guest with the person's address: an order to claim.
    """
    from tickets.models import TicketType

    free = TicketType.objects.filter(visible=True, price=0).order_by("position").first()
    if free is None:
        return None
    someone = {"name": "Ada Attendee", "email": person.email}
    return lifecycle.create_order(
        workshop=free.workshop,
        ticket_counts={free.id: 1},
        buyer=someone,
        attendees=[someone],
        payment_method="free",
        user=person if signed_in else None,
    )


def place_invoice_order(person):
    """Order a demo ticket by invoice for the person: an order awaiting its bank transfer."""
    from tickets.models import TicketType
    from tickets.services import lifecycle

    by_invoice = TicketType.objects.filter(visible=True, invoice_allowed=True, price__gt=0).first()
    if by_invoice is None:
        return None
    someone = {"name": "Ada Attendee", "email": person.email}
    return lifecycle.create_order(
        workshop=by_invoice.workshop,
        ticket_counts={by_invoice.id: by_invoice.min_per_order},
        buyer=someone,
        attendees=[someone] * by_invoice.min_per_order,
        payment_method="invoice",
        invoice_details="Example University\nMain Street 1\n10115 Berlin",
        user=person,
    )


def place_cancelled_invoice_order(person):
    """Order a demo ticket by invoice for the person and cancel it: an invoice and a credit note."""
    from tickets.services import lifecycle

    order = place_invoice_order(person)
    return lifecycle.cancel_order(order=order) if order else None


def submit_proposal(person):
    """Send a proposal to the demo's call as the person: their own proposal's pages."""
    from schedule.models import Call
    from schedule.proposals import ProposalText, submit_proposal

    call = Call.objects.order_by("pk").first()
    if call is None or not call.is_open():
        return None
    text = ProposalText(
        title="Calibrated uncertainty for field measurements",
        abstract="Prediction intervals that hold up when instruments drift.",
        description="We compare *conformal* prediction with ensembles on sensor data.",
        submission_type=call.submission_types.first(),
        track=call.tracks.first(),
        notes="I could also bring a poster.",
    )
    proposal, _new = submit_proposal(call=call, user=person, text=text, answers={})
    return proposal


def locate_pages(site):
    """Find each page's path in the demo content; note the pages not built yet."""
    results = {}
    for page in PAGES:
        result = PageResult(page=page, missing=page.not_built_reason())
        if result.missing:
            results[page.name] = result
            continue
        try:
            result.path = page.locate(site)
        except NoReverseMatch as error:
            result.missing = f"page not built yet ({error})"
        else:
            if result.path is None:
                result.missing = "the demo content has nothing to show on this page yet"
        results[page.name] = result
    return results


def fetch_sources(results, people):
    """Fetch each page's HTML as served, signed in as its user."""
    clients = {None: Client(raise_request_exception=False)}
    for role, user in people.items():
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    for result in results.values():
        if result.missing:
            continue
        response = clients[result.page.user].get(result.path)
        result.status = response.status_code
        result.html = response.content.decode()


def render_error_pages():
    """Render the site's error pages the way Django's handlers do; return {status: HTML}."""
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import render
    from django.test import RequestFactory
    from django.views import defaults

    request = RequestFactory().get("/somewhere/")
    request.user = AnonymousUser()
    responses = {
        "400": defaults.bad_request(request, ValueError("bad")),
        "403": defaults.permission_denied(request, PermissionDenied()),
        "429": render(request, "429.html", {"retry_after_minutes": 5}, status=429),
        "500": defaults.server_error(request),
    }
    return {status: response.content.decode() for status, response in responses.items()}


def walk_in_browser(browser, base_url, results, people, artifacts, run_axe):
    """Open each page in Chromium: run axe, then measure the layout at each width."""
    for role in [None, *people]:
        context = browser.new_context(base_url=base_url)
        if role:
            cookie = session_cookie(people[role])
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
            )
        page = context.new_page()
        page.set_default_timeout(15_000)
        for result in results.values():
            if result.missing or result.page.user != role:
                continue
            try:
                check_page(page, result, artifacts, run_axe)
            except Exception as error:  # one broken page must not hide the others' results
                result.browser_error = f"{type(error).__name__}: {error}"
        context.close()


def check_page(page, result, artifacts, run_axe):
    """Run axe and the layout checks on one page."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(result.path)
    if run_axe:
        result.violations = checkers.run_axe(page)
    if not result.page.responsive:
        return
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(result.path)
        result.layout[width] = page.evaluate(MEASURE_LAYOUT)
        shot = artifacts / "responsive" / f"{result.page.name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        result.screenshots[width] = shot


def audit_site(*, browser, base_url, artifacts, browser_skip):
    """Load the demo and check every page; the caller empties the database afterwards."""
    call_command("load_demo", stdout=io.StringIO())
    people = {role: create_person(role) for role in PEOPLE}
    link_speaker_profile(people["speaker"])
    site = SimpleNamespace(
        people=people,
        order=place_free_order(people["attendee"]),
        guest_order=place_free_order(people["attendee"], signed_in=False),
        invoice_order=place_invoice_order(people["attendee"]),
        cancelled_order=place_cancelled_invoice_order(people["attendee"]),
        proposal=submit_proposal(people["speaker"]),
    )
    results = locate_pages(site)
    fetch_sources(results, people)
    audit = SiteAudit(
        results=results,
        vnu_skip=checkers.vnu_missing_reason(),
        browser_skip=browser_skip,
        axe_skip=browser_skip or checkers.axe_missing_reason(),
    )
    errors = {f"error-{status}": html for status, html in render_error_pages().items()}
    audit.error_pages = {name: {"html": html, "messages": []} for name, html in errors.items()}
    if audit.vnu_skip is None:
        documents = {name: r.html for name, r in results.items() if r.html} | errors
        for name, messages in checkers.validate_html(documents).items():
            if name in errors:
                audit.error_pages[name]["messages"] = messages
            else:
                results[name].html_messages = messages
    if browser is not None:
        walk_in_browser(
            browser, base_url, results, people, artifacts, run_axe=audit.axe_skip is None
        )
    return audit
