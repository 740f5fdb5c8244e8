from django.conf import settings

from workshop.current import current_workshop
from workshop.models import Page


def site(request):
    """Give every template the current workshop and the footer menu pages."""
    return {
        "workshop": current_workshop(request),
        "menu_pages": list(Page.objects.in_menu().only("title", "slug")),
        "site_url": settings.SITE_URL,
    }
