"""The workshop's part of /sitemap.xml: the home page and the published organiser pages.

Each app lists its own public pages in its ``sitemaps.py``; ``settings.SITEMAPS`` names them.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from workshop.models import Page


class SiteSitemap(Sitemap):
    """A sitemap whose addresses start with SITE_URL, as every other public link does.

    Django would take the domain from the sites framework's row (``example.com`` until someone
    edits it); the site's address is configured once, in SITE_URL. Items are given as lists,
    so that the paginator counts them without a query of its own.
    """

    @property
    def protocol(self):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class SectionSitemap(SiteSitemap):
    """Sections of the site at fixed addresses, named by URL name."""

    url_names = ()

    def items(self):
        return list(self.url_names)

    def location(self, item):
        return reverse(item)


class WorkshopSitemap(SectionSitemap):
    """The home page and the tickets page."""

    url_names = ("workshop:home", "tickets:ticket_list")
    priority = 1.0


class PageSitemap(SiteSitemap):
    """The published organiser pages (resources, code of conduct...)."""

    def items(self):
        return list(Page.objects.published().only("slug", "updated_at").order_by("slug"))

    def lastmod(self, page):
        return page.updated_at
