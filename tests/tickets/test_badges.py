"""Printable name badges for the tickets the admin list shows or the organiser selected."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from lxml import html as lxml_html

from tests.browser import checkers
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, UserFactory
from tickets.models import Order

pytestmark = pytest.mark.django_db

BADGES = "/admin/tickets/ticket/badges/"
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"


def badges(response):
    """Return (event, name, ticket type) of each badge, sheet by sheet."""
    tree = lxml_html.fromstring(response.content)
    return [
        [
            tuple(
                badge.find_class(part)[0].text_content()
                for part in ("badge-event", "badge-name", "badge-type")
            )
            for badge in sheet.find_class("badge")
        ]
        for sheet in tree.find_class("sheet")
    ]


@pytest.fixture
def tickets(workshop):
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    speaker = TicketTypeFactory(workshop=workshop, name="Speaker", price="0.00")
    paid = OrderFactory(workshop=workshop)
    TicketFactory(order=paid, ticket_type=regular, attendee_name="Grace Hopper")
    TicketFactory(order=paid, ticket_type=speaker, attendee_name="Ada <b>Lovelace</b>")
    unpaid = OrderFactory(workshop=workshop, status=Order.Status.PENDING)
    TicketFactory(order=unpaid, ticket_type=regular, attendee_name="Linus Unpaid")
    cancelled = OrderFactory(workshop=workshop, status=Order.Status.CANCELLED)
    TicketFactory(order=cancelled, ticket_type=regular, attendee_name="Cy Cancelled")
    return {"regular": regular, "speaker": speaker}


def test_badges_show_name_type_and_workshop_of_paid_tickets(organiser_client, workshop, tickets):
    response = organiser_client.get(BADGES)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert badges(response) == [
        [
            (workshop.title, "Grace Hopper", "Regular"),
            (workshop.title, "Ada <b>Lovelace</b>", "Speaker"),
        ]
    ]
    page = response.content.decode()
    assert "<b>Lovelace" not in page
    assert "2 selected tickets are left out: their orders are not paid." in page
    assert '<link rel="stylesheet" href="/static/css/badges.css">' in page
    assert "style=" not in page


def test_badges_honour_the_lists_filters_and_search(organiser_client, tickets):
    filtered = organiser_client.get(BADGES, {"ticket_type__id__exact": tickets["speaker"].pk})
    searched = organiser_client.get(BADGES, {"q": "grace"})

    assert [name for _, name, _ in badges(filtered)[0]] == ["Ada <b>Lovelace</b>"]
    assert [name for _, name, _ in badges(searched)[0]] == ["Grace Hopper"]
    assert b"left out" not in searched.content


def test_badges_action_prints_only_the_selected_tickets(organiser_client, tickets):
    grace = TicketFactory._meta.model.objects.get(attendee_name="Grace Hopper")

    response = organiser_client.post(
        "/admin/tickets/ticket/", {"action": "print_badges", "_selected_action": [grace.pk]}
    )

    assert [name for _, name, _ in badges(response)[0]] == ["Grace Hopper"]


def test_badges_come_eight_to_a_sheet(organiser_client, workshop):
    order = OrderFactory(workshop=workshop)
    for n in range(11):
        TicketFactory(order=order, attendee_name=f"Person {n:02d}")

    sheets = badges(organiser_client.get(BADGES))

    assert [len(sheet) for sheet in sheets] == [8, 3]
    assert sheets[1][-1][1] == "Person 10"


def test_badges_with_nothing_to_print_say_so(organiser_client, tickets):
    response = organiser_client.get(BADGES, {"q": "nobody"})

    assert response.status_code == 200
    assert badges(response) == []
    assert (
        "No tickets of paid orders match: there is nothing to print." in response.content.decode()
    )


def test_badges_with_a_broken_filter_say_so(organiser_client, tickets):
    response = organiser_client.get(BADGES, {"nonsense__exact": "1"})

    assert response.status_code == 400


def test_ticket_list_links_to_badges_with_its_filters(organiser_client, tickets):
    html = organiser_client.get("/admin/tickets/ticket/", {"order__status__exact": "paid"})

    assert f'<a href="{BADGES}?order__status__exact=paid">Name badges</a>' in html.content.decode()


def test_badges_permissions(client, tickets):
    anonymous = client.get(BADGES)
    client.force_login(UserFactory(username="someone"))
    non_staff = client.get(BADGES)
    staff = UserFactory(username="helper", is_staff=True)
    client.force_login(staff)
    without_permission = client.get(BADGES)
    staff.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(staff)
    with_permission = client.get(BADGES)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/?next=/admin/tickets/ticket/badges/")
    assert non_staff.status_code == 302
    assert b"Grace" not in non_staff.content
    assert without_permission.status_code == 403
    assert with_permission.status_code == 200


@pytest.mark.parametrize("count", [1, 20])
def test_badges_query_count_is_constant(
    organiser_client, workshop, django_assert_num_queries, count
):
    ticket_type = TicketTypeFactory(workshop=workshop)
    for _ in range(count):
        TicketFactory(order=OrderFactory(workshop=workshop), ticket_type=ticket_type)

    # Session, user, ticket type choices, two counts (the list's own), the tickets, and the
    # site's context processors (workshop, menu pages).
    with django_assert_num_queries(8):
        response = organiser_client.get(BADGES)

    assert sum(len(sheet) for sheet in badges(response)) == count


@pytest.mark.browser
def test_badges_page_is_valid_html(organiser_client, tickets):
    if reason := checkers.vnu_missing_reason():
        pytest.skip(reason)
    documents = {
        "badges": organiser_client.get(BADGES).content.decode(),
        "badges-empty": organiser_client.get(BADGES, {"q": "nobody"}).content.decode(),
    }

    messages = checkers.validate_html(documents)

    for name, found in messages.items():
        assert checkers.html_errors(found) == [], f"{name}:\n" + checkers.describe_html_messages(
            found
        )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_badges_are_accessible_and_print_on_a4_sheets_in_chromium(live_server, client, workshop):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    order = OrderFactory(workshop=workshop)
    names = ["Grace Hopper", "Ada Lovelace", "Émile Ünal", "Srinivasa Ramanujan-Iyengar-Aiyangar"]
    for n in range(9):
        TicketFactory(order=order, attendee_name=names[n % len(names)])
    client.force_login(UserFactory(username="organiser", is_staff=True, is_superuser=True))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}{BADGES}")
        checkers.assert_accessible(page)
        page.emulate_media(media="print")
        page.screenshot(path=ARTIFACTS / "badges-print.png", full_page=True)
        intro_shown = page.locator(".badges-intro").is_visible()
        sheet = page.locator(".sheet").first.bounding_box()
        badge = page.locator(".badge").first.bounding_box()
        last_sheet = page.locator(".sheet").last.bounding_box()
        last_badge = page.locator(".badge").last.bounding_box()
        pdf = page.pdf(prefer_css_page_size=True)
        browser.close()

    assert not intro_shown
    # 96 CSS pixels to the inch: 210 x 297 mm sheets, 90 x 55 mm badges.
    assert (round(sheet["width"] * 25.4 / 96), round(sheet["height"] * 25.4 / 96)) == (210, 297)
    assert (round(badge["width"] * 25.4 / 96), round(badge["height"] * 25.4 / 96)) == (90, 55)
    # The part-filled last sheet starts its badges where the full first one does.
    first_offset = (badge["x"] - sheet["x"], badge["y"] - sheet["y"])
    assert (last_badge["x"] - last_sheet["x"], last_badge["y"] - last_sheet["y"]) == first_offset
    assert round(first_offset[1] * 25.4 / 96, 1) == 38.5
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2
