from urllib.parse import urljoin, urlsplit

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import strip_tags
from django.utils.text import Truncator

from workshop.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text):
    """Render Markdown to sanitised HTML."""
    return render_markdown(text)


@register.filter
def plain_summary(text, words=30):
    """Return the first words of Markdown ``text`` as plain text (for meta tags)."""
    return Truncator(strip_tags(render_markdown(text))).words(words)


@register.simple_tag
def absolute_static(path):
    """Return the full address of a static file, as link previews need (SITE_URL based)."""
    return urljoin(f"{settings.SITE_URL}/", static(path))


@register.filter
def webcal(path):
    """Return the webcal: address of the calendar at ``path``: calendar apps subscribe to it."""
    return f"webcal://{urlsplit(settings.SITE_URL).netloc}{path}"
