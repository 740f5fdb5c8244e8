from django import template
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
