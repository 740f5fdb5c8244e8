"""An organiser in a real browser places a talk whose speaker is busy: the clash is shown."""

import os

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from schedule.models import Slot, Talk
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import (
    OrganiserFactory,
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    WorkshopFactory,
)
from tests.schedule.conftest import at
from workshop.roles import PROGRAMME

# Playwright's sync API runs an event loop in the test thread; the ORM calls between
# browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLASH = "Ada Lindqvist also speaks in “Choosing metrics (Mon 2 Dec 13:10–13:40 UTC, Main stage)”"


@pytest.fixture
def page(live_server):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        organiser = OrganiserFactory(role=PROGRAMME)
        client = Client()
        client.force_login(organiser)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        yield context.new_page()
        browser.close()


@pytest.fixture
def busy_speaker():
    """Ada gives the keynote on the main stage at 13:10; the hands-on stage is free then."""
    workshop = WorkshopFactory()
    speaker = SpeakerFactory(name="Ada Lindqvist")
    SlotFactory(
        workshop=workshop,
        room=RoomFactory(name="Main stage", position=1),
        talk=TalkFactory(title="Choosing metrics", speakers=[speaker]),
        start=at(workshop, 13, 10),
        end=at(workshop, 13, 40),
    )
    RoomFactory(name="Hands-on stage", position=2)
    return workshop, speaker


def add_slot_row(page):
    """Ask Django's inline script for a slot row and wait for it.

    On a loaded CI machine the first click once came and went without a row (the select2
    dropdown was still closing over the button), so a click that adds nothing is repeated;
    a second empty row would be ignored by the formset.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    button = page.get_by_role("button", name="Add another Place in the schedule")
    row = page.locator("#id_slot-0-start_0")
    for _ in range(3):
        button.click()
        try:
            row.wait_for(state="visible", timeout=5_000)
            return
        except PlaywrightTimeoutError:
            continue
    page.screenshot(path=str(ARTIFACTS / "admin" / "slot-row-missing.png"), full_page=True)
    raise AssertionError("clicking 'Add another Place in the schedule' added no slot row")


def fill_slot(page, start, end):
    page.locator("#id_slot-0-start_0").fill("2030-12-02")
    page.locator("#id_slot-0-start_1").fill(start)
    page.locator("#id_slot-0-end_0").fill("2030-12-02")
    page.locator("#id_slot-0-end_1").fill(end)


def shows_error(page, name, text):
    """Assert that the page shows ``text`` as an error the organiser can see; keep screenshots."""
    error = page.locator(".errorlist li", has_text=text)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        error.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "admin" / f"{name}-{width}.png"), full_page=True)
        assert error.is_visible(), f"the error {text!r} is not visible at {width}px"


def test_adding_a_talk_with_its_slot_shows_the_speakers_clash(page, busy_speaker):
    workshop, speaker = busy_speaker
    (ARTIFACTS / "admin").mkdir(parents=True, exist_ok=True)
    page.goto("/admin/schedule/talk/add/")
    page.get_by_label("Title:", exact=True).fill("Second talk by Ada")
    page.locator(".field-speakers .select2-selection").click()
    page.locator(".select2-search__field").fill("Ada")
    page.get_by_role("option", name="Ada Lindqvist").click()
    page.keyboard.press("Escape")
    # The form must carry the speaker before it is saved: without her there is no clash to show.
    expect(page.locator("#id_speakers option:checked")).to_have_text(["Ada Lindqvist"])
    add_slot_row(page)
    fill_slot(page, "13:10", "13:40")
    page.locator("#id_slot-0-room").select_option(label="Hands-on stage")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errornote")).to_have_text("Please correct the error below.")
    shows_error(page, "talk-add-speaker-clash", CLASH)
    assert not Talk.objects.filter(title="Second talk by Ada").exists()


def test_moving_a_talk_into_its_speakers_other_talk_shows_the_clash(page, busy_speaker):
    (ARTIFACTS / "admin").mkdir(parents=True, exist_ok=True)
    workshop, speaker = busy_speaker
    talk = TalkFactory(title="Afternoon session", speakers=[speaker])
    slot = SlotFactory(
        workshop=workshop,
        room=RoomFactory(name="Third stage", position=3),
        talk=talk,
        start=at(workshop, 15),
        end=at(workshop, 15, 30),
    )

    page.goto(f"/admin/schedule/talk/{talk.pk}/change/")
    fill_slot(page, "13:20", "13:50")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errornote")).to_have_text("Please correct the error below.")
    shows_error(page, "talk-move-speaker-clash", CLASH)
    slot.refresh_from_db()
    assert slot.start == at(workshop, 15)
    assert Slot.objects.count() == 2
