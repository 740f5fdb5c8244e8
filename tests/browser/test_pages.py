"""Every public page and the main signed-in pages: valid HTML, accessible, answering right.

The pages are walked once per session by the ``site_audit`` fixture (see audit.py); each test
here reads one page's results so that a failure names the page.
"""

import pytest

from tests.browser import checkers
from tests.browser.pages import PAGE_NAMES

# The audit (package-scoped, so set up before any per-test transaction) commits the demo to the
# test database and empties it again itself; the marker only
# makes sure the test database exists (pytest-django creates it for tests that ask).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def result_for(site_audit, name):
    result = site_audit.results[name]
    if result.missing:
        pytest.skip(f"{name}: {result.missing}")
    return result


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_answers_with_expected_status(site_audit, name):
    result = result_for(site_audit, name)

    status, expected = result.status, result.page.status
    assert status == expected, f"{result.path} answered {status}"
    shows, html = result.page.shows, result.html
    if shows:
        assert shows in html, f"{result.path} lacks {shows!r}"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_is_valid_html(site_audit, name):
    if site_audit.vnu_skip:
        pytest.skip(site_audit.vnu_skip)
    result = result_for(site_audit, name)

    errors = checkers.html_errors(result.html_messages)

    warnings = [m for m in result.html_messages if m not in errors]
    if warnings:
        print(f"vnu warnings on {result.path}:\n{checkers.describe_html_messages(warnings)}")
    assert errors == [], (
        f"{result.path} is not valid HTML:\n{checkers.describe_html_messages(errors)}"
    )


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_has_no_serious_accessibility_violations(site_audit, name):
    if site_audit.axe_skip:
        pytest.skip(site_audit.axe_skip)
    result = result_for(site_audit, name)
    assert result.browser_error is None, f"{result.path}: {result.browser_error}"

    failing = checkers.failing_violations(result.violations)

    minor = [v for v in result.violations if v not in failing]
    if minor:
        print(f"minor axe violations on {result.path}:\n{checkers.describe_violations(minor)}")
    assert failing == [], (
        f"{result.path} has serious accessibility violations (WCAG 2.2 AA):\n"
        f"{checkers.describe_violations(failing)}"
    )


@pytest.mark.parametrize("status", ["400", "403", "429", "500"])
def test_error_page_is_valid_html(site_audit, status):
    if site_audit.vnu_skip:
        pytest.skip(site_audit.vnu_skip)

    page = site_audit.error_pages[f"error-{status}"]
    errors = checkers.html_errors(page["messages"])

    assert page["html"].count("<h1>") == 1

    assert errors == [], f"the {status} page is not valid HTML:\n" + (
        checkers.describe_html_messages(errors)
    )
