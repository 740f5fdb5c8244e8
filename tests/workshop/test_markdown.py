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


def test_render_markdown_forgets_one_texts_definitions_before_the_next():
    # The converter is reused between texts; "extra" keeps abbreviations and footnotes
    # unless it is reset, so they must not leak into the next text.
    first = render_markdown(
        "The HTML spec[^1].\n\n*[HTML]: Hyper Text Markup Language\n\n[^1]: A note."
    )
    second = render_markdown("Plain HTML here[^1].")

    assert "<abbr" in first and "A note." in first
    assert "<abbr" not in second
    assert "A note." not in second


def test_render_markdown_gives_each_thread_its_own_converter():
    import threading

    texts = [f"Text number **{n}**" for n in range(40)]
    results = {}

    def render(n):
        results[n] = str(render_markdown(texts[n] + " " * (n % 3)))

    threads = [threading.Thread(target=render, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(f"<strong>{n}</strong>" in results[n] for n in range(40))
