"""Check-in at the door: access, search, check in, twice, refusals, undo, QR code, limits."""

import datetime as dt
import re
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client

from tests.browser import checkers
from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, UserFactory
from tests.security.html_checks import duplicate_ids, inline_code, unlabelled_fields
from tickets import checkin_views
from tickets.models import CheckInEvent, Order, Ticket
from tickets.qr import checkin_url, qr_png, qr_svg
from tickets.services import checkin

pytestmark = pytest.mark.django_db

SEARCH = "/organisers/check-in/"
AT = dt.datetime(2030, 12, 2, 13, 5, tzinfo=dt.UTC)


def html_of(response):
    return response.content.decode()


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def page(code):
    return f"/organisers/check-in/{code}/"


@pytest.fixture
def ticket(workshop):
    order = OrderFactory(
        workshop=workshop, code="ORDPAID1", buyer_name="Bea Buyer", buyer_email="bea@example.org"
    )
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    return TicketFactory(
        order=order,
        ticket_type=regular,
        code="K7PX2M9QRT",
        attendee_name="Ada Lovelace",
        attendee_email="ada.lovelace@example.org",
    )


def ticket_with_status(workshop, status, method=Order.Method.STRIPE, code="BADTICKET1"):
    order = OrderFactory(workshop=workshop, status=status, payment_method=method)
    return TicketFactory(order=order, code=code, attendee_name="Ned Unpaid")


# -- Who may open the pages ---------------------------------------------------------------


