"""A buyer cancels their own order on its page, until the organisers' cut-off."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import TicketTypeFactory, UserFactory
from tests.tickets.conftest import BUYER
from tests.tickets.test_order_states import World, fresh
from tests.tickets.test_waitlist_offers import waiting
from tickets.models import Order, WaitingListEntry
from tickets.services import buyer_cancellation, capacity, invoice_terms, lifecycle
from tickets.services.buyer_cancellation import CancellationRefused, Refusal

pytestmark = pytest.mark.django_db

Status = Order.Status


@pytest.fixture
def world(workshop, standin, organiser):
    workshop.buyer_cancellation_until = timezone.now() + dt.timedelta(days=7)
    workshop.save()
    return World(workshop, standin, organiser)


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def cancel_url(order):
    return f"{order.get_absolute_url()}cancel/"


def html_of(response):
    return response.content.decode()


def text_of(response):
    """The page's text with tags removed and spaces collapsed, as a reader sees it."""
    return " ".join(re.sub(r"<[^>]+>", " ", html_of(response)).split())


def confirm(client, order):
    """Open the confirmation page and post its form, with its CSRF token, as a browser does."""
    page = client.get(cancel_url(order))
    fields = dict(
        re.findall(r'name="(csrfmiddlewaretoken|version)" value="([^"]*)"', html_of(page))
    )
    return client.post(cancel_url(order), fields)


def free_order(world, attendee=("Grace", "grace@example.org")):
    ticket_type = TicketTypeFactory(workshop=world.workshop, name="Community", price="0.00")
    return lifecycle.create_order(
        workshop=world.workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=[{"name": attendee[0], "email": attendee[1]}],
        payment_method="free",
    )


def set_cut_off(workshop, **delta):
    workshop.buyer_cancellation_until = timezone.now() + dt.timedelta(**delta)
    workshop.save()


# -- The order page and the confirmation -------------------------------------------------------


def test_order_page_offers_cancelling_until_the_cut_off(client, world):
    order = free_order(world)

    page = client.get(order.get_absolute_url())

    assert page.status_code == 200
    assert f'href="{cancel_url(order)}"' in html_of(page)
    assert "You can cancel this order until" in text_of(page)


@pytest.mark.parametrize("cut_off", [None, dt.timedelta(seconds=-1)], ids=["none", "passed"])
def test_order_page_offers_no_cancelling_without_or_after_a_cut_off(client, world, cut_off):
    order = free_order(world)
    world.workshop.buyer_cancellation_until = cut_off and timezone.now() + cut_off
    world.workshop.save()

    page = client.get(order.get_absolute_url())

    assert page.status_code == 200
    assert cancel_url(order) not in html_of(page)


@pytest.mark.parametrize("size", [1, 8])
def test_order_page_offering_cancellation_query_count_constant(
    client, world, django_assert_num_queries, size
):
    ticket_type = TicketTypeFactory(workshop=world.workshop, name="Free", price="0.00")
    order = lifecycle.create_order(
        workshop=world.workshop,
        ticket_counts={ticket_type.id: size},
        buyer=BUYER,
        attendees=[BUYER] * size,
        payment_method="free",
    )

    # The order, invoices, credit notes, refunds, tickets, the stages' streams, the check-in
    # test of the cancellation offer, the workshop, footer pages.
    with django_assert_num_queries(9):
        response = client.get(order.get_absolute_url())

    assert html_of(response).count('class="qr"') == size
    assert "Cancel this order</a>" in html_of(response)


def test_confirmation_page_says_what_happens_to_a_free_order(csrf_client, world):
    order = free_order(world)

    page = csrf_client.get(cancel_url(order))

    text = text_of(page)
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert f"Cancel order {order.code}?" in text
    assert (
        f"Order {order.code} for {world.workshop.title} is cancelled. This cannot be undone."
        in (text)
    )
    assert "Its ticket no longer admits anyone to the workshop, and the seats are offered" in text
    assert "The tickets were free: nothing is refunded." in text
    assert 'name="csrfmiddlewaretoken"' in html_of(page)
    assert f"Cancel order {order.code}</button>" in html_of(page)
    assert fresh(order).status == Status.PAID  # looking changes nothing


def test_confirmation_page_of_an_unpaid_invoice_order_names_the_credit_note(client, world):
    order = world.invoice_order()

    text = text_of(client.get(cancel_url(order)))

    assert "Nothing was paid, so nothing is refunded; a credit note cancels invoice" in text


