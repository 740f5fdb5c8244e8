"""The site header on a phone and a desktop: a compact menu that works without JavaScript."""

import pytest
from django.conf import settings

from tests.browser.conftest import ARTIFACTS
from tests.browser.keyboard import focused, tab_to
from tests.factories import WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
MAIN_LINKS = ["Talks", "Speakers", "Schedule", "Resources", "Tickets"]


@pytest.fixture
def site(transactional_db):
    """A workshop with the demo's long title, which wraps on a phone."""
    return WorkshopFactory()


def header_height(page):
    return page.locator(".site-header").bounding_box()["height"]


def shot(page, name):
    path = ARTIFACTS / "header" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_phone_header_is_compact_and_its_menu_opens(browser, live_server, site, javascript):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto("/")
    closed_height = header_height(page)
    hidden = [page.get_by_role("link", name=name, exact=True).is_visible() for name in MAIN_LINKS]
    shot(page, f"phone-closed-{'js' if javascript else 'nojs'}")

    page.get_by_text("Menu", exact=True).click()
    shown = [page.get_by_role("link", name=name, exact=True).is_visible() for name in MAIN_LINKS]
    sign_in = page.get_by_role("link", name="Sign in").is_visible()
    shot(page, f"phone-open-{'js' if javascript else 'nojs'}")
    page.get_by_role("link", name="Schedule", exact=True).click()
    page.wait_for_url("**/schedule/")
    context.close()

    assert closed_height < 110, f"the header is {closed_height}px tall on a phone"
    assert hidden == [False] * len(MAIN_LINKS)
    assert shown == [True] * len(MAIN_LINKS)
    assert sign_in


def test_phone_menu_works_with_the_keyboard(browser, live_server, site):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    page.goto("/")

    menu = tab_to(page, text="Menu")
    page.keyboard.press("Enter")
    expanded = page.locator(".site-menu").evaluate("details => details.open")
    talks = tab_to(page, text="Talks", limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url("**/talks/")
    after = focused(page)
    context.close()

    assert menu["tag"] == "summary"
    assert expanded is True
    assert talks["href"] == "/talks/"
    assert after is None or after["text"] != "Talks"


def test_desktop_header_shows_every_link_without_a_menu_button(browser, live_server, site):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = context.new_page()
    page.goto("/")
    shot(page, "desktop")

    visible = [page.get_by_role("link", name=name, exact=True).is_visible() for name in MAIN_LINKS]
    button = page.get_by_text("Menu", exact=True).is_visible()
    height = header_height(page)
    page.get_by_role("link", name="Speakers", exact=True).click()
    page.wait_for_url("**/speakers/")
    context.close()

    assert visible == [True] * len(MAIN_LINKS)
    assert button is False
    assert height < 80, f"the header is {height}px tall on a desktop"


ACCOUNT_LINKS = ["My tickets", "My speaker profile", "Organisers", "Account"]


@pytest.fixture
def staff_speaker(site):
    """A staff member who also speaks: the header's longest set of links."""
    from tests.factories import SpeakerFactory, UserFactory

    user = UserFactory(is_staff=True, is_superuser=True)
    SpeakerFactory(user=user)
    return user


def signed_in_context(browser, live_server, user, viewport):
    from tests.browser.audit import session_cookie

    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session_cookie(user),
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.mark.parametrize("width", [375, 1280])
def test_signed_in_header_links_reach_their_pages(browser, live_server, staff_speaker, width):
    viewport = PHONE if width == 375 else DESKTOP
    context = signed_in_context(browser, live_server, staff_speaker, viewport)
    page = context.new_page()
    page.goto("/")
    if width == 375:
        page.get_by_text("Menu", exact=True).click()
    visible = [
        page.get_by_role("link", name=name, exact=True).is_visible() for name in ACCOUNT_LINKS
    ]
    height = header_height(page)
    shot(page, f"signed-in-{width}")
    arrived = {}
    for name, path in [
        ("My tickets", "/tickets/mine/"),
        ("My speaker profile", "/speakers/me/"),
        ("Organisers", "/organisers/"),
    ]:
        page.goto("/")
        if width == 375:
            page.get_by_text("Menu", exact=True).click()
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"**{path}")
        arrived[name] = page.get_by_role("heading", level=1).first.inner_text()
    context.close()

    assert visible == [True] * len(ACCOUNT_LINKS)
    assert arrived["My tickets"] == "My tickets"
    assert arrived["My speaker profile"] == "My speaker profile"
    assert arrived["Organisers"]
    if width == 1280:
        assert height < 130, f"the signed-in header is {height}px tall on a desktop"
