"""The speakers' part of /sitemap.xml: the speaker list and each published speaker."""

from speakers.models import Speaker
from workshop.sitemaps import SectionSitemap, SiteSitemap


class SpeakerListSitemap(SectionSitemap):
    url_names = ("speakers:list",)


class SpeakerSitemap(SiteSitemap):
    """Each published speaker's page."""

    def items(self):
        return list(Speaker.objects.published().only("slug", "updated_at").order_by("slug"))

    def lastmod(self, speaker):
        return speaker.updated_at
