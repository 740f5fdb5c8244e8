"""In a real browser the strict Content Security Policy breaks nothing on the main journeys.

Chromium reports each blocked script, style, image or form target as a
``securitypolicyviolation`` event and a console message; both are collected and must stay empty.
"""

import os

import pytest
from allauth.mfa.models import Authenticator

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PageFactory, WorkshopFactory
from tests.security.conftest import PASSWORD, totp_code, verified_user

# Playwright's sync API keeps an event loop in the test thread; Django then refuses ORM calls
# from it as if they were async code. They are not: tests call the ORM between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


# Runs before any page script and is not itself subject to the page's policy.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
      + ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture(scope="module")
def chromium():
    """Start Chromium for this module only: Playwright's sync API allows one instance at a time."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ViolationWatch:
    """A browser page that remembers every CSP violation it saw, page by page."""

    def __init__(self, page):
        self.page = page
        self.seen = []
        page.on("console", self.console)

    def console(self, message):
        if "Content Security Policy" in message.text:
            self.seen.append(f"{self.page.url}: console: {message.text}")

    def collect(self):
        self.page.wait_for_load_state("load")
        for violation in self.page.evaluate("window.__cspViolations || []"):
            self.seen.append(f"{self.page.url}: {violation}")

    def click(self, selector):
        """Click something that loads a new page, and wait for that page."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.collect()

    def visit(self, url):
        response = self.page.goto(url)
        self.collect()
        return response


@pytest.fixture
def watch(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_VIOLATIONS)
    yield ViolationWatch(context.new_page())
    context.close()


@pytest.fixture
def site(transactional_db):
    workshop = WorkshopFactory()
    page = PageFactory(title="Code of conduct", slug="code-of-conduct")
    return workshop, page


def test_watch_notices_a_violation(watch, site):
    watch.visit("/")

    watch.page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true;";
          document.body.append(script);
        }"""
    )
    watch.page.wait_for_function("window.__cspViolations.length > 0")
    watch.collect()

    assert watch.page.evaluate("window.injected === undefined")
    assert any("script-src" in seen for seen in watch.seen), watch.seen


def test_public_pages_and_sign_in_have_no_violations(watch, site):
    user = verified_user(username="attendee")

    for path in ["/", "/code-of-conduct/", "/accounts/login/"]:
        assert watch.visit(path).status == 200, path
    watch.page.fill("input[name=login]", user.email)
    watch.page.fill("input[name=password]", PASSWORD)
    watch.click("form:has(input[name=password]) [type=submit]")

    assert watch.page.url.endswith("/")
    assert watch.seen == []


def admin_paths(user):
    """Return the admin index, every registered model's list and the add forms the user has."""
    from django.apps import apps
    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import reverse

    request = RequestFactory().get("/admin/")
    request.user = user
    paths = ["/admin/"]
    registered = [model for model in apps.get_models() if admin.site.is_registered(model)]
    for model in registered:
        model_admin = admin.site.get_model_admin(model)
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        paths.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(request):
            paths.append(reverse(f"{prefix}_add"))
    return paths


def test_admin_pages_have_no_violations(watch, site, organiser):
    watch.visit("/admin/login/")
    watch.page.fill("#id_username", "organiser")
    watch.page.fill("#id_password", PASSWORD)
    watch.click("input[type=submit]")
    page_id = site[1].pk

    statuses = {path: watch.visit(path).status for path in admin_paths(organiser)}
    change = watch.visit(f"/admin/workshop/page/{page_id}/change/")

    assert {path: status for path, status in statuses.items() if status != 200} == {}
    assert "/admin/workshop/page/add/" in statuses
    assert change.status == 200
    assert watch.page.locator("#site-name").inner_text() == "Workshop administration"
    assert watch.seen == []


def test_staff_mfa_setup_journey_has_no_violations(watch, site, settings):
    settings.REQUIRE_STAFF_MFA = True
    staff = verified_user(username="staffer", is_staff=True, is_superuser=True)

    watch.visit("/admin/")
    assert "/accounts/login/" in watch.page.url
    watch.page.fill("input[name=login]", staff.email)
    watch.page.fill("input[name=password]", PASSWORD)
    watch.click("form:has(input[name=password]) [type=submit]")
    assert watch.page.url.endswith("/accounts/2fa/")
    watch.click('main a[href="/accounts/2fa/totp/activate/"]')
    # allauth asks for the password again before a second factor is added.
    assert "/accounts/reauthenticate/" in watch.page.url
    watch.page.fill("input[name=password]", PASSWORD)
    watch.click("form:has(input[name=password]) [type=submit]")
    assert watch.page.url.endswith("/accounts/2fa/totp/activate/")
    assert watch.page.locator("img.mfa-qr").evaluate("img => img.naturalWidth > 0")
    secret = watch.page.input_value("#authenticator_secret")
    watch.page.fill("#id_code", totp_code(secret))
    watch.click("main button[type=submit]")
    assert watch.page.url.endswith("/accounts/2fa/recovery-codes/")
    response = watch.visit("/admin/")

    assert response.status == 200
    assert Authenticator.objects.filter(user=staff, type="totp").count() == 1
    assert watch.seen == []


def add_virtual_security_key(page):
    """Give the browser a security key that answers without a person touching it."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "usb",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    session.send("WebAuthn.addVirtualAuthenticator", {"options": options})


def test_staff_signs_in_with_a_security_key(watch, site, settings):
    settings.REQUIRE_STAFF_MFA = True
    staff = verified_user(username="staffer", is_staff=True, is_superuser=True)
    add_virtual_security_key(watch.page)
    watch.visit("/accounts/login/?next=/admin/")
    watch.page.fill("input[name=login]", staff.email)
    watch.page.fill("input[name=password]", PASSWORD)
    watch.click("form:has(input[name=password]) [type=submit]")
    watch.click('main a[href="/accounts/2fa/webauthn/add/"]')
    watch.page.fill("input[name=password]", PASSWORD)
    watch.click("form:has(input[name=password]) [type=submit]")
    assert watch.page.url.endswith("/accounts/2fa/webauthn/add/")
    watch.page.fill("#id_name", "Desk key")
    watch.click("#mfa_webauthn_add")
    watch.click("form[action='/accounts/logout/'] button[type=submit]")

    watch.visit("/accounts/login/?next=/admin/")
    watch.page.fill("input[name=login]", staff.email)
    watch.page.fill("input[name=password]", PASSWORD)
    watch.click("form:has(input[name=password]) [type=submit]")
    assert watch.page.url.endswith("/accounts/2fa/authenticate/")
    watch.click("#mfa_webauthn_authenticate")

    assert watch.page.url.endswith("/admin/")
    assert watch.page.locator("#site-name").inner_text() == "Workshop administration"
    keys = Authenticator.objects.filter(user=staff, type=Authenticator.Type.WEBAUTHN)
    assert [key.wrap().name for key in keys] == ["Desk key"]
    assert watch.seen == []
