from django.http import Http404
from django.shortcuts import render

from workshop.cache import cache_public_page
from workshop.current import current_workshop
from workshop.models import Page


@cache_public_page()
def home(request):
    """Show the workshop: what it is, when, and where to go next."""
    workshop = current_workshop(request)
    supporters = list(workshop.supporters.all()) if workshop else []
    return render(request, "workshop/home.html", {"supporters": supporters})


# Pages the navigation links to: until an organiser writes them they say "coming soon".
PLACEHOLDER_PAGES = {"resources": "Resources"}


@cache_public_page()
def page_detail(request, slug):
    """Show a published organiser page such as resources or the code of conduct."""
    page = Page.objects.published().filter(slug=slug).first()
    if page is None:
        if slug in PLACEHOLDER_PAGES:
            return coming_soon(request, PLACEHOLDER_PAGES[slug], "Material will be listed here.")
        raise Http404("No such page.")
    return render(request, "workshop/page_detail.html", {"page": page})


def coming_soon(request, title, description=""):
    """Answer a section of the site that a later release fills."""
    context = {"title": title, "description": description}
    return render(request, "workshop/coming_soon.html", context)
