from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.module_loading import import_string
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from workshop import demo
from workshop.cache import cache_public_page
from workshop.calendar import workshop_ics
from workshop.current import current_workshop
from workshop.models import Page


@cache_public_page()
def home(request):
    """Show the workshop: what it is, when, and where to go next."""
    workshop = current_workshop(request)
    supporters = list(workshop.supporters.all()) if workshop else []
    context = {
        "supporters": supporters,
        "ended": workshop is not None and workshop.has_ended(),
        "demo_moved_from": demo.moved_from(workshop),
    }
    return render(request, "workshop/home.html", context)


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


@require_safe
@cache_public_page()
def ics(request):
    """Serve the workshop as one calendar event (the programme is /schedule.ics)."""
    workshop = current_workshop(request)
    if workshop is None:
        raise Http404("No workshop yet.")
    response = HttpResponse(workshop_ics(workshop), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{workshop.slug}.ics"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """Send browsers that ask for /favicon.ico to the icon among the static files."""
    # Not permanent: the static file's address changes with its content in production.
    return redirect(static("favicon.ico"))


@require_safe
@cache_control(public=True, max_age=3600)
def robots_txt(request):
    """Tell crawlers to index the public pages, not the private ones, and where the sitemap is."""
    body = render_to_string(
        "workshop/robots.txt", {"sitemap_url": f"{settings.SITE_URL}/sitemap.xml"}
    )
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@require_safe
@cache_public_page()
def sitemap_xml(request):
    """List the published public pages for search engines (the sections of SITEMAPS)."""
    urls = []
    for path in settings.SITEMAPS.values():
        urls.extend(import_string(path)().get_urls())
    body = render_to_string("sitemap.xml", {"urlset": urls})  # no request: no header, no menu
    return HttpResponse(body, content_type="application/xml")
