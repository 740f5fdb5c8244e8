"""Waiting-list offers: made when seats free up, holding their seat, used once, passed on."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tests.tickets.conftest import BUYER
from tickets.models import Order, TicketType, WaitingListEntry
from tickets.services import capacity, lifecycle, waitlist
from tickets.services.errors import OrderError

pytestmark = pytest.mark.django_db

Status = WaitingListEntry.Status


def html_of(response):
    return response.content.decode()


@pytest.fixture
def seat(workshop):
    """A free ticket type of one seat, held by a paid order."""
    ticket_type = TicketTypeFactory(workshop=workshop, name="Tutorial", price="0.00", capacity=1)
    order = OrderFactory(workshop=workshop, payment_method=Order.Method.FREE, total="0.00")
    TicketFactory(ticket_type=ticket_type, order=order, price="0.00")
    ticket_type.order = order
    return ticket_type


def waiting(ticket_type, *emails):
    entries = []
    for email in emails:
        entry = WaitingListEntry.objects.create(ticket_type=ticket_type, email=email)
        entries.append(waitlist.confirm(entry=entry))
    return entries


def free_the_seat(ticket_type):
    """Cancel the order holding the seat (nothing announced: the periodic run must see it)."""
    Order.objects.filter(pk=ticket_type.order.pk).update(status=Order.Status.CANCELLED)


def buy(workshop, ticket_type, email="someone@example.org", voucher_code=None, quantity=1):
    person = {"name": "Some One", "email": email}
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: quantity},
        buyer=person,
        attendees=[person] * quantity,
        voucher_code=voucher_code,
        payment_method="free",
    )


def process(capture):
    with capture(execute=True):
        return waitlist.process_waiting_lists()


def offer_link(message):
    return re.search(r"http://\S+/tickets/waiting-list/offer/\S+/", message.body)[0].removeprefix(
        "http://127.0.0.1:8000"
    )


def test_freed_seat_offered_to_first_in_line(
    workshop, seat, outbox, django_capture_on_commit_callbacks, settings
):
    settings.TICKETS_WAITLIST_OFFER_HOURS = 48
    first, second = waiting(seat, "first@example.org", "second@example.org")
    free_the_seat(seat)

    done = process(django_capture_on_commit_callbacks)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (done.offered, done.expired) == (1, 0)
    assert (first.status, second.status) == (Status.OFFERED, Status.WAITING)
    assert first.offer_expires_at - first.offer_sent_at == dt.timedelta(hours=48)
    voucher = first.offer_voucher
    assert (voucher.max_uses, voucher.valid_until) == (1, first.offer_expires_at)
    assert list(voucher.ticket_types.all()) == [seat]
    assert [m.to for m in outbox] == [["first@example.org"]]
    assert outbox[0].subject == "A seat is free for you: Tutorial"
    assert "/tickets/waiting-list/offer/" in outbox[0].body


def test_offered_seat_counts_as_held(workshop, seat, django_capture_on_commit_callbacks):
    waiting(seat, "first@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)

    assert capacity.seats_taken([seat.id], now=timezone.now()) == {seat.id: 1}
    assert TicketType.objects.with_seats_taken().get(pk=seat.pk).seats_left == 0
    with pytest.raises(OrderError, match="“Tutorial” is sold out."):
        buy(workshop, seat)


def test_free_seat_kept_for_the_line_before_any_offer(workshop, seat):
    waiting(seat, "first@example.org")
    free_the_seat(seat)  # no offer made yet: the periodic run has not come

    with pytest.raises(OrderError, match="“Tutorial” is sold out."):
        buy(workshop, seat)
    assert TicketType.objects.with_seats_taken().get(pk=seat.pk).seats_left == 0


def test_holder_buys_with_offer_once(
    client, workshop, seat, outbox, django_capture_on_commit_callbacks
):
    (entry,) = waiting(seat, "first@example.org")
    waiting(seat, "second@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)
    link = offer_link(outbox[0])

    page = client.get(link)
    entry.refresh_from_db()
    code = entry.offer_voucher.code
    order = buy(workshop, seat, email="first@example.org", voucher_code=code)

    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    html = html_of(page)
    assert "<h1>A seat is held for you</h1>" in html
    assert f'<input type="hidden" name="qty_{seat.id}" value="1">' in html
    assert f'<input type="hidden" name="voucher" value="{code}">' in html
    entry.refresh_from_db()
    assert (entry.status, entry.order) == (Status.USED, order)
    assert order.status == Order.Status.PAID
    assert capacity.seats_taken([seat.id], now=timezone.now()) == {seat.id: 1}


def test_offer_link_used_twice_says_so_and_changes_nothing(
    client, workshop, seat, outbox, django_capture_on_commit_callbacks
):
    (entry,) = waiting(seat, "first@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)
    entry.refresh_from_db()
    code = entry.offer_voucher.code
    buy(workshop, seat, email="first@example.org", voucher_code=code)
    orders = Order.objects.count()

    page = client.get(offer_link(outbox[0]))
    with pytest.raises(OrderError, match="This waiting-list offer has already been used."):
        buy(workshop, seat, email="first@example.org", voucher_code=code)

    assert page.status_code == 410
    assert "This waiting-list offer has already been used." in html_of(page)
    assert Order.objects.count() == orders
    entry.refresh_from_db()
    assert entry.status == Status.USED


def test_used_offer_refused_even_after_its_order_ended(
    workshop, seat, django_capture_on_commit_callbacks
):
    (entry,) = waiting(seat, "first@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)
    entry.refresh_from_db()
    code = entry.offer_voucher.code
    order = buy(workshop, seat, email="first@example.org", voucher_code=code)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)

    with pytest.raises(OrderError, match="This waiting-list offer has already been used."):
        buy(workshop, seat, email="first@example.org", voucher_code=code)


def test_expired_offer_passes_to_next(
    client, workshop, seat, outbox, django_capture_on_commit_callbacks
):
    first, second = waiting(seat, "first@example.org", "second@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)
    first.refresh_from_db()
    code = first.offer_voucher.code
    WaitingListEntry.objects.filter(pk=first.pk).update(
        offer_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    page = client.get(offer_link(outbox[0]))
    with pytest.raises(OrderError):
        buy(workshop, seat, email="first@example.org", voucher_code=code)
    done = process(django_capture_on_commit_callbacks)

    assert page.status_code == 410
    assert "This waiting-list offer has expired" in html_of(page)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (done.expired, done.offered) == (1, 1)
    assert (first.status, second.status) == (Status.EXPIRED, Status.OFFERED)
    assert [m.to for m in outbox] == [["first@example.org"], ["second@example.org"]]
    assert Order.objects.filter(buyer_email="first@example.org").count() == 0


def test_offer_is_for_one_seat(workshop, seat, django_capture_on_commit_callbacks):
    seat.capacity = 2
    seat.save()
    (entry,) = waiting(seat, "first@example.org")
    waiting(seat, "second@example.org")
    seat.capacity = 3  # one more seat: still the line's
    seat.save()
    process(django_capture_on_commit_callbacks)
    entry.refresh_from_db()

    with pytest.raises(OrderError, match="Only 1 “Tutorial” tickets are left."):
        buy(workshop, seat, voucher_code=entry.offer_voucher.code, quantity=2)


def test_cancelled_order_offers_its_seat_at_once(
    workshop, seat, outbox, django_capture_on_commit_callbacks
):
    waiting(seat, "first@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.cancel_order(order=seat.order)

    assert WaitingListEntry.objects.get().status == Status.OFFERED
    # The cancelled order's buyer is told, then the first in line gets the offer.
    assert [m.to for m in outbox] == [[seat.order.buyer_email], ["first@example.org"]]


def test_confirming_when_a_seat_is_free_offers_it(
    workshop, seat, outbox, django_capture_on_commit_callbacks
):
    entry = WaitingListEntry.objects.create(ticket_type=seat, email="first@example.org")
    free_the_seat(seat)

    with django_capture_on_commit_callbacks(execute=True):
        waitlist.confirm(entry=entry)

    assert WaitingListEntry.objects.get().status == Status.OFFERED


def test_no_offer_while_sales_closed(workshop, seat, django_capture_on_commit_callbacks):
    waiting(seat, "first@example.org")
    free_the_seat(seat)
    seat.sale_ends_at = timezone.now() - dt.timedelta(minutes=1)
    seat.save()

    assert process(django_capture_on_commit_callbacks).offered == 0


def test_offer_ends_with_sales(workshop, seat, django_capture_on_commit_callbacks):
    ends = timezone.now() + dt.timedelta(hours=2)
    seat.sale_ends_at = ends
    seat.save()
    waiting(seat, "first@example.org")
    free_the_seat(seat)

    process(django_capture_on_commit_callbacks)

    assert WaitingListEntry.objects.get().offer_expires_at == ends


def test_offer_of_another_type_refused(workshop, seat, django_capture_on_commit_callbacks):
    other = TicketTypeFactory(workshop=workshop, name="Other", price="0.00", capacity=5)
    (entry,) = waiting(seat, "first@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)
    entry.refresh_from_db()
    # The voucher applies to its type only, whatever else is chosen.
    with pytest.raises(OrderError):
        buy(workshop, other, voucher_code=entry.offer_voucher.code)


def test_offer_link_tampered_not_found(client, workshop, seat, django_capture_on_commit_callbacks):
    (entry,) = waiting(seat, "first@example.org")
    token = waitlist.sign(entry, waitlist.OFFER_SALT)
    confirm_token = waitlist.sign(entry, waitlist.CONFIRM_SALT)

    assert client.get(f"/tickets/waiting-list/offer/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/tickets/waiting-list/offer/{confirm_token}/").status_code == 404
    # A real link of an entry not offered anything yet.
    assert client.get(f"/tickets/waiting-list/offer/{token}/").status_code == 404


def test_unconfirmed_addresses_forgotten(
    workshop, seat, settings, django_capture_on_commit_callbacks
):
    settings.TICKETS_WAITLIST_CONFIRM_DAYS = 3
    old = WaitingListEntry.objects.create(ticket_type=seat, email="old@example.org")
    WaitingListEntry.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3, minutes=1)
    )
    WaitingListEntry.objects.create(ticket_type=seat, email="new@example.org")

    assert process(django_capture_on_commit_callbacks).forgotten == 1
    assert list(WaitingListEntry.objects.values_list("email", flat=True)) == ["new@example.org"]


def test_command_reports(workshop, seat, capsys):
    waiting(seat, "first@example.org")
    free_the_seat(seat)

    call_command("process_waiting_lists")

    assert capsys.readouterr().out.strip() == (
        "Expired 0 offers; sent 1 offers; forgot 0 unconfirmed addresses."
    )


def test_checkout_page_with_offer_voucher(
    client, workshop, seat, django_capture_on_commit_callbacks
):
    (entry,) = waiting(seat, "first@example.org")
    free_the_seat(seat)
    process(django_capture_on_commit_callbacks)
    entry.refresh_from_db()
    code = entry.offer_voucher.code

    page = client.get(f"/tickets/checkout/?qty_{seat.id}=1&voucher={code}")
    data = {
        f"qty_{seat.id}": "1",
        "voucher": code,
        "buyer_name": BUYER["name"],
        "buyer_email": BUYER["email"],
        "attendee_1_name": BUYER["name"],
        "attendee_1_email": BUYER["email"],
        "payment_method": "free",
        "accept_code_of_conduct": "on",
    }
    placed = client.post("/tickets/checkout/", data)
    again = client.post("/tickets/checkout/", data)

    assert page.status_code == 200
    assert placed.status_code == 302
    assert again.status_code == 409
    assert "This waiting-list offer has already been used." in html_of(again)
    assert Order.objects.filter(voucher__code=code).count() == 1


@pytest.mark.parametrize("size", [1, 5])
def test_ticket_list_query_count_constant_with_waiting_lists(
    client, workshop, django_assert_num_queries, size
):
    for n in range(size):
        ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
        TicketFactory(ticket_type=ticket_type, order=OrderFactory(workshop=workshop))
        waiting(ticket_type, f"w{n}@example.org", f"v{n}@example.org")

    with django_assert_num_queries(QUERIES_OF_TICKET_LIST):
        response = client.get("/tickets/")

    assert html_of(response).count("Join the waiting list") == size


QUERIES_OF_TICKET_LIST = 3
