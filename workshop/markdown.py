"""Render user-written Markdown to HTML that is safe to show.

Every app renders organiser and speaker text through ``render_markdown`` so that
there is one place that decides which HTML is allowed.
"""

import threading
from functools import lru_cache

import markdown as markdown_lib
import nh3
from django.utils.safestring import mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


# A Markdown instance is costly to build and not thread-safe: one per thread, reset per text.
_local = threading.local()


def _converter():
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown_lib.Markdown(extensions=["extra", "sane_lists"], output_format="html")
        _local.converter = converter
    return converter


# The same bios and abstracts are shown on many pages; converting a long text takes
# milliseconds, so a page listing hundreds of them would spend most of its time here.
@lru_cache(maxsize=512)
def _sanitised_html(text):
    converter = _converter()
    html = converter.reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text):
    """Return sanitised HTML for Markdown ``text``, marked safe for templates."""
    if not text:
        return mark_safe("")
    return mark_safe(_sanitised_html(str(text)))  # noqa: S308 - nh3 has sanitised it
