"""Organisers see and manage the waiting lists in the admin."""

import pytest
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tickets.models import Order, WaitingListEntry
from tickets.services import waitlist

pytestmark = pytest.mark.django_db

Status = WaitingListEntry.Status
CHANGELIST = "/admin/tickets/waitinglistentry/"


def html_of(response):
    return response.content.decode()


@pytest.fixture
def seat(workshop):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Tutorial", capacity=1)
    ticket_type.order = OrderFactory(workshop=workshop)
    TicketFactory(ticket_type=ticket_type, order=ticket_type.order)
    return ticket_type


def waiting(ticket_type, *emails):
    return [
        waitlist.confirm(entry=WaitingListEntry.objects.create(ticket_type=ticket_type, email=e))
        for e in emails
    ]


def act(client, action, *entries):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [e.pk for e in entries]},
        follow=True,
    )


def free_the_seat(ticket_type):
    Order.objects.filter(pk=ticket_type.order.pk).update(status=Order.Status.CANCELLED)


def test_list_shows_place_state_and_offer(organiser_client, seat):
    first, second, third = waiting(seat, "a@example.org", "b@example.org", "c@example.org")
    free_the_seat(seat)
    waitlist.process_ticket_type(seat.pk)  # offers the seat to a@
    WaitingListEntry.objects.create(ticket_type=seat, email="d@example.org")

    response = organiser_client.get(CHANGELIST)

    html = html_of(response)
    assert response.status_code == 200
    rows = {entry.email: entry.line_position for entry in response.context["cl"].result_list}
    assert rows == {
        "a@example.org": None,
        "b@example.org": 1,
        "c@example.org": 2,
        "d@example.org": None,
    }
    assert "Offer sent" in html and "E-mail not confirmed yet" in html
    assert "Place in line" in html and "Offer expires at" in html


def test_send_offer_now_out_of_turn(
    organiser_client, seat, outbox, django_capture_on_commit_callbacks
):
    first, second = waiting(seat, "a@example.org", "b@example.org")
    free_the_seat(seat)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(organiser_client, "send_offer_now", second)

    second.refresh_from_db()
    first.refresh_from_db()
    assert "Offer sent: b@example.org." in html_of(response)
    assert (first.status, second.status) == (Status.WAITING, Status.OFFERED)
    assert [m.to for m in outbox] == [["b@example.org"]]


def test_send_offer_now_refused_without_free_seat(organiser_client, seat, outbox):
    (entry,) = waiting(seat, "a@example.org")

    response = act(organiser_client, "send_offer_now", entry)

    assert "No seat of “Tutorial” is free: raise its capacity first" in html_of(response)
    entry.refresh_from_db()
    assert entry.status == Status.WAITING
    assert outbox == []


def test_resend_offer_and_confirmation(organiser_client, seat, outbox):
    (offered,) = waiting(seat, "a@example.org")
    waiting_entry = waiting(seat, "b@example.org")[0]
    unconfirmed = WaitingListEntry.objects.create(ticket_type=seat, email="c@example.org")
    free_the_seat(seat)
    waitlist.process_ticket_type(seat.pk)
    outbox.clear()

    response = act(organiser_client, "resend", offered, waiting_entry, unconfirmed)

    html = html_of(response)
    assert sorted(m.to[0] for m in outbox) == ["a@example.org", "c@example.org"]
    assert "Nothing to send b@example.org: the entry is waiting." in html
    subjects = sorted(m.subject for m in outbox)
    assert subjects == [
        "A seat is free for you: Tutorial",
        "Confirm your place on the waiting list: Tutorial",
    ]


def test_remove_ends_offer_and_passes_seat_on(
    organiser_client, seat, outbox, django_capture_on_commit_callbacks
):
    first, second = waiting(seat, "a@example.org", "b@example.org")
    free_the_seat(seat)
    waitlist.process_ticket_type(seat.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(organiser_client, "remove", first)

    first.refresh_from_db()
    second.refresh_from_db()
    assert "Removed from the waiting list: a@example.org." in html_of(response)
    assert (first.status, second.status) == (Status.REMOVED, Status.OFFERED)
    assert first.offer_voucher.valid_until <= timezone.now()
    assert [m.to for m in outbox][-1] == ["b@example.org"]


def test_remove_twice_says_so(organiser_client, seat):
    (entry,) = waiting(seat, "a@example.org")
    act(organiser_client, "remove", entry)

    response = act(organiser_client, "remove", entry)

    assert "Cannot remove a@example.org: the entry is removed already." in html_of(response)


def test_raising_capacity_offers_seats(
    organiser_client, workshop, seat, outbox, django_capture_on_commit_callbacks
):
    waiting(seat, "a@example.org", "b@example.org")
    page = organiser_client.get(f"/admin/tickets/tickettype/{seat.pk}/change/")
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data.update(capacity=3, workshop=workshop.pk, _save="Save")

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(f"/admin/tickets/tickettype/{seat.pk}/change/", data)

    assert response.status_code == 302, html_of(response)
    assert sorted(e.status for e in WaitingListEntry.objects.all()) == [Status.OFFERED] * 2
    assert sorted(m.to[0] for m in outbox) == ["a@example.org", "b@example.org"]


def test_ticket_type_list_links_the_people_waiting(organiser_client, seat):
    waiting(seat, "a@example.org", "b@example.org")

    html = html_of(organiser_client.get("/admin/tickets/tickettype/"))

    query = f"ticket_type__id__exact={seat.pk}&amp;status__exact=waiting"
    link = f"/admin/tickets/waitinglistentry/?{query}"
    assert f'<a href="{link}">2</a>' in html


def test_entries_cannot_be_added_edited_or_deleted_by_hand(organiser_client, seat):
    (entry,) = waiting(seat, "a@example.org")

    added = organiser_client.get("/admin/tickets/waitinglistentry/add/")
    deleted = organiser_client.post(
        f"/admin/tickets/waitinglistentry/{entry.pk}/delete/", {"post": "yes"}
    )
    changed = organiser_client.post(
        f"/admin/tickets/waitinglistentry/{entry.pk}/change/", {"status": "removed"}
    )

    assert added.status_code == 403
    assert deleted.status_code == 403
    entry.refresh_from_db()
    assert entry.status == Status.WAITING
    assert changed.status_code in (200, 302)


@pytest.mark.parametrize("size", [2, 8])
def test_list_query_count_constant(organiser_client, seat, django_assert_num_queries, size):
    waiting(seat, *[f"p{n}@example.org" for n in range(size)])

    with django_assert_num_queries(ADMIN_LIST_QUERIES):
        organiser_client.get(CHANGELIST)


ADMIN_LIST_QUERIES = 9
