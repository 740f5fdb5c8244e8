import pytest

from workshop.markdown import render_markdown


def test_markdown_renders_formatting_and_links():
    html = render_markdown("**bold** and [a link](https://example.org)")

    assert html == (
        '<p><strong>bold</strong> and <a href="https://example.org" '
        'rel="noopener noreferrer nofollow">a link</a></p>'
    )


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<div style="position:fixed">x</div>', "style="),
        ('<p onclick="steal()">hi</p>', "onclick"),
        ('<svg><g onload="alert(1)"></g></svg>', "onload"),
        ('<form action="https://evil.example"><input name="password"></form>', "<form"),
    ],
)
def test_markdown_strips_dangerous_html(source, forbidden):
    html = render_markdown(source)

    assert forbidden not in html.lower()


def test_markdown_keeps_text_of_raw_html():
    html = render_markdown("<div>kept text</div>")

    assert "kept text" in html
    assert "<div" not in html


def test_markdown_allows_images_with_alt():
    html = render_markdown('![A logo](/static/logo.png "Logo")')

    assert html == '<p><img alt="A logo" src="/static/logo.png" title="Logo"></p>'


def test_markdown_empty_is_empty():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
