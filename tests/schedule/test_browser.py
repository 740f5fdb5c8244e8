"""Real-browser checks of the schedule: the zone suggestion, the form without JavaScript, phones."""

import os

import pytest
from django.utils import timezone

from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import RoomFactory, SlotFactory, SpeakerFactory, TalkFactory, WorkshopFactory
from tests.schedule.conftest import at

# Playwright's sync API keeps an event loop in the test thread; the ORM calls between browser
# steps are not async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}; browser tests skipped")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def schedule_data(transactional_db):
    workshop = WorkshopFactory()
    room = RoomFactory(name="Main stage")
    other = RoomFactory(name="A stage with a rather long name for a phone")
    speaker = SpeakerFactory(name="Ada Lindqvist")
    SlotFactory(
        workshop=workshop,
        room=None,
        talk=None,
        title="Welcome",
        start=at(workshop, 13),
        end=at(workshop, 13, 10),
    )
    for index, stage in enumerate([room, other]):
        SlotFactory(
            workshop=workshop,
            room=stage,
            talk=TalkFactory(
                title=f"A long talk title about reproducible pipelines number {index}",
                slug=f"long-{index}",
                speakers=[speaker] if index == 0 else [],
            ),
            start=at(workshop, 13, 10),
            end=at(workshop, 13, 40),
        )
    return workshop


def open_page(chromium, live_server, **options):
    context = chromium.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def test_browser_zone_is_offered_not_forced(chromium, live_server, schedule_data):
    context, page = open_page(chromium, live_server, timezone_id="Pacific/Kiritimati")

    page.goto("/schedule/")
    suggestion = page.get_by_role("link", name="Show times in your time zone (Pacific/Kiritimati)")
    shown_first = page.locator(".zone-current").inner_text()
    suggestion.click()
    page.wait_for_url("**/schedule/?tz=Pacific%2FKiritimati")
    shown_after = page.locator(".zone-current").inner_text()
    page.goto("/talks/")
    on_talks = page.locator(".zone-current").inner_text()
    context.close()

    assert shown_first == "Times are shown in UTC (UTC+00:00), the event's time zone."
    assert shown_after == "Times are shown in Pacific/Kiritimati (UTC+14:00)."
    assert on_talks == shown_after


def test_zone_form_works_without_javascript(chromium, live_server, schedule_data):
    context, page = open_page(chromium, live_server, java_script_enabled=False)

    page.goto("/schedule/")
    hidden = page.locator(".zone-suggest").is_hidden()
    page.get_by_label("Show times in").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Show times").click()
    page.wait_for_url("**/schedule/?tz=Asia%2FTokyo")
    shown = page.locator(".zone-current").inner_text()
    first_row = page.locator("tbody th").first.inner_text()
    context.close()

    assert hidden
    assert shown == "Times are shown in Asia/Tokyo (UTC+09:00)."
    assert first_row == "22:00"


@pytest.mark.parametrize("path", ["/schedule/", "/talks/", "/talks/long-0/"])
def test_pages_fit_a_phone_without_sideways_scrolling(chromium, live_server, schedule_data, path):
    context, page = open_page(chromium, live_server, viewport={"width": 375, "height": 800})

    page.goto(path)
    page_width = page.evaluate("document.documentElement.scrollWidth")
    context.close()

    assert page_width == 375


def shot(page, name):
    path = ARTIFACTS / "schedule" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_phone_gets_a_list_by_time_naming_each_room(
    chromium, live_server, schedule_data, javascript
):
    context, page = open_page(
        chromium,
        live_server,
        viewport={"width": 375, "height": 800},
        java_script_enabled=javascript,
    )

    page.goto("/schedule/")
    grid_shown = page.locator(".schedule-grid").is_visible()
    times = page.locator(".list-time h3").all_inner_texts()
    rooms = page.locator(".list-slot .slot-room").all_inner_texts()
    titles = page.locator(".list-slot .slot-title").all_inner_texts()
    shot(page, f"list-375-{'js' if javascript else 'nojs'}")
    context.close()

    assert grid_shown is False
    assert times == ["13:00", "13:10"]
    assert rooms == ["All rooms", "Main stage", "A stage with a rather long name for a phone"]
    assert titles == [
        "Welcome",
        "A long talk title about reproducible pipelines number 0",
        "A long talk title about reproducible pipelines number 1",
    ]


def test_desktop_keeps_the_grid(chromium, live_server, schedule_data):
    context, page = open_page(chromium, live_server, viewport={"width": 1280, "height": 800})

    page.goto("/schedule/")
    grid_shown = page.locator(".schedule-grid").is_visible()
    list_shown = page.locator(".schedule-list").is_visible()
    shot(page, "grid-1280")
    context.close()

    assert grid_shown is True
    assert list_shown is False


def test_browser_clock_moves_the_on_now_mark(chromium, live_server, schedule_data):
    context, page = open_page(chromium, live_server, viewport={"width": 375, "height": 800})
    # The page is rendered long before the workshop (nothing on); the browser's clock says
    # the first talks are running.
    page.clock.install(time=at(schedule_data, 13, 20))

    page.goto("/schedule/")
    marked = page.locator(".list-slot.is-now .slot-title").all_inner_texts()
    badges = page.locator(".schedule-list .now-badge").count()
    page.clock.run_for(25 * 60 * 1000)  # 13:45: they have ended
    marked_later = page.locator(".list-slot.is-now").count()
    badges_later = page.locator(".now-badge").count()
    context.close()

    assert marked == [
        "A long talk title about reproducible pipelines number 0",
        "A long talk title about reproducible pipelines number 1",
    ]
    assert badges == 2
    assert marked_later == badges_later == 0


def test_without_javascript_the_server_marks_what_is_on(
    chromium, live_server, schedule_data, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: at(schedule_data, 13, 5))
    context, page = open_page(
        chromium, live_server, viewport={"width": 375, "height": 800}, java_script_enabled=False
    )

    page.goto("/schedule/")
    marked = page.locator(".list-slot.is-now .slot-title").all_inner_texts()
    badge = page.locator(".list-slot.is-now .now-badge").inner_text()
    shot(page, "list-375-now-nojs")
    context.close()

    assert marked == ["Welcome"]
    assert badge == "On now"
