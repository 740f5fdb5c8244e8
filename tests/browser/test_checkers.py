"""The checkers themselves: each must fail on a page that is broken on purpose."""

import pytest

from tests.browser import checkers
from tests.browser.layout import MEASURE_LAYOUT

pytestmark = pytest.mark.browser

BROKEN_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken</title></head>
<body>
  <p><div>A block inside a paragraph.</div></p>
  <img src="/logo.png">
  <a href="/a" id="twice">one</a><a href="/b" id="twice">two</a>
</body>
</html>
"""

VALID_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Fine</title></head>
<body><main><h1>Fine</h1><p>Nothing wrong here.</p></main></body>
</html>
"""

INACCESSIBLE_HTML = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>Inaccessible</title></head>
<body>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <form><input type="text" name="q"><button type="submit"></button></form>
  <p style="color: #ccc; background: #fff">Pale grey text nobody can read.</p>
</body>
</html>
"""


BROKEN_LAYOUT_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken layout</title></head>
<body>
  <p style="white-space: nowrap">A line of text that never wraps, so it is wider than a phone.</p>
  <div style="position: relative; height: 3em">
    <span style="position: absolute; top: 0; left: 0">First label</span>
    <span style="position: absolute; top: 0; left: 10px">Second label</span>
  </div>
  <div style="overflow-x: auto"><p style="width: 900px">Wide, but inside a scroller.</p></div>
</body>
</html>
"""


@pytest.fixture(scope="module")
def vnu():
    reason = checkers.vnu_missing_reason()
    if reason:
        pytest.skip(reason)


def test_vnu_reports_errors_on_broken_html(vnu):
    messages = checkers.validate_html({"broken": BROKEN_HTML, "valid": VALID_HTML})

    errors = [m["message"] for m in checkers.html_errors(messages["broken"])]
    assert any("No “p” element in scope but a “p” end tag seen." in e for e in errors), errors
    assert any("An “img” element must have an “alt” attribute" in e for e in errors), errors
    assert any("Duplicate ID “twice”." in e for e in errors), errors
    assert checkers.html_errors(messages["valid"]) == []


def test_axe_reports_violations_on_inaccessible_page(browser):
    reason = checkers.axe_missing_reason()
    if reason:
        pytest.skip(reason)
    context = browser.new_context()
    page = context.new_page()
    page.set_content(INACCESSIBLE_HTML)

    violations = checkers.run_axe(page)
    context.close()

    failing = {v["id"] for v in checkers.failing_violations(violations)}
    assert {"image-alt", "label", "button-name", "color-contrast"} <= failing, violations
    assert "html-has-lang" in {v["id"] for v in violations}


def test_layout_check_reports_sideways_scrolling_and_overlapping_text(browser):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.set_content(BROKEN_LAYOUT_HTML)

    layout = page.evaluate(MEASURE_LAYOUT)
    context.close()

    assert layout["viewport"] == 375
    assert layout["scrollWidth"] > 375
    assert layout["pastEdge"] == ["A line of text that never wraps, so it is wider th"]
    assert layout["overlaps"] == [["First label", "Second label"]]