# -- Cancelling --------------------------------------------------------------------------------


def test_buyer_cancels_free_order_seats_freed_and_both_told(
    csrf_client, world, outbox, django_capture_on_commit_callbacks
):
    order = free_order(world)
    (ticket_type_id,) = capacity.seat_counts(order)
    ticket_type = order.tickets.get().ticket_type
    ticket_type.capacity = 1
    ticket_type.save()
    (entry,) = waiting(ticket_type, "next@example.org")
    outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(csrf_client, order)

    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    order = fresh(order)
    assert order.status == Status.CANCELLED
    event = order.events.last()
    assert (event.from_status, event.to_status, event.note, event.actor) == (
        "paid",
        "cancelled",
        "Cancelled by the buyer on the order page.",
        None,
    )
    assert not order.holds_seats()
    entry.refresh_from_db()
    # The freed seat went to the first in line, whose offer now holds it.
    assert entry.status == WaitingListEntry.Status.OFFERED
    assert capacity.seats_taken([ticket_type_id], now=timezone.now()) == {ticket_type_id: 1}
    cancelled = [m for m in outbox if "cancelled" in m.subject]
    assert [(m.to, m.subject) for m in cancelled] == [
        ([BUYER["email"]], f"Order {order.code} cancelled"),
        (["grace@example.org"], f"Your ticket for {world.workshop.title} is cancelled"),
    ]
    assert "as you asked on the order page, your order" in cancelled[0].body
    assert "Ada Buyer has cancelled this order." in cancelled[1].body
    page = csrf_client.get(response["Location"])
    assert f"Order {order.code} is cancelled. We have sent you an e-mail." in text_of(page)
    assert "This order is cancelled: its tickets no longer admit anyone" in text_of(page)


def test_buyer_cancels_unpaid_invoice_order_invoice_credited(csrf_client, world, outbox):
    order = world.invoice_order()
    outbox.clear()

    response = confirm(csrf_client, order)

    assert response.status_code == 302
    order = fresh(order)
    assert order.status == Status.CANCELLED
    note = order.credit_notes.get()
    assert note.invoice == order.invoice
    assert f"Credit note {note.number}, attached, cancels invoice" in outbox[0].body


def test_buyer_cancels_unpaid_card_order_payment_page_closed(csrf_client, world, outbox):
    order = world.card_order()
    outbox.clear()

    response = confirm(csrf_client, order)

    assert response.status_code == 302
    assert fresh(order).status == Status.CANCELLED
    assert world.standin.sessions[order.stripe_session_id]["status"] == "expired"
    assert "Nothing was paid, and nothing is due." in outbox[0].body


def test_signed_in_buyer_is_recorded_as_who_cancelled(csrf_client, world):
    user = UserFactory(email=BUYER["email"])
    csrf_client.force_login(user)
    order = free_order(world)

    confirm(csrf_client, order)

    assert fresh(order).events.last().actor == user


def test_post_without_csrf_token_changes_nothing(csrf_client, world, outbox):
    order = free_order(world)
    terms = buyer_cancellation.cancellation_terms(order)
    outbox.clear()

    response = csrf_client.post(cancel_url(order), {"version": terms.version})

    assert response.status_code == 403
    assert fresh(order).status == Status.PAID
    assert outbox == []


# -- Refused: nothing changes, a clear message, the right status --------------------------------


def test_after_the_cut_off_refused_with_its_date(csrf_client, world, outbox):
    order = free_order(world)
    page = csrf_client.get(cancel_url(order))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html_of(page))[1]
    world.workshop.buyer_cancellation_until = timezone.now() - dt.timedelta(minutes=1)
    world.workshop.save()
    outbox.clear()

    response = csrf_client.post(cancel_url(order), {"csrfmiddlewaretoken": token, "version": "0:0"})

    assert response.status_code == 403
    text = text_of(response)
    assert "Orders could be cancelled here until" in text
    assert "To ask for an exception, please write to the organisers at workshop@example.org." in (
        text
    )
    assert "Nothing was changed." in text
    assert "</button>" not in html_of(response).split("<main", 1)[1].split("</main>")[0]
    assert fresh(order).status == Status.PAID
    assert outbox == []


