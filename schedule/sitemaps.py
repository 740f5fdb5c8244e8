"""The programme's part of /sitemap.xml: the talk list, the schedule and each published talk."""

from schedule.models import Talk
from workshop.sitemaps import SectionSitemap, SiteSitemap


class ProgrammeSitemap(SectionSitemap):
    """The talk list and the schedule."""

    url_names = ("schedule:talk_list", "schedule:schedule")


class TalkSitemap(SiteSitemap):
    """Each published talk's page."""

    def items(self):
        return list(Talk.objects.published().only("slug", "updated_at").order_by("slug"))

    def lastmod(self, talk):
        return talk.updated_at
