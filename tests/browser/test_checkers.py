"""The checkers themselves: each must fail on a page that is broken on purpose."""

import pytest

from tests.browser import checkers

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
