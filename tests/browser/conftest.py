"""Fixtures for the real-browser suite: one Chromium per session, pages on the live server."""

import io
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

# Playwright's sync API keeps an event loop in the test thread; Django then refuses ORM calls
# from it as if they were async code. They are not: tests call the ORM between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"


def chromium_missing_reason():
    """Return why Chromium cannot run here, or None when it can."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium); browser tests skipped"
    return None


def share_test_connections():
    """Make ORM calls between browser steps use the test's own database connections.

    Playwright's sync API marks its event loop as running in the test thread between calls.
    Django's connection handler (an asgiref Local) then switches to a second, context-local set
    of connections: ORM calls in a test would run outside the test's transaction, and the extra
    connection would keep PostgreSQL from dropping the test database. Point that context-local
    storage of this thread at the thread's own.
    """
    from django.db import connections

    storage = getattr(connections._connections, "_storage", None)
    if storage is not None:
        storage.cvar = storage


# Package scope: one Chromium for this folder, stopped before other folders' browser tests
# start a Playwright of their own (two sync Playwrights cannot run in one thread).
@pytest.fixture(scope="package")
def browser():
    """Start one headless Chromium for the browser suite."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    share_test_connections()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def demo(transactional_db):
    """Load the demo workshop, its speakers, talks and tickets; return the workshop."""
    # Rate-limit counters live in the cache: earlier tests' orders and sign-ins must not count.
    cache.clear()
    call_command("load_demo", stdout=io.StringIO())
    from workshop.models import Workshop

    return Workshop.objects.get(is_current=True)


@pytest.fixture
def context_options():
    """Return extra options for the browser profile; override it to set a time zone, say."""
    return {}


@pytest.fixture
def context(browser, live_server, context_options):
    """Open a fresh browser profile (no cookies) that talks to the live server."""
    options = {"base_url": live_server.url, "viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(**{**options, **context_options})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context, demo):
    """Open a page in a fresh profile on the live server with the demo content loaded."""
    return context.new_page()


@pytest.fixture(scope="package")
def site_audit(request, django_db_setup, django_db_blocker):
    """Check every page in PAGES once: HTML validity, axe, layout; then empty the database."""
    from tests.browser.audit import audit_site

    (ARTIFACTS / "responsive").mkdir(parents=True, exist_ok=True)
    browser_skip = chromium_missing_reason()
    browser = None if browser_skip else request.getfixturevalue("browser")
    # Asked for here, not as an argument, so that the tests reading the results do not each
    # get a transactional database that is emptied after every one of them.
    base_url = None if browser_skip else request.getfixturevalue("live_server").url
    with django_db_blocker.unblock():
        refuse_non_test_database()
        try:
            return audit_site(
                browser=browser, base_url=base_url, artifacts=ARTIFACTS, browser_skip=browser_skip
            )
        finally:
            call_command("flush", interactive=False, verbosity=0)


def refuse_non_test_database():
    """Stop before the audit loads and then empties a database that is not the test one."""
    name = str(connection.settings_dict["NAME"])
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()) and not Path(
        name
    ).name.startswith("test"):
        pytest.fail(f"site_audit would empty {name!r}; its tests must use the django_db marker")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Save a screenshot of the browser page when a test that uses one fails."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid.split("::", 1)[-1])
        path = ARTIFACTS / "failures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(path), full_page=True)
            report.sections.append(("screenshot", f"saved {path} (page at {page.url})"))
        except Exception as error:  # the page may be gone; the failure itself matters more
            report.sections.append(("screenshot", f"could not be saved: {error}"))
    return report
