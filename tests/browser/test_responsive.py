"""Key pages at phone and desktop widths: no horizontal scrolling, no overlapping text.

Screenshots of each page at each width are kept in tests/artifacts/responsive/ to look at.
"""

import pytest

from tests.browser.pages import RESPONSIVE_NAMES, WIDTHS

# The audit (package-scoped, so set up before any per-test transaction) commits the demo to the
# test database and empties it again itself; the marker only
# makes sure the test database exists (pytest-django creates it for tests that ask).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", RESPONSIVE_NAMES)
def test_page_fits_the_screen(site_audit, name, width):
    if site_audit.browser_skip:
        pytest.skip(site_audit.browser_skip)
    result = site_audit.results[name]
    if result.missing:
        pytest.skip(f"{name}: {result.missing}")
    assert result.browser_error is None, f"{result.path}: {result.browser_error}"

    layout = result.layout[width]

    where = f"{result.path} at {width}px (see {result.screenshots[width]})"
    assert layout["viewport"] == width
    assert layout["scrollWidth"] <= width, f"{where} scrolls sideways: {layout['scrollWidth']}px"
    assert layout["pastEdge"] == [], f"{where}: text past the right edge: {layout['pastEdge']}"
    assert layout["overlaps"] == [], f"{where}: overlapping text: {layout['overlaps']}"
