"""The waiting list of a sold-out ticket type: the page, joining and confirming the address."""

import datetime as dt
import json
import re
import time

import pytest
from django.core import signing

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tests.security.conftest import PASSWORD, verified_user
from tickets.models import WaitingListEntry
from tickets.privacy import anonymise_ended_workshops
from tickets.services import waitlist

pytestmark = pytest.mark.django_db

Status = WaitingListEntry.Status


def html_of(response):
    return response.content.decode()


@pytest.fixture
def sold_out(workshop):
    """A ticket type whose only seat is sold."""
    ticket_type = TicketTypeFactory(workshop=workshop, name="Tutorial", capacity=1)
    TicketFactory(ticket_type=ticket_type, order=OrderFactory(workshop=workshop))
    return ticket_type


def link_in(message):
    return re.search(r"http://\S+", message.body)[0].removeprefix("http://127.0.0.1:8000")


def join(client, ticket_type, email="wait@example.org", name="Wen Waiter", **extra):
    return client.post(
        f"/tickets/waiting-list/{ticket_type.id}/", {"email": email, "name": name}, **extra
    )


def test_ticket_list_offers_waiting_list_only_when_sold_out(client, workshop, sold_out):
    open_type = TicketTypeFactory(workshop=workshop, name="Talks", capacity=5)

    html = html_of(client.get("/tickets/"))

    assert f'href="/tickets/waiting-list/{sold_out.id}/"' in html
    assert "Join the waiting list" in html
    assert f"/tickets/waiting-list/{open_type.id}/" not in html


def test_join_page_has_form(client, sold_out):
    response = client.get(f"/tickets/waiting-list/{sold_out.id}/")

    html = html_of(response)
    assert response.status_code == 200
    assert "<h1>Waiting list: Tutorial</h1>" in html
    assert 'name="email"' in html and 'name="csrfmiddlewaretoken"' in html


