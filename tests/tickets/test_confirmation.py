"""What a buyer and the attendees receive once an order is confirmed: calendar, joining,
invoice, and each attendee's own ticket e-mail."""

import icalendar
import pytest
from django.core import mail

from tests.factories import OrderFactory, RoomFactory, TicketFactory, TicketTypeFactory
from tickets.emails import send_confirmation
from tickets.models import Refund
from tickets.services import lifecycle
from tickets.services.invoices import issue_invoice
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def paid_order(workshop, attendees, *, total="25.00", status="paid"):
    order = OrderFactory(workshop=workshop, status=status, total=total)
    ticket_type = TicketTypeFactory(workshop=workshop)
    for name, email in attendees:
        TicketFactory(
            order=order, ticket_type=ticket_type, attendee_name=name, attendee_email=email
        )
    order.refresh_from_db()
    return order


def test_workshop_ics_is_one_public_event(client, workshop):
    response = client.get("/workshop.ics")

    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert str(event["summary"]) == workshop.title
    assert event.decoded("dtstart") == workshop.starts_at
    assert event.decoded("dtend") == workshop.ends_at
    assert str(event["uid"]) == f"{workshop.slug}@127.0.0.1:8000"


def test_workshop_ics_without_workshop_is_404(client, db):
    assert client.get("/workshop.ics").status_code == 404


def test_paid_order_page_offers_the_workshop_calendar(client, workshop):
    order = paid_order(workshop, [("Ada", "ada@example.org")])

    html = client.get(order.get_absolute_url()).content.decode()

    assert '<h2 id="calendar-heading">Add to calendar</h2>' in html
    assert 'href="/workshop.ics" rel="noreferrer">Add to calendar (.ics)</a>' in html
    assert 'href="webcal://127.0.0.1:8000/workshop.ics" rel="noreferrer">Subscribe' in html


@pytest.mark.parametrize("status", ["pending", "cancelled", "expired"])
def test_order_without_valid_tickets_offers_no_calendar(client, workshop, status):
    order = OrderFactory(workshop=workshop, status=status, payment_method="invoice")

    html = client.get(order.get_absolute_url()).content.decode()

    assert "Add to calendar" not in html


def test_confirmation_carries_calendar_joining_and_invoice_of_a_card_order(workshop):
    workshop.joining_details = "The chat is at chat.example.org."
    workshop.save()
    RoomFactory(name="Main stage", stream_url="https://stream.example.org/main")
    order = paid_order(workshop, [("Ada", "ada@example.org")])
    invoice = issue_invoice(order=order)

    send_confirmation(order)

    (message,) = mail.outbox
    names = [name for name, _content, _type in message.attachments]
    ticket = order.tickets.get()
    assert names == [
        f"ticket-{ticket.code}.png",
        f"{workshop.slug}.ics",
        f"invoice-{invoice.number}.pdf",
    ]
    assert message.attachments[-1][1].startswith(b"%PDF")
    assert f"Your invoice {invoice.number} is attached" in message.body
    assert "Add the workshop to your calendar: http://127.0.0.1:8000/workshop.ics" in message.body
    assert (
        "subscribe, so that changes reach your calendar: webcal://127.0.0.1:8000/workshop.ics"
        in message.body
    )
    assert "The chat is at chat.example.org." in message.body
    assert "- Main stage: https://stream.example.org/main" in message.body


def test_free_order_confirmation_has_no_invoice(workshop):
    order = paid_order(workshop, [("Ada", "ada@example.org")], total="0.00")
    order.payment_method = "free"
    order.save()

    send_confirmation(order)

    (message,) = mail.outbox
    assert not [name for name, _c, _t in message.attachments if name.endswith(".pdf")]