@pytest.mark.parametrize("path", [SEARCH, f"{SEARCH}?q=ada", page("K7PX2M9QRT")])
def test_checkin_anonymous_redirected_to_sign_in(client, ticket, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + path.replace("?", "%3F").replace(
        "=", "%3D"
    )


def test_checkin_anonymous_post_changes_nothing(client, ticket):
    response = client.post(page(ticket.code) + "check-in/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


@pytest.mark.parametrize("method,suffix", [("get", ""), ("get", "?q=ada"), ("post", "check-in/")])
def test_checkin_signed_in_non_staff_refused(client, ticket, method, suffix):
    client.force_login(UserFactory(username="attendee"))
    path = SEARCH + suffix if suffix.startswith("?") or not suffix else page(ticket.code) + suffix

    response = getattr(client, method)(path)

    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


def test_checkin_staff_without_second_factor_sent_to_set_it_up(client, ticket, settings):
    settings.REQUIRE_STAFF_MFA = True
    client.force_login(UserFactory(username="door", is_staff=True))

    response = client.get(page(ticket.code))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"


def test_checkin_pages_are_not_cached(organiser_client, ticket):
    response = organiser_client.get(page(ticket.code))

    assert response["Cache-Control"] == "private, no-store"
    assert response["Permissions-Policy"] == "camera=(self)"


# -- Search ---------------------------------------------------------------------------------


def test_checkin_page_without_query_shows_search_form(organiser_client, ticket):
    html = html_of(organiser_client.get(SEARCH))

    assert "<h1>Check-in</h1>" in html
    assert '<label for="checkin-q">Ticket code, name or e-mail address</label>' in html
    assert '<input type="search" id="checkin-q" name="q" value=""' in html
    assert "<strong>0</strong> of 1 valid ticket checked in." in html
    assert 'src="/static/js/checkin.js"' in html
    assert "checkin-card" not in html


@pytest.mark.parametrize(
    "query",
    [
        "K7PX2M9QRT",
        "k7px2m9qrt",
        " K7PX2M9QRT ",
        "ordpaid1",
        "lovelace",
        "ADA.LOVELACE@example",
        "Bea Buy",
        "bea@example.org",
        "http://127.0.0.1:8000/organisers/check-in/K7PX2M9QRT/",
    ],
)
def test_checkin_search_finds_ticket(organiser_client, ticket, query):
    response = organiser_client.get(SEARCH, {"q": query})

    html = html_of(response)
    assert response.status_code == 200
    assert '<h3 id="ticket-K7PX2M9QRT">Ada Lovelace</h3>' in html
    assert "<strong>Valid</strong>, not checked in yet." in html
    assert f'action="{page(ticket.code)}check-in/"' in html
    assert 'Check in<span class="visually-hidden"> Ada Lovelace</span>' in html
    assert "1 ticket matches" in html


def test_checkin_search_unknown_says_so(organiser_client, ticket):
    response = organiser_client.get(SEARCH, {"q": "NOSUCHCODE"})

    html = html_of(response)
    assert response.status_code == 200
    assert "No ticket matches “NOSUCHCODE”" in html
    assert "checkin-card" not in html


def test_checkin_nul_characters_are_not_an_error(organiser_client, ticket):
    search = organiser_client.get(SEARCH, {"q": "ada\x00"})
    direct = organiser_client.get(page("K7PX2M9QRT%00"))

    assert search.status_code == 200
    assert "Ada Lovelace" in html_of(search)
    assert direct.status_code == 200
    assert "Ada Lovelace" in html_of(direct)


def test_checkin_search_one_letter_asks_for_more(organiser_client, ticket):
    html = html_of(organiser_client.get(SEARCH, {"q": "a"}))

    assert "Type at least two letters" in html
    assert "checkin-card" not in html


def test_checkin_search_only_current_workshop(organiser_client, ticket):
    from tests.factories import WorkshopFactory

    other = WorkshopFactory(slug="older", is_current=False)
    TicketFactory(order=OrderFactory(workshop=other), attendee_name="Ada Elsewhere")

    html = html_of(organiser_client.get(SEARCH, {"q": "ada"}))

    assert "Ada Lovelace" in html
    assert "Ada Elsewhere" not in html


def test_checkin_search_caps_long_result_lists(organiser_client, workshop, monkeypatch):
    monkeypatch.setattr(checkin, "SEARCH_LIMIT", 3)
    order = OrderFactory(workshop=workshop)
    TicketFactory.create_batch(5, order=order, attendee_name="Sam Same")

    html = html_of(organiser_client.get(SEARCH, {"q": "sam"}))

    assert "More than 3 tickets match “sam”" in html
    assert html.count('class="checkin-card') == 3


@pytest.mark.parametrize("size", [1, 9])
def test_checkin_search_query_count_constant(
    organiser_client, workshop, django_assert_num_queries, size
):
    for number in range(size):
        order = OrderFactory(workshop=workshop, buyer_name=f"Buyer {number}")
        TicketFactory(order=order, attendee_name=f"Kim {number}", checked_in_at=AT)

    # Session, user, workshop, footer pages, attendance figures, tickets, the header's speaker
    # profile link.
    with django_assert_num_queries(7):
        response = organiser_client.get(SEARCH, {"q": "kim"})

    assert html_of(response).count("<strong>Checked in</strong>") == size


# The page shows the latest 10 entries: 2 and 8 here.
@pytest.mark.parametrize("size", [1, 4])
def test_checkin_ticket_page_query_count(
    organiser_client, organiser, ticket, django_assert_num_queries, size
):
    for _ in range(size):
        checkin.check_in_ticket(ticket=ticket, actor=organiser)
        checkin.undo_check_in(ticket=ticket, actor=organiser)

    # Session, user, workshop, ticket, history, footer pages, attendance figures, the header's
    # speaker profile link.
    with django_assert_num_queries(8):
        response = organiser_client.get(page(ticket.code))

    assert html_of(response).count("Check-in undone by organiser@example.org") == size


def test_checkin_ticket_page_shows_history(organiser_client, organiser, ticket):
    checkin.check_in_ticket(ticket=ticket, actor=organiser, now=AT)
    checkin.undo_check_in(ticket=ticket, actor=organiser)
    CheckInEvent.objects.filter(action="undo").update(created_at=AT + dt.timedelta(minutes=2))

    html = html_of(organiser_client.get(page(ticket.code)))

    history = html.split("<ol reversed>")[1].split("</ol>")[0]
    assert [re.sub(r"\s+", " ", item) for item in re.findall(r"<li>(.*?)</li>", history, re.S)] == [
        "13:07 UTC, 2 December 2030: Check-in undone by organiser@example.org "
        "(Had been checked in at 13:05 UTC, 2 December 2030 by organiser@example.org.)",
        "13:05 UTC, 2 December 2030: Checked in by organiser@example.org",
    ]


# -- The ticket page (what the QR code opens) ------------------------------------------------


def test_checkin_ticket_page_shows_ticket(organiser_client, ticket):
    html = html_of(organiser_client.get(page("k7px2m9qrt")))

    assert '<h2 id="ticket-K7PX2M9QRT">Ada Lovelace</h2>' in html
    assert "<title>Ticket K7PX2M9QRT · Check-in" in html
    assert "<code>K7PX2M9QRT</code>, Regular" in html
    assert "ORDPAID1</a>, paid, bought by Bea Buyer (bea@example.org)" in html


def test_checkin_ticket_page_unknown_code_404(organiser_client, ticket):
    response = organiser_client.get(page("NOPE123"))

    html = html_of(response)
    assert response.status_code == 404
    assert "Unknown ticket code" in html
    assert "There is no ticket with the code <code>NOPE123</code>" in html


def test_checkin_post_unknown_code_404(organiser_client, ticket):
    response = organiser_client.post(page("NOPE123") + "check-in/")

    assert response.status_code == 404
    assert "Unknown ticket code" in html_of(response)


def test_checkin_ticket_qr_code_opens_its_check_in_page(client, ticket, settings):
    settings.SITE_URL = "https://workshop.example.org"

    html = html_of(client.get(ticket.order.get_absolute_url()))

    assert (
        checkin_url(ticket.code) == "https://workshop.example.org/organisers/check-in/K7PX2M9QRT/"
    )
    expected = qr_svg(checkin_url(ticket.code), label=f"QR code of ticket {ticket.code}")
    assert expected in html
    assert qr_svg(ticket.code, label=f"QR code of ticket {ticket.code}") not in html


def test_checkin_ticket_qr_code_in_confirmation_email(ticket):
    from tickets import emails

    mail.outbox.clear()
    emails.send_confirmation(ticket.order)

    # The buyer's confirmation, and the attendee's own ticket e-mail: both carry the QR code.
    assert len(mail.outbox) == (1 if ticket.attendee_email == ticket.order.buyer_email else 2)
    for message in mail.outbox:
        attachments = {name: content for name, content, _type in message.attachments}
        assert attachments["ticket-K7PX2M9QRT.png"] == qr_png(checkin_url("K7PX2M9QRT"))


# -- Checking in -------------------------------------------------------------------------------


def test_checkin_post_checks_in_and_records_who(organiser_client, organiser, ticket):
    response = organiser_client.post(page(ticket.code) + "check-in/")

    assert response.status_code == 302
    assert response["Location"] == page(ticket.code)
    followed = organiser_client.get(response["Location"])
    assert messages_of(followed) == ["Ada Lovelace (K7PX2M9QRT) checked in."]
    html = html_of(followed)
    assert "<strong>Checked in</strong> at " in html
    assert "by organiser@example.org." in html
    assert "Undo check-in" in html
    assert "<strong>1</strong> of 1 valid ticket checked in." in html
    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None
    assert ticket.checked_in_by == organiser
    (event,) = CheckInEvent.objects.all()
    assert (event.ticket, event.action, event.actor) == (ticket, "check_in", organiser)


def test_checkin_twice_warns_with_earlier_time_in_workshop_zone(
    organiser_client, organiser, ticket, workshop
):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    checkin.check_in_ticket(ticket=ticket, actor=organiser, now=AT)

    response = organiser_client.post(page(ticket.code) + "check-in/", follow=True)

    assert messages_of(response) == [
        "Ticket K7PX2M9QRT was already checked in at 14:05 CET, 2 December 2030 "
        "by organiser@example.org."
    ]
    assert '<li class="message message-warning">' in html_of(response)
    ticket.refresh_from_db()
    assert ticket.checked_in_at == AT
    assert CheckInEvent.objects.filter(action="check_in").count() == 1


@pytest.mark.parametrize(
    "status,method,reason",
    [
        ("cancelled", "stripe", "its order {code} was cancelled"),
        ("refunded", "stripe", "its order {code} was refunded"),
        ("expired", "stripe", "its order {code} expired before it was paid"),
        ("pending", "stripe", "it belongs to an unpaid order ({code})"),
        ("pending", "invoice", "the invoice of its order {code} is not paid yet"),
        ("processing", "stripe", "the payment of its order {code} is still processing"),
    ],
)
def test_checkin_refuses_invalid_ticket_with_reason(
    organiser_client, organiser, workshop, status, method, reason
):
    bad = ticket_with_status(workshop, status, method)
    reason = reason.format(code=bad.order.code)

    card = html_of(organiser_client.get(page(bad.code)))
    response = organiser_client.post(page(bad.code) + "check-in/", follow=True)

    assert f"<strong>Refused:</strong> {reason[0].upper()}{reason[1:]}." in card
    assert "check-in/" not in card.split('class="checkin-card')[1].split("</article>")[0]
    assert messages_of(response) == [f"Ticket BADTICKET1 cannot be checked in: {reason}."]
    assert '<li class="message message-error">' in html_of(response)
    bad.refresh_from_db()
    assert bad.checked_in_at is None
    (event,) = CheckInEvent.objects.all()
    assert (event.action, event.actor, event.note) == ("refused", organiser, reason)


def test_checkin_partly_refunded_ticket_still_valid(organiser_client, workshop):
    ok = ticket_with_status(workshop, "partly_refunded")

    response = organiser_client.post(page(ok.code) + "check-in/", follow=True)

    assert messages_of(response) == ["Ned Unpaid (BADTICKET1) checked in."]


def test_checkin_undo(organiser_client, organiser, ticket, workshop):
    checkin.check_in_ticket(ticket=ticket, actor=organiser, now=AT)

    response = organiser_client.post(page(ticket.code) + "undo/", follow=True)

    assert messages_of(response) == ["Check-in of Ada Lovelace (K7PX2M9QRT) undone."]
    assert "<strong>Valid</strong>, not checked in yet." in html_of(response)
    ticket.refresh_from_db()
    assert (ticket.checked_in_at, ticket.checked_in_by) == (None, None)
    undo = CheckInEvent.objects.get(action="undo")
    assert undo.actor == organiser
    assert undo.note == (
        "Had been checked in at 13:05 UTC, 2 December 2030 by organiser@example.org."
    )


def test_checkin_undo_when_not_checked_in_warns(organiser_client, ticket):
    response = organiser_client.post(page(ticket.code) + "undo/", follow=True)

    assert messages_of(response) == ["Ticket K7PX2M9QRT is not checked in."]
    assert not CheckInEvent.objects.exists()


@pytest.mark.parametrize("suffix", ["check-in/", "undo/"])
def test_checkin_actions_need_post(organiser_client, ticket, suffix):
    assert organiser_client.get(page(ticket.code) + suffix).status_code == 405


def test_checkin_post_enforces_csrf(organiser, ticket):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(organiser)

    forged = browser.post(page(ticket.code) + "check-in/")
    ticket.refresh_from_db()
    assert forged.status_code == 403
    assert ticket.checked_in_at is None

    form = html_of(browser.get(page(ticket.code)))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    accepted = browser.post(page(ticket.code) + "check-in/", {"csrfmiddlewaretoken": token})
    ticket.refresh_from_db()
    assert accepted.status_code == 302
    assert ticket.checked_in_at is not None


def test_checkin_admin_action_records_actor(organiser_client, organiser, ticket):
    organiser_client.post(
        "/admin/tickets/ticket/", {"action": "check_in", "_selected_action": [ticket.pk]}
    )

    ticket.refresh_from_db()
    assert ticket.checked_in_by == organiser
    assert CheckInEvent.objects.get().actor == organiser


def test_checkin_admin_action_says_when_already_checked_in(organiser_client, organiser, ticket):
    checkin.check_in_ticket(ticket=ticket, actor=organiser, now=AT)

    response = organiser_client.post(
        "/admin/tickets/ticket/",
        {"action": "check_in", "_selected_action": [ticket.pk]},
        follow=True,
    )

    assert (
        "Ticket K7PX2M9QRT was already checked in at 13:05 UTC, 2 December 2030 "
        "by organiser@example.org."
    ) in html_of(response)
    ticket.refresh_from_db()
    assert ticket.checked_in_at == AT


# -- Online workshops, no workshop ------------------------------------------------------------


def test_checkin_online_workshop_says_it_marks_attendance(organiser_client, workshop):
    workshop.format = "online"
    workshop.save()

    html = html_of(organiser_client.get(SEARCH))

    assert "This workshop is online: checking a ticket in here records that its attendee" in html


def test_checkin_in_person_workshop_has_no_attendance_note(organiser_client, workshop):
    workshop.format = "in_person"
    workshop.save()

    assert "checkin-online" not in html_of(organiser_client.get(SEARCH))


def test_checkin_without_workshop(organiser_client, db):
    html = html_of(organiser_client.get(SEARCH, {"q": "ada"}))

    assert "There is no workshop yet" in html
    assert organiser_client.get(page("ABC")).status_code == 404


# -- Rate limit -----------------------------------------------------------------------------


def test_checkin_lookup_rate_limited_per_device(organiser_client, ticket, monkeypatch):
    monkeypatch.setattr(checkin_views, "LOOKUP_RATE", "3/m")
    for _ in range(3):
        assert organiser_client.get(SEARCH, {"q": "ada"}).status_code == 200

    response = organiser_client.get(page(ticket.code))

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many attempts" in html_of(response)
    # Opening the empty page, without a lookup, still works.
    assert organiser_client.get(SEARCH).status_code == 200


def test_checkin_lookup_rate_limited_per_organiser(organiser_client, ticket, monkeypatch):
    monkeypatch.setattr(checkin_views, "LOOKUP_RATE", "3/m")
    for number in range(3):
        address = f"192.0.2.{number + 1}"
        response = organiser_client.get(SEARCH, {"q": "ada"}, REMOTE_ADDR=address)
        assert response.status_code == 200

    response = organiser_client.get(SEARCH, {"q": "ada"}, REMOTE_ADDR="192.0.2.99")

    assert response.status_code == 429


def test_checkin_default_lookup_rate_is_generous():
    assert checkin_views.LOOKUP_RATE == "120/m"


# -- HTML ---------------------------------------------------------------------------------------


def test_checkin_pages_valid_html_without_inline_code(organiser_client, organiser, workshop):
    valid = ticket_with_status(workshop, "paid", code="VALID00001")
    done = ticket_with_status(workshop, "paid", code="DONE000001")
    checkin.check_in_ticket(ticket=done, actor=organiser)
    ticket_with_status(workshop, "cancelled", code="CANCEL0001")
    organiser_client.post(page(valid.code) + "check-in/")
    documents = {
        "search": html_of(organiser_client.get(SEARCH)),
        "results": html_of(organiser_client.get(SEARCH, {"q": "ned"})),
        "none": html_of(organiser_client.get(SEARCH, {"q": "nobody"})),
        "ticket-message": html_of(organiser_client.get(page(valid.code))),
        "unknown": html_of(organiser_client.get(page("NOPE"))),
    }

    for name, document in documents.items():
        assert inline_code(document) == [], name
        assert unlabelled_fields(document) == [], name
        assert duplicate_ids(document) == [], name
    assert documents["results"].count('class="checkin-card') == 3
    if reason := checkers.vnu_missing_reason():
        pytest.skip(reason)
    errors = {
        name: checkers.html_errors(messages)
        for name, messages in checkers.validate_html(documents).items()
    }
    assert errors == {name: [] for name in documents}


# -- Two devices at once (PostgreSQL) ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Row locks must be proven on PostgreSQL."
)
@pytest.mark.django_db(transaction=True)
def test_checkin_two_devices_at_once_one_wins(workshop):
    door = UserFactory(username="door", is_staff=True)
    ticket = TicketFactory(order=OrderFactory(workshop=workshop), code="RACE000001")
    devices = 6
    barrier = threading.Barrier(devices)
    results = []

    def device():
        try:
            barrier.wait()
            outcome = checkin.check_in_ticket(ticket=Ticket.objects.get(pk=ticket.pk), actor=door)
            results.append(outcome.result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=device) for _ in range(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["already"] * (devices - 1) + ["checked_in"]
    assert CheckInEvent.objects.filter(action="check_in").count() == 1
