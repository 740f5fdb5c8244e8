"""Journeys that matter, walked in Chromium against the live server with the demo content."""

import copy
import re

import pytest

from tests.browser.checkers import assert_accessible
from tests.browser.conftest import ARTIFACTS
from tests.browser.keyboard import focused, tab_to
from tickets.models import Order
from tickets.stripe_standin import StripeStandIn
from workshop.models import Workshop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_TALK = "Choosing metrics that matter"
FIRST_SPEAKER = "Ada Lindqvist"
ORDER_PAGE = re.compile(r".*/orders/[^/]+/[^/]+/(\?.*)?$")


@pytest.fixture
def stripe_standin(settings, live_server):
    """Point the site at a local Stripe stand-in whose webhooks reach the live server."""
    with StripeStandIn(webhook_url=f"{live_server.url}/tickets/stripe/webhook/") as standin:
        settings.STRIPE_SECRET_KEY = standin.api_key
        settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.SITE_URL = live_server.url
        # The checkout form redirects to the stand-in's payment page, not checkout.stripe.com.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"].append(standin.url)
        settings.CONTENT_SECURITY_POLICY = policy
        yield standin


@pytest.mark.parametrize("context_options", [{"timezone_id": "Asia/Tokyo"}], ids=["tokyo"])
def test_visitor_reads_schedule_in_own_time_zone_then_talk_and_speaker(page):
    page.goto("/")
    assert page.locator("h1").inner_text() == (
        "Real-world Perspectives in Machine Learning for Science"
    )

    page.get_by_role("link", name="See the schedule").click()
    page.wait_for_url("**/schedule/")
    first_slot = page.locator("td.slot", has_text=FIRST_TALK)
    assert first_slot.locator(".slot-time").inner_text() == "13:10–13:40"
    page.get_by_role("link", name="Show times in your time zone (Asia/Tokyo)").click()

    page.wait_for_url("**/schedule/?tz=Asia%2FTokyo")
    assert "Asia/Tokyo (UTC+09:00)" in page.locator(".zone-current").inner_text()
    assert first_slot.locator(".slot-time").inner_text() == "22:10–22:40"
    assert_accessible(page)
    first_slot.get_by_role("link", name=FIRST_TALK).click()
    page.wait_for_url("**/talks/**")
    assert page.locator("h1").inner_text() == FIRST_TALK
    # The choice is remembered from page to page.
    day = Workshop.objects.get().starts_at  # the demo holds the workshop a few weeks ahead
    assert page.locator(".talk-when").inner_text().startswith(f"{day:%a %-d %b %Y}, 22:10–22:40")
    speaker_link = page.locator(".talk-speakers").get_by_role("link", name=FIRST_SPEAKER)
    href = speaker_link.get_attribute("href")
    speaker_link.click()

    page.wait_for_url(f"**{href}")
    assert page.locator("h1").inner_text().startswith(FIRST_SPEAKER)  # pronouns may follow
    assert page.locator("main").get_by_role("link", name=FIRST_TALK).count() == 1


def test_keyboard_user_skips_to_content_and_uses_main_navigation(page):
    page.goto("/")

    page.keyboard.press("Tab")
    skip = focused(page)
    assert (skip["text"], skip["href"]) == ("Skip to content", "#content")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "content"

    page.goto("/")
    for label, path in [("Talks", "/talks/"), ("Schedule", "/schedule/"), ("Tickets", "/tickets/")]:
        tab_to(page, text=label)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**{path}")
        assert page.locator("h1").inner_text() == label
        assert page.locator("nav[aria-label=Main] a[aria-current=page]").inner_text() == label


def test_keyboard_user_changes_time_zone_and_opens_a_talk(page):
    page.goto("/schedule/")

    tab_to(page, element_id="tz-select")
    page.keyboard.type("Europe/Berlin")
    tab_to(page, text="Show times")
    page.keyboard.press("Enter")

    page.wait_for_url("**/schedule/?tz=Europe%2FBerlin")
    slot = page.locator("td.slot", has_text=FIRST_TALK)
    assert slot.locator(".slot-time").inner_text() == "14:10–14:40"
    tab_to(page, text=FIRST_TALK)
    page.keyboard.press("Enter")
    page.wait_for_url("**/talks/**")
    assert page.locator("h1").inner_text() == FIRST_TALK