def test_join_sends_confirmation_link(client, sold_out, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = join(client, sold_out, email="Wait@Example.org")

    entry = WaitingListEntry.objects.get()
    assert response.status_code == 200
    assert "we have sent a link to Wait@Example.org" in html_of(response)
    assert (entry.status, entry.email, entry.name) == (
        Status.UNCONFIRMED,
        "Wait@Example.org",
        "Wen Waiter",
    )
    assert [m.to for m in outbox] == [["Wait@Example.org"]]
    assert outbox[0].subject == "Confirm your place on the waiting list: Tutorial"
    assert "/tickets/waiting-list/confirm/" in outbox[0].body


def test_confirm_link_shows_button_then_confirms(
    client, sold_out, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(client, sold_out)
    link = link_in(outbox[0])

    shown = client.get(link)
    entry = WaitingListEntry.objects.get()
    assert shown.status_code == 200
    assert entry.status == Status.UNCONFIRMED  # a link checker's GET changes nothing
    assert "Confirm my place" in html_of(shown)
    assert shown["Cache-Control"] == "private, no-store"

    confirmed = client.post(link)

    entry.refresh_from_db()
    assert confirmed.status_code == 200
    assert entry.status == Status.WAITING and entry.confirmed_at is not None
    assert "wait@example.org is on the waiting list, number 1 in line." in html_of(confirmed)


def test_confirm_twice_keeps_place(client, sold_out):
    first = WaitingListEntry.objects.create(ticket_type=sold_out, email="a@example.org")
    second = WaitingListEntry.objects.create(ticket_type=sold_out, email="b@example.org")
    waitlist.confirm(entry=first)
    waitlist.confirm(entry=second)
    placed_at = WaitingListEntry.objects.get(pk=first.pk).confirmed_at

    again = client.post(
        f"/tickets/waiting-list/confirm/{waitlist.sign(first, waitlist.CONFIRM_SALT)}/"
    )

    first.refresh_from_db()
    assert first.confirmed_at == placed_at
    assert "number 1 in line" in html_of(again)
    assert waitlist.position(WaitingListEntry.objects.get(pk=second.pk)) == 2


def test_join_again_says_already_on_list(
    client, sold_out, outbox, django_capture_on_commit_callbacks
):
    entry = WaitingListEntry.objects.create(ticket_type=sold_out, email="wait@example.org")
    waitlist.confirm(entry=entry)

    with django_capture_on_commit_callbacks(execute=True):
        response = join(client, sold_out, email="WAIT@example.org")

    assert response.status_code == 200
    assert "<h1>Already on the waiting list</h1>" in html_of(response)
    assert "WAIT@example.org is already on this waiting list." in html_of(response)
    assert WaitingListEntry.objects.count() == 1
    assert outbox == []


def test_join_again_unconfirmed_resends_link(
    client, sold_out, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        join(client, sold_out)
        again = join(client, sold_out)

    assert "not confirmed yet: we have sent the confirmation link again" in html_of(again)
    assert WaitingListEntry.objects.count() == 1
    assert len(outbox) == 2


def test_join_refused_when_seats_left(client, workshop, outbox):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Talks", capacity=5)

    response = join(client, ticket_type)

    assert response.status_code == 409
    assert "“Talks” is not sold out: you can buy a ticket now." in html_of(response)
    assert not WaitingListEntry.objects.exists()


def test_join_refused_when_sales_closed(client, workshop, sold_out):
    sold_out.sale_ends_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    sold_out.save()

    response = join(client, sold_out)

    assert response.status_code == 409
    assert "is not on sale now, so it has no waiting list" in html_of(response)


def test_join_bad_email_shows_form_error(client, sold_out):
    response = join(client, sold_out, email="not an address")

    assert response.status_code == 200
    assert "Enter a valid email address." in html_of(response)
    assert not WaitingListEntry.objects.exists()


def test_join_hidden_or_unknown_type_not_found(client, workshop, sold_out):
    hidden = TicketTypeFactory(workshop=workshop, visible=False, capacity=0)

    assert join(client, hidden).status_code == 404
    assert client.get("/tickets/waiting-list/999999/").status_code == 404


def test_join_rate_limited_per_address(
    client, sold_out, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [join(client, sold_out).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert len(outbox) == 3


def test_confirm_link_tampered_not_found(client, sold_out):
    entry = WaitingListEntry.objects.create(ticket_type=sold_out, email="wait@example.org")
    token = waitlist.sign(entry, waitlist.CONFIRM_SALT)

    response = client.post(f"/tickets/waiting-list/confirm/{token[:-2]}xx/")

    assert response.status_code == 404
    assert "This waiting-list link is not valid." in html_of(response)
    entry.refresh_from_db()
    assert entry.status == Status.UNCONFIRMED


def test_confirm_link_of_other_salt_not_found(client, sold_out):
    entry = WaitingListEntry.objects.create(ticket_type=sold_out, email="wait@example.org")
    token = signing.dumps({"entry": entry.pk, "email": entry.email}, salt="something else")

    assert client.post(f"/tickets/waiting-list/confirm/{token}/").status_code == 404


def test_confirm_link_expired(client, sold_out, settings, monkeypatch):
    settings.TICKETS_WAITLIST_CONFIRM_DAYS = 3
    entry = WaitingListEntry.objects.create(ticket_type=sold_out, email="wait@example.org")
    token = waitlist.sign(entry, waitlist.CONFIRM_SALT)
    later = time.time() + 3 * 86400 + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = client.post(f"/tickets/waiting-list/confirm/{token}/")

    assert response.status_code == 410
    assert "This confirmation link has expired." in html_of(response)
    entry.refresh_from_db()
    assert entry.status == Status.UNCONFIRMED


def test_rejoin_after_entry_ended(sold_out):
    ended = WaitingListEntry.objects.create(
        ticket_type=sold_out, email="wait@example.org", status=Status.REMOVED
    )

    entry, joined = waitlist.join(ticket_type=sold_out, email="wait@example.org")

    assert joined is waitlist.Joined.JOINED
    assert entry.pk != ended.pk


def test_data_export_and_deletion_cover_waiting_list(client, workshop, sold_out):
    user = verified_user(username="wen", email="wait@example.org")
    mine = WaitingListEntry.objects.create(
        ticket_type=sold_out, email="WAIT@example.org", name="Wen"
    )
    other = WaitingListEntry.objects.create(ticket_type=sold_out, email="else@example.org")
    client.force_login(user)

    exported = json.loads(client.get("/accounts/data/export/").content)
    deleted = client.post("/accounts/data/delete/", {"password": PASSWORD, "confirm": "on"})

    (entry,) = exported["tickets"]["waiting_list"]
    assert (entry["ticket_type"], entry["email"], entry["name"], entry["status"]) == (
        "Tutorial",
        "WAIT@example.org",
        "Wen",
        "unconfirmed",
    )
    assert deleted.status_code == 200
    assert not WaitingListEntry.objects.filter(pk=mine.pk).exists()
    assert WaitingListEntry.objects.filter(pk=other.pk).exists()


def test_entries_of_long_ended_workshops_deleted(workshop, sold_out):
    WaitingListEntry.objects.create(ticket_type=sold_out, email="wait@example.org")
    later = workshop.ends_at + dt.timedelta(days=91)

    anonymise_ended_workshops(days=90, now=later)

    assert not WaitingListEntry.objects.exists()