def test_without_a_cut_off_buyers_cannot_cancel(client, world):
    world.workshop.buyer_cancellation_until = None
    world.workshop.save()
    order = free_order(world)

    get = client.get(cancel_url(order))
    post = client.post(cancel_url(order), {"version": "0:0"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert "Orders cannot be cancelled on this site; please write to the organisers" in (
        text_of(post)
    )
    assert fresh(order).status == Status.PAID


def test_paid_order_refused_when_organisers_do_not_allow_it(client, world, outbox):
    order = world.paid_card_order()
    outbox.clear()

    response = client.post(cancel_url(order), {"version": "25.00:25.00"})

    assert response.status_code == 403
    assert "Paid orders cannot be cancelled on this site; please write to" in text_of(response)
    assert fresh(order).status == Status.PAID
    assert outbox == []


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        ("processing", 409, "is still being processed, so it cannot be cancelled now"),
        ("expired", 409, "is expired already."),
        ("used", 409, "was used at the door."),
    ],
)
def test_order_in_a_state_that_cannot_be_cancelled_refused(
    client, world, outbox, make, status, message
):
    if make == "processing":
        order = world.processing_order()
    elif make == "expired":
        order = world.expired_invoice_order()
    else:
        order = free_order(world)
        order.tickets.update(checked_in_at=timezone.now())
    before = fresh(order).status
    outbox.clear()

    response = client.post(cancel_url(order), {"version": "0:0"})

    assert response.status_code == status
    assert message in text_of(response)
    assert fresh(order).status == before
    assert outbox == []


def test_double_click_cancels_once_and_tells_once(csrf_client, world, outbox):
    order = free_order(world)
    page = csrf_client.get(cancel_url(order))
    fields = dict(
        re.findall(r'name="(csrfmiddlewaretoken|version)" value="([^"]*)"', html_of(page))
    )
    outbox.clear()

    first = csrf_client.post(cancel_url(order), fields)
    second = csrf_client.post(cancel_url(order), fields)

    assert (first.status_code, second.status_code) == (302, 409)
    assert f"Order {order.code} is cancelled already." in text_of(second)
    assert fresh(order).events.filter(to_status="cancelled").count() == 1
    assert [m.to for m in outbox] == [[BUYER["email"]], ["grace@example.org"]]


def test_payment_made_before_the_click_is_kept_not_cancelled(client, world, outbox):
    # The buyer paid in another tab; Stripe's webhook has not arrived when they click cancel.
    order = world.card_order()
    terms = buyer_cancellation.cancellation_terms(order)
    world.standin.pay(order.stripe_session_id, deliver=False)
    outbox.clear()

    response = client.post(cancel_url(order), {"version": terms.version})

    assert response.status_code == 403
    assert "Paid orders cannot be cancelled on this site" in text_of(response)
    assert fresh(order).status == Status.PAID
    buyer_mail = [m.subject for m in outbox if m.to == [order.buyer_email]]
    assert buyer_mail == [f"Your tickets for {world.workshop.title}"]


def test_invoice_paid_between_page_and_click_is_not_cancelled(client, world, outbox):
    order = world.invoice_order()
    terms = buyer_cancellation.cancellation_terms(order)
    invoice_terms.record_bank_transfer(order=order, actor=world.organiser)
    outbox.clear()

    with pytest.raises(CancellationRefused) as refused:
        buyer_cancellation.cancel_by_buyer(order=order, version=terms.version)

    assert refused.value.refusal == Refusal.PAID
    assert fresh(order).status == Status.PAID
    assert outbox == []


def test_stripe_unreachable_when_closing_the_payment_page_changes_nothing(client, world, outbox):
    order = world.card_order()
    terms = buyer_cancellation.cancellation_terms(order)
    world.standin.fail_next(500, path=f"/v1/checkout/sessions/{order.stripe_session_id}/expire")

    response = client.post(cancel_url(order), {"version": terms.version})

    assert response.status_code == 503
    assert "Stripe could not be reached" in text_of(response)
    assert fresh(order).status == Status.PENDING


def test_cut_off_is_judged_by_the_clock_read_under_the_lock(world, monkeypatch):
    order = free_order(world)
    terms = buyer_cancellation.cancellation_terms(order)
    later = world.workshop.buyer_cancellation_until + dt.timedelta(seconds=1)
    real_lock = capacity.lock_order

    def lock_then_time_passes(order):
        locked = real_lock(order)
        monkeypatch.setattr(timezone, "now", lambda: later)
        return locked

    monkeypatch.setattr(capacity, "lock_order", lock_then_time_passes)

    with pytest.raises(CancellationRefused) as refused:
        buyer_cancellation.cancel_by_buyer(order=order, version=terms.version)

    assert refused.value.refusal == Refusal.TOO_LATE
    assert fresh(order).status == Status.PAID