def test_keyboard_user_orders_a_free_ticket(page, mailoutbox):
    page.goto("/tickets/")

    tab_to(page, element_id=page.get_attribute("select[name^=qty_]:visible >> nth=0", "id"))
    page.keyboard.press("ArrowDown")
    tab_to(page, text="Continue")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tickets/checkout/**")
    for field, value in [
        ("id_buyer_name", "Ada Keyboard"),
        ("id_buyer_email", "ada.keyboard@example.org"),
        ("id_attendee_1_name", "Ada Keyboard"),
        ("id_attendee_1_email", "ada.keyboard@example.org"),
    ]:
        tab_to(page, element_id=field)
        page.keyboard.type(value)
    tab_to(page, element_id="id_accept_code_of_conduct")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")

    page.wait_for_url(ORDER_PAGE)
    assert page.locator(".order-status").inner_text() == "Status: Confirmed"
    assert page.locator("svg.qr").count() == 1
    assert [m.to for m in mailoutbox] == [["ada.keyboard@example.org"]]


def test_buyer_pays_for_a_free_and_a_paid_ticket_and_gets_them(page, stripe_standin, mailoutbox):
    page.goto("/tickets/")
    page.get_by_label("Number of “Community ticket” tickets").select_option("1")
    page.get_by_label("Number of “Supporter ticket” tickets").select_option("1")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/tickets/checkout/**")
    assert page.locator(".order-total").inner_text() == "25.00 EUR"
    page.get_by_role("button", name="Order and pay").click()
    # Sent empty: the errors stand next to their fields, and the page stays accessible.
    buyer_name = page.locator(".field", has=page.locator("#id_buyer_name"))
    assert buyer_name.locator(".errorlist").inner_text() == "This field is required."
    assert_accessible(page)
    page.get_by_label("Your name").fill("Ada Buyer")
    page.get_by_label("Your e-mail address").fill("ada.buyer@example.org")
    for n, name in [(1, "Ada Buyer"), (2, "Kai Guest")]:
        page.fill(f"#id_attendee_{n}_name", name)
        page.fill(f"#id_attendee_{n}_email", f"{name.split()[0].lower()}@example.org")
    # Card is the only way to pay for this mix, so the form does not ask; it says so.
    assert page.locator("input[name=payment_method]").count() == 0
    assert page.locator(".payment-method").all_inner_texts() == [
        "Payment: Card (local test payment page: no money moves)"
    ]
    page.get_by_label("I accept the code of conduct and the privacy notice.").check()
    page.get_by_role("button", name="Order and pay").click()
    page.wait_for_url(f"{stripe_standin.url}/pay/*")
    assert page.locator("h1").inner_text() == "Pay 25.00 EUR"
    page.locator("#pay").click()
    page.wait_for_url(ORDER_PAGE)

    assert page.locator(".order-status").inner_text() == "Status: Paid"
    assert page.locator(".ticket h3").all_inner_texts() == [
        "Community ticket: Ada Buyer",
        "Supporter ticket: Kai Guest",
    ]
    assert page.locator("svg.qr").count() == 2
    assert page.get_by_role("heading", name="How to join").is_visible()
    order = Order.objects.get()
    assert (order.status, order.total, order.buyer_email) == (
        Order.Status.PAID,
        25,
        "ada.buyer@example.org",
    )
    assert [d[1:] for d in stripe_standin.deliveries] == [("checkout.session.completed", 200)]
    email, *attendee_mail = mailoutbox
    assert email.to == ["ada.buyer@example.org"]
    # Each attendee named with another address gets their own ticket.
    assert sorted(m.to[0] for m in attendee_mail) == ["ada@example.org", "kai@example.org"]
    assert (
        email.subject == "Your tickets for Real-world Perspectives in Machine Learning for Science"
    )
    assert order.get_absolute_url() in email.body
    for ticket in order.tickets.all():
        assert ticket.code in email.body
    assert sorted(name for name, _, _ in email.attachments) == sorted(
        [f"ticket-{t.code}.png" for t in order.tickets.all()]
        + ["pydata-global-2022-mlsci.ics", f"invoice-{order.invoice.number}.pdf"]
    )


@pytest.fixture
def organiser(transactional_db):
    """An organiser (staff superuser) who signs in with a password."""
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    user = UserFactory(username="organiser", email="organiser@example.org", is_staff=True)
    user.is_superuser = True
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_in_to_admin(page):
    page.goto("/admin/")
    page.get_by_label("Username").fill("organiser")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def fill_new_talk(page, title):
    page.get_by_role("link", name="Talks").click()
    page.get_by_role("link", name="Add talk").click()
    page.get_by_label("Title:", exact=True).fill(title)
    page.get_by_label("Abstract").fill("Why probabilities need checking.")
    page.get_by_label("Published").check()


def fill_slot(page, *, start, end, room):
    page.get_by_role("button", name=re.compile("Add another place in the schedule", re.I)).click()
    day = Workshop.objects.get().starts_at.date().isoformat()
    page.fill("#id_slot-0-start_0", day)
    page.fill("#id_slot-0-start_1", start)
    page.fill("#id_slot-0-end_0", day)
    page.fill("#id_slot-0-end_1", end)
    page.select_option("#id_slot-0-room", label=room)


def test_organiser_adds_a_talk_and_its_slot_and_sees_it_on_the_schedule(page, organiser):
    sign_in_to_admin(page)
    fill_new_talk(page, "Calibration for climate models")
    page.get_by_role("button", name="Save and continue editing").click()
    assert "was added successfully" in page.locator(".messagelist").inner_text()
    fill_slot(page, start="13:10:00", end="13:40:00", room="Hands-on stage")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "was changed successfully" in page.locator(".messagelist").inner_text()

    page.goto("/schedule/")

    cell = page.locator("td.slot", has_text="Calibration for climate models")
    assert cell.locator(".slot-time").inner_text() == "13:10–13:40"
    column = page.evaluate("(td) => td.cellIndex", cell.element_handle())
    header = page.locator(".schedule-grid thead th").nth(column).inner_text()
    assert header.startswith("Hands-on stage")


def test_organiser_adds_a_talk_with_its_slot_in_one_save(page, organiser):
    sign_in_to_admin(page)
    fill_new_talk(page, "Calibration for climate models")
    fill_slot(page, start="13:10:00", end="13:40:00", room="Hands-on stage")

    page.get_by_role("button", name="Save", exact=True).click()

    assert "was added successfully" in page.locator(".messagelist").inner_text(timeout=3000)


def test_organiser_checks_a_ticket_in_at_the_door(page, organiser):
    from tests.browser.audit import place_free_order

    order = place_free_order(organiser)
    ticket = order.tickets.get()
    sign_in_to_admin(page)

    # The admin's own order page shows the check-in time read-only: the door page decides.
    page.get_by_role("link", name="Check-in", exact=True).click()
    page.locator("#checkin-q").fill(ticket.code)
    page.keyboard.press("Enter")
    page.get_by_role("button", name=f"Check in {ticket.attendee_name}").click()

    assert page.locator(".message-success").inner_text() == (
        f"{ticket.attendee_name} ({ticket.code}) checked in."
    )
    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None
    assert ticket.checked_in_by == organiser


def png_photo():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_invited_speaker_signs_up_edits_bio_and_sees_it_public(
    page, live_server, settings, mailoutbox
):
    from speakers import services
    from speakers.models import Speaker

    settings.SITE_URL = live_server.url
    speaker = Speaker.objects.get(name="Mei Tanaka")
    services.invite_speaker(speaker=speaker, email="mei@example.org")
    (invitation_mail,) = mailoutbox
    link = re.search(r"http://\S+/speakers/invitation/\S+/", invitation_mail.body).group(0)

    page.goto(link)
    assert page.locator("h1").inner_text() == "Welcome, Mei Tanaka"
    assert_accessible(page)
    page.get_by_role("link", name="Sign up").click()
    page.fill("#id_email", "mei@example.org")
    page.fill("#id_password1", "a long and quiet password")
    page.fill("#id_password2", "a long and quiet password")
    page.get_by_role("button", name=re.compile("sign up", re.I)).click()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, this profile is mine").click()
    page.wait_for_url("**/speakers/me/")
    assert_accessible(page)
    page.get_by_label("Long bio").fill("Mei studies **explainable** models of ocean heat.")
    # A photo chosen before the preview is in the preview and saved without choosing it again.
    page.get_by_label("Photo").set_input_files(
        files=[{"name": "mei.png", "mimeType": "image/png", "buffer": png_photo()}]
    )
    page.get_by_role("button", name="Preview").click()
    portrait = page.locator(".speaker-preview img.speaker-portrait")
    assert portrait.get_attribute("src").startswith("data:image/jpeg;base64,")
    assert portrait.evaluate("(img) => img.complete && img.naturalWidth") == 256
    assert_accessible(page)
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        shot = ARTIFACTS / "speakers" / f"preview-photo-{width}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
    page.get_by_role("button", name="Save profile").click()
    speaker.refresh_from_db()
    assert speaker.photo and speaker.thumbnail

    page.goto(speaker.get_absolute_url())
    bio = page.locator(".speaker-bio")
    assert bio.inner_text().strip() == "Mei studies explainable models of ocean heat."
    assert bio.locator("strong").inner_text() == "explainable"
    speaker.refresh_from_db()
    assert speaker.user.email == "mei@example.org"
