"""A workshop that has ended, as visitors see it: a record of its talks, and no ticket sales."""

import datetime as dt

import pytest
from django.db.models import F

from schedule.models import Slot, Talk
from tests.browser import checkers
from tests.browser.conftest import ARTIFACTS
from tests.browser.layout import MEASURE_LAYOUT
from workshop.models import Workshop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [375, 1280]
HELD = dt.datetime(2022, 12, 2, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def held(demo):
    """The demo workshop moved back to the day it took place; one talk has slides and a video."""
    shift = HELD - demo.starts_at
    Workshop.objects.filter(pk=demo.pk).update(starts_at=HELD, ends_at=demo.ends_at + shift)
    Slot.objects.filter(workshop=demo).update(start=F("start") + shift, end=F("end") + shift)
    Talk.objects.filter(slug="choosing-metrics-that-matter").update(
        slides_url="https://example.org/slides.pdf", video_url="https://example.org/video"
    )
    return demo


def test_home_of_a_held_workshop_is_its_record(page, held):
    page.goto("/")

    hero = page.locator(".hero").inner_text()
    record = page.locator(".record")
    slides = record.get_by_role("link", name="Slides of “Choosing metrics that matter”")
    assert "Took place on Friday 2 December 2022" in hero
    assert page.get_by_role("link", name="Get your ticket").count() == 0
    assert record.get_by_role("link").first.inner_text() == "Choosing metrics that matter"
    assert slides.get_attribute("href") == "https://example.org/slides.pdf"
    check(page, "home")
    page.get_by_role("link", name="Tickets", exact=True).first.click()

    page.wait_for_url("**/tickets/")
    assert "Ticket sales have closed: the workshop took place on 2 December 2022." in (
        page.locator("main").inner_text()
    )
    assert page.get_by_role("button", name="Continue").count() == 0
    check(page, "tickets")


def check(page, name):
    """Screenshot at each width, then fail on overflow, invalid HTML or axe violations."""
    html = page.request.get(page.url).text()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = ARTIFACTS / "ended" / f"{name}-{width}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        layout = page.evaluate(MEASURE_LAYOUT)
        assert layout["scrollWidth"] <= width, f"{name} scrolls sideways at {width}px"
        assert layout["pastEdge"] == [], f"{name}: text past the edge at {width}px"
        checkers.assert_accessible(page)
    if checkers.vnu_missing_reason() is None:
        errors = checkers.html_errors(checkers.validate_html({name: html})[name])
        assert errors == [], checkers.describe_html_messages(errors)
