"""A stream for ticket holders only: never public, given to holders of paid tickets."""

import pytest
from django.core import mail

from schedule.models import Room
from tests.factories import (
    OrderFactory,
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TicketFactory,
    TicketTypeFactory,
)
from tickets.emails import send_confirmation

pytestmark = pytest.mark.django_db

SECRET_STREAM = "https://stream.example.org/holders-stage"
OPEN_STREAM = "https://stream.example.org/open-stage"


@pytest.fixture
def stages(workshop):
    """A stage whose stream is for ticket holders only and one whose stream is public."""
    speaker = SpeakerFactory(slug="ada")
    holders = RoomFactory(
        name="Holders stage", stream_url=SECRET_STREAM, stream_for_ticket_holders=True
    )
    open_stage = RoomFactory(name="Open stage", stream_url=OPEN_STREAM)
    for room, slug in ((holders, "closed-talk"), (open_stage, "open-talk")):
        SlotFactory(workshop=workshop, room=room, talk=TalkFactory(slug=slug, speakers=[speaker]))
    return workshop


PUBLIC = [
    "/",
    "/schedule/",
    "/talks/",
    "/speakers/",
    "/tickets/",
    "/workshop.ics",
    "/talks/closed-talk/",
    "/talks/closed-talk.ics",
    "/speakers/ada/",
    "/speakers/ada.ics",
    "/schedule.ics",
    "/schedule.xml",
    "/schedule.json",
    "/schedule/export/schedule.ics",
    "/schedule/export/schedule.xml",
    "/schedule/export/schedule.json",
    "/sitemap.xml",
]


@pytest.mark.parametrize("path", PUBLIC)
def test_holders_stream_is_on_no_public_page_export_or_calendar(client, stages, path):
    response = client.get(path)

    assert response.status_code == 200
    assert SECRET_STREAM not in response.content.decode()


@pytest.mark.parametrize(
    ("path", "shown"),
    [("/schedule/", True), ("/talks/open-talk/", True), ("/schedule.json", True)],
)
def test_public_stream_still_shows(client, stages, path, shown):
    assert (OPEN_STREAM in client.get(path).content.decode()) is shown


def test_ics_carries_only_the_public_stream(client, stages):
    body = client.get("/schedule.ics").content.decode().replace("\r\n ", "")

    assert f"Stream: {OPEN_STREAM}" in body
    assert SECRET_STREAM not in body


def test_order_page_of_paid_order_lists_every_stream(client, stages):
    stages.joining_details = "Join the chat at **chat.example.org**."
    stages.save()
    order = OrderFactory(workshop=stages, status="paid")

    html = client.get(order.get_absolute_url()).content.decode()

    assert "How to join" in html
    assert "<strong>chat.example.org</strong>" in html
    assert f'Holders stage: <a href="{SECRET_STREAM}" rel="noreferrer">{SECRET_STREAM}</a>' in html
    assert f'Open stage: <a href="{OPEN_STREAM}" rel="noreferrer">{OPEN_STREAM}</a>' in html


@pytest.mark.parametrize(
    ("status", "workshop_format"),
    [("pending", "online"), ("cancelled", "online"), ("refunded", "online"), ("paid", "in_person")],
)
def test_order_page_without_paid_online_tickets_shows_no_stream(
    client, stages, status, workshop_format
):
    stages.format = workshop_format
    stages.save()
    order = OrderFactory(workshop=stages, status=status, payment_method="invoice")

    html = client.get(order.get_absolute_url()).content.decode()

    assert SECRET_STREAM not in html
    assert "How to join" not in html


def test_confirmation_email_of_paid_order_carries_the_holders_stream(stages):
    order = OrderFactory(workshop=stages, status="paid")
    TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=stages))

    send_confirmation(order)

    (message,) = mail.outbox
    assert "How to join:" in message.body
    assert f"- Holders stage: {SECRET_STREAM}" in message.body
    assert f"- Open stage: {OPEN_STREAM}" in message.body


def test_reservation_email_carries_no_stream(stages):
    order = OrderFactory(workshop=stages, status="pending", payment_method="invoice")

    send_confirmation(order)

    (message,) = mail.outbox
    assert SECRET_STREAM not in message.body
    assert "How to join" not in message.body


def test_organisers_mark_a_stream_for_ticket_holders_in_the_admin(organiser_client, workshop):
    response = organiser_client.post(
        "/admin/schedule/room/add/",
        {
            "name": "Members stage",
            "position": 3,
            "stream_url": SECRET_STREAM,
            "stream_for_ticket_holders": "on",
            "description": "",
            "slots-TOTAL_FORMS": 0,
            "slots-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302
    assert Room.objects.get(name="Members stage").stream_for_ticket_holders is True