def test_each_attendee_gets_their_own_tickets_once(workshop):
    order = paid_order(
        workshop,
        [
            ("Ada Buyer", "ada@example.org"),
            ("Grace", "grace@example.org"),
            ("Grace again", "GRACE@example.org"),
            ("Alan", "alan@example.org"),
        ],
    )
    tickets = {t.attendee_name: t for t in order.tickets.all()}

    send_confirmation(order)
    send_confirmation(order)  # the organisers resend the confirmation

    by_address = {}
    for message in mail.outbox:
        by_address.setdefault(message.to[0].lower(), []).append(message)
    assert sorted(by_address) == ["ada@example.org", "alan@example.org", "grace@example.org"]
    assert len(by_address["ada@example.org"]) == 2
    (grace,) = by_address["grace@example.org"]
    (alan,) = by_address["alan@example.org"]
    assert grace.subject == f"Your ticket for {workshop.title}"
    assert [name for name, _c, _t in grace.attachments] == [
        f"ticket-{tickets['Grace'].code}.png",
        f"ticket-{tickets['Grace again'].code}.png",
        f"{workshop.slug}.ics",
    ]
    assert [name for name, _c, _t in alan.attachments] == [
        f"ticket-{tickets['Alan'].code}.png",
        f"{workshop.slug}.ics",
    ]
    assert tickets["Alan"].code in alan.body and tickets["Grace"].code not in alan.body
    assert order.secret not in alan.body + grace.body
    assert OutgoingEmail.objects.filter(recipients="alan@example.org").count() == 1


def test_attendee_email_carries_the_joining_details(workshop):
    RoomFactory(
        name="Hidden stage",
        stream_url="https://stream.example.org/h",
        stream_for_ticket_holders=True,
    )
    order = paid_order(workshop, [("Alan", "alan@example.org")])

    send_confirmation(order)

    attendee = next(m for m in mail.outbox if m.to == ["alan@example.org"])
    assert "How to join:" in attendee.body
    assert "- Hidden stage: https://stream.example.org/h" in attendee.body


def test_attendees_of_an_unpaid_order_get_nothing_yet(workshop):
    order = paid_order(workshop, [("Alan", "alan@example.org")], status="pending")

    send_confirmation(order)

    assert [m.to for m in mail.outbox] == [["ada@example.org"]]


def test_attendees_get_their_tickets_when_an_invoice_order_is_paid(
    workshop, django_capture_on_commit_callbacks
):
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00", invoice_allowed=True)
    with django_capture_on_commit_callbacks(execute=True):
        order = lifecycle.create_order(
            workshop=workshop,
            ticket_counts={ticket_type.id: 1},
            buyer={"name": "Ada Buyer", "email": "ada@example.org"},
            attendees=[{"name": "Alan", "email": "alan@example.org"}],
            payment_method="invoice",
            invoice_details="Ada Buyer, 1 Example Street",
        )
    reserved = [m.to for m in mail.outbox]
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.mark_invoice_paid(order=order)

    assert reserved == [["ada@example.org"]]
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["ada@example.org", "alan@example.org"]


def test_attendee_address_corrected_after_payment_gets_the_ticket(
    workshop, django_capture_on_commit_callbacks
):
    order = paid_order(workshop, [("Alan", "alan@example.org"), ("Grace", "grace@example.org")])
    send_confirmation(order)
    sent = len(mail.outbox)
    ticket = order.tickets.get(attendee_name="Alan")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.update_attendee(ticket=ticket, name="Alan", email="alan.t@example.org")
        lifecycle.update_attendee(ticket=ticket, name="Alan Turing", email="alan.t@example.org")

    assert sent == 3
    assert [m.to for m in mail.outbox[sent:]] == [["alan.t@example.org"]]
    assert ticket.code in mail.outbox[-1].body


def test_refunded_ticket_is_not_sent_to_its_attendee(workshop):
    order = paid_order(workshop, [("Alan", "alan@example.org"), ("Grace", "grace@example.org")])
    refund = Refund.objects.create(
        order=order, amount="25.00", currency="EUR", method="bank_transfer"
    )
    order.tickets.filter(attendee_name="Alan").update(refund=refund)

    send_confirmation(order)

    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "grace@example.org"]
