"""The site as crawlers, browsers and link previews see it: icon, robots, sitemap, cards."""

import re
import xml.etree.ElementTree as ET
from io import BytesIO
from urllib.robotparser import RobotFileParser

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from tests.factories import PageFactory, SpeakerFactory, TalkFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://workshop.example.org"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def meta(html, attribute, name):
    """Return the content of the page's <meta attribute="name">, or None."""
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    return match.group(1) if match else None


def test_favicon_ico_leads_to_the_static_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    assert "public" in response["Cache-Control"]
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert Image.open(icon).format == "ICO"


def test_pages_link_the_icons(client, workshop):
    html = client.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.ico" sizes="16x16 32x32 48x48">' in html
    assert '<link rel="apple-touch-icon" href="/static/images/apple-touch-icon.png">' in html
    assert finders.find("images/apple-touch-icon.png")
    assert finders.find("images/favicon-32.png")


PUBLIC = [
    "/",
    "/talks/",
    "/talks/a-talk/",
    "/schedule/",
    "/speakers/",
    "/speakers/ada/",
    "/tickets/",
    "/call/",
    "/venue/",
    "/schedule.ics",
    "/sitemap.xml",
]
PRIVATE = [
    "/orders/ABC/secret/",
    "/accounts/login/",
    "/accounts/data/",
    "/organisers/",
    "/organisers/check-in/",
    "/admin/",
    "/admin/tickets/order/",
    "/call/proposals/",
    "/call/proposals/X1/",
    "/call/submit/",
    "/tickets/mine/",
    "/tickets/checkout/",
    "/speakers/me/",
]


def test_robots_txt_allows_public_pages_and_disallows_private_ones(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/robots.txt")
    robots = RobotFileParser()
    robots.parse(response.content.decode().splitlines())

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert [path for path in PUBLIC if not robots.can_fetch("*", path)] == []
    assert [path for path in PRIVATE if robots.can_fetch("*", path)] == []
    assert robots.site_maps() == [f"{SITE_URL}/sitemap.xml"]


def sitemap_locations(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    return [loc.text for loc in root.findall("sm:url/sm:loc", SITEMAP_NS)]


def test_sitemap_lists_the_published_public_pages_at_the_site_address(client, workshop):
    PageFactory(slug="venue", title="Venue")
    PageFactory(slug="draft-page", published=False)
    speaker = SpeakerFactory(slug="ada")
    SpeakerFactory(slug="hidden-speaker", published=False)
    TalkFactory(slug="a-talk", speakers=[speaker])
    TalkFactory(slug="draft-talk", published=False)

    locations = sitemap_locations(client)

    assert locations == [
        f"{SITE_URL}/",
        f"{SITE_URL}/tickets/",
        f"{SITE_URL}/venue/",
        f"{SITE_URL}/talks/",
        f"{SITE_URL}/schedule/",
        f"{SITE_URL}/talks/a-talk/",
        f"{SITE_URL}/speakers/",
        f"{SITE_URL}/speakers/ada/",
    ]


def test_sitemap_gives_when_each_item_last_changed(client, workshop):
    talk = TalkFactory(slug="a-talk")

    body = client.get("/sitemap.xml").content.decode()

    assert (
        f"<loc>{SITE_URL}/talks/a-talk/</loc><lastmod>{talk.updated_at:%Y-%m-%d}</lastmod>" in body
    )


@pytest.mark.parametrize("count", [3, 30])
def test_sitemap_queries_are_constant(client, workshop, django_assert_num_queries, count):
    for _ in range(count):
        PageFactory()
        TalkFactory(speakers=[SpeakerFactory()])

    # Pages, talks, speakers.
    with django_assert_num_queries(3):
        locations = sitemap_locations(client)

    assert len(locations) == 5 + 3 * count


def social_card_pages(workshop):
    speaker = SpeakerFactory(name="Ada Lindqvist", slug="ada", short_bio="Measures *models*.")
    TalkFactory(
        title="Choosing metrics",
        slug="choosing-metrics",
        abstract="How to **choose**.",
        speakers=[speaker],
    )
    return [
        ("/", workshop.title, workshop.tagline or workshop.title),
        ("/talks/choosing-metrics/", "Choosing metrics", "How to choose."),
        ("/speakers/ada/", "Ada Lindqvist", "Measures models."),
    ]


def test_workshop_talk_and_speaker_pages_carry_a_social_card(client, workshop):
    for path, title, description in social_card_pages(workshop):
        html = client.get(path).content.decode()

        assert meta(html, "property", "og:title") == title, path
        assert meta(html, "property", "og:description") == description, path
        assert meta(html, "property", "og:url") == f"{SITE_URL}{path}", path
        assert meta(html, "property", "og:image") == f"{SITE_URL}/static/images/social-card.png"
        assert meta(html, "name", "twitter:card") == "summary_large_image", path
        assert meta(html, "property", "og:image:alt"), path


def test_social_card_image_is_a_png_of_the_size_it_announces(client, workshop):
    html = client.get("/").content.decode()
    with open(finders.find("images/social-card.png"), "rb") as card:
        image = Image.open(BytesIO(card.read()))

    assert image.format == "PNG"
    assert image.size == (
        int(meta(html, "property", "og:image:width")),
        int(meta(html, "property", "og:image:height")),
    )
