from django import template
from django.utils.html import format_html

from workshop.models import Page

register = template.Library()

PRIVACY_PAGE_SLUG = "privacy"


@register.simple_tag(takes_context=True)
def privacy_link(context):
    """Link the published privacy page under a form that collects personal data, if there is one."""
    request = context.get("request")
    page = getattr(request, "_privacy_page", None) if request is not None else None
    if page is None:
        page = Page.objects.published().filter(slug=PRIVACY_PAGE_SLUG).only("title", "slug").first()
        if request is not None:
            # Remember "none" too, so that a page with two forms asks once.
            request._privacy_page = page or False
    if not page:
        return ""
    return format_html(
        '<p class="privacy-note">How we use your data: <a href="{}">{}</a>.</p>',
        page.get_absolute_url(),
        page.title,
    )
