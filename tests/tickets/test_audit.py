"""Audit trail: admin log entries for organiser actions, order history with time and actor."""

import io
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.utils import timezone
from lxml import html as lxml_html

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, UserFactory
from tests.tickets.conftest import BUYER, people
from tests.tickets.test_stripe import card_order
from tickets.models import CheckInEvent, Order, OrderEvent
from tickets.services import checkin, lifecycle

pytestmark = pytest.mark.django_db

ORDERS = "/admin/tickets/order/"
TICKETS = "/admin/tickets/ticket/"


def log_entries(obj):
    """Return (message, username, flag) of the admin log entries about ``obj``, oldest first."""
    entries = LogEntry.objects.filter(
        content_type__app_label=obj._meta.app_label,
        content_type__model=obj._meta.model_name,
        object_id=str(obj.pk),
    ).order_by("action_time", "id")
    return [(e.get_change_message(), e.user.username, e.action_flag) for e in entries]


def history(order):
    """Return (from, to, actor username or None) of each event of the order, oldest first."""
    return [
        (event.from_status, event.to_status, event.actor.username if event.actor else None)
        for event in OrderEvent.objects.filter(order=order).select_related("actor")
    ]


def status_changes(order):
    return [event for event in history(order) if event[0] != event[1]]


def run_action(client, url, action, *objects):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})


@pytest.fixture
def invoice_order(workshop):
    invoice_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True, price="40.00")
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={invoice_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="invoice",
        invoice_details="Uppsala University, Box 256",
    )


def test_mark_paid_action_logs_change_and_records_actor(organiser_client, organiser, invoice_order):
    response = run_action(organiser_client, ORDERS, "mark_paid", invoice_order)

    assert response.status_code == 302
    assert log_entries(invoice_order) == [("Marked paid (admin action).", "organiser", CHANGE)]
    assert status_changes(invoice_order) == [
        ("", "pending", None),
        ("pending", "paid", "organiser"),
    ]


def test_cancel_action_logs_change_and_records_actor(organiser_client, invoice_order):
    run_action(organiser_client, ORDERS, "cancel", invoice_order)

    assert log_entries(invoice_order) == [("Cancelled (admin action).", "organiser", CHANGE)]
    assert status_changes(invoice_order)[-1] == ("pending", "cancelled", "organiser")


def test_refund_action_logs_change_and_records_actor(
    organiser_client, workshop, paid_type, standin
):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)

    run_action(organiser_client, ORDERS, "refund", order)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("25.00"))
    assert log_entries(order) == [("Refunded (admin action).", "organiser", CHANGE)]
    assert status_changes(order) == [
        ("", "pending", None),
        ("pending", "paid", None),
        ("paid", "refunded", "organiser"),
    ]


def test_resend_action_logs_change(organiser_client, workshop, outbox):
    order = OrderFactory(workshop=workshop)
    TicketFactory(order=order)

    run_action(organiser_client, ORDERS, "resend_confirmation", order)

    assert len(outbox) == 1
    assert log_entries(order) == [
        ("Confirmation e-mail sent again (admin action).", "organiser", CHANGE)
    ]


def test_refused_action_logs_nothing(organiser_client, workshop):
    refunded = OrderFactory(workshop=workshop, status=Order.Status.REFUNDED)

    response = run_action(organiser_client, ORDERS, "cancel", refunded)

    messages = [m.message for m in get_messages(response.wsgi_request)]
    assert f"Order {refunded.code} is refunded." in messages
    assert log_entries(refunded) == []
    assert history(refunded) == []


def test_check_in_action_logs_change_once(organiser_client, organiser, workshop):
    ticket = TicketFactory(order=OrderFactory(workshop=workshop))

    run_action(organiser_client, TICKETS, "check_in", ticket)
    run_action(organiser_client, TICKETS, "check_in", ticket)

    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None
    assert log_entries(ticket) == [("Checked in (admin action).", "organiser", CHANGE)]
    assert list(CheckInEvent.objects.values_list("action", "actor")) == [("check_in", organiser.pk)]


def test_check_in_action_refused_for_unpaid_ticket_logs_no_change(organiser_client, workshop):
    ticket = TicketFactory(order=OrderFactory(workshop=workshop, status=Order.Status.PENDING))

    run_action(organiser_client, TICKETS, "check_in", ticket)

    ticket.refresh_from_db()
    assert ticket.checked_in_at is None
    assert log_entries(ticket) == []


def test_ticket_history_page_shows_the_check_in(organiser_client, workshop):
    ticket = TicketFactory(order=OrderFactory(workshop=workshop))
    run_action(organiser_client, TICKETS, "check_in", ticket)

    html = organiser_client.get(f"{TICKETS}{ticket.pk}/history/").content.decode()

    assert "Checked in (admin action)." in html
    assert "organiser" in html


def test_webhook_payment_and_refund_are_recorded_without_a_person(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    standin.refund(standin.charge_for(order.stripe_session_id)["id"], 1000)

    assert status_changes(order) == [
        ("", "pending", None),
        ("pending", "paid", None),
        ("paid", "partly_refunded", None),
    ]
    notes = list(order.events.values_list("note", flat=True))
    assert notes[-2:] == [
        "Stripe refunded 10.00 EUR.",
        f"Credit note {order.credit_notes.get().number} issued for 10.00 EUR against invoice "
        f"{order.invoice.number}: Refunded through Stripe.",
    ]
    assert order.stripe_events.count() == 2


def test_webhook_expiry_is_recorded(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)

    standin.expire(order.stripe_session_id)

    assert status_changes(order)[-1] == ("pending", "expired", None)
    assert order.events.last().note == f"Checkout Session {order.stripe_session_id} expired."


def test_release_command_records_the_expiry(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now())

    call_command("release_expired_orders", stdout=io.StringIO())

    assert status_changes(order)[-1] == ("pending", "expired", None)
    assert order.events.last().note == "Reservation ran out."


def test_signed_in_buyer_is_the_actor_of_their_free_order(workshop, free_type):
    buyer = UserFactory(username="ada", email="ada@example.org")

    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={free_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="free",
        user=buyer,
    )

    assert status_changes(order) == [("", "pending", "ada"), ("pending", "paid", "ada")]


def test_every_status_change_of_an_order_is_recorded(workshop, paid_type, standin):
    """Walk an order through each step and compare its status with its last event each time."""
    order = card_order(workshop, paid_type)
    steps = [
        lambda: standin.pay(order.stripe_session_id, payment_status="unpaid"),
        lambda: standin.settle(order.stripe_session_id),
        lambda: standin.refund(standin.charge_for(order.stripe_session_id)["id"], 500),
        lambda: standin.refund(standin.charge_for(order.stripe_session_id)["id"]),
    ]
    seen = []
    for step in steps:
        step()
        order.refresh_from_db()
        seen.append(order.status)
        assert order.events.exclude(from_status=order.status).last().to_status == order.status

    assert seen == ["processing", "paid", "partly_refunded", "refunded"]
    assert [to for _, to, _ in status_changes(order)] == ["pending", *seen]


def test_order_page_shows_history_read_only_with_who(organiser_client, organiser, invoice_order):
    run_action(organiser_client, ORDERS, "mark_paid", invoice_order)

    response = organiser_client.get(f"{ORDERS}{invoice_order.pk}/change/")

    tree = lxml_html.fromstring(response.content)
    (group,) = [g for g in tree.find_class("inline-group") if "History" in g.text_content()]
    rows = [
        [cell.text_content().strip() for cell in row.find_class("field-by")]
        + [cell.text_content().strip() for cell in row.find_class("field-to_status")]
        for row in group.find_class("form-row")
    ]
    assert rows == [["buyer", "pending"], ["organiser@example.org", "paid"]]
    assert group.xpath(".//input[contains(@name, '-note')]") == []
    assert "Add another" not in group.text_content()


def test_ticket_page_shows_its_check_in_log_read_only(organiser_client, organiser, workshop):
    ticket = TicketFactory(order=OrderFactory(workshop=workshop))
    run_action(organiser_client, TICKETS, "check_in", ticket)
    checkin.undo_check_in(ticket=ticket, actor=UserFactory(username="door", email="d@x.org"))

    response = organiser_client.get(f"{TICKETS}{ticket.pk}/change/")

    tree = lxml_html.fromstring(response.content)
    (group,) = [g for g in tree.find_class("inline-group") if "Check-in log" in g.text_content()]
    rows = [
        (
            row.find_class("field-action")[0].text_content().strip(),
            row.find_class("field-by")[0].text_content().strip(),
        )
        for row in group.find_class("form-row")
    ]
    assert rows == [("Checked in", "organiser@example.org"), ("Check-in undone", "d@x.org")]
    assert group.xpath(".//input[contains(@name, '-note')]") == []


def form_data(response, form_id):
    """Return what a browser would post from the admin form as it was shown."""
    (form,) = lxml_html.fromstring(response.content).xpath(f"//form[@id='{form_id}']")
    data = {}
    for field in form.xpath(".//input[@name] | .//textarea[@name] | .//select[@name]"):
        kind = field.get("type", "")
        if kind in ("submit", "button", "file") or (kind == "checkbox" and not field.checked):
            continue
        data[field.get("name")] = field.value or ""
    return data


def test_editing_an_order_in_the_admin_is_logged(organiser_client, invoice_order):
    url = f"{ORDERS}{invoice_order.pk}/change/"
    data = form_data(organiser_client.get(url), "order_form")
    data["buyer_name"] = "Ada B. Buyer"

    response = organiser_client.post(url, data)

    assert response.status_code == 302
    invoice_order.refresh_from_db()
    assert invoice_order.buyer_name == "Ada B. Buyer"
    assert log_entries(invoice_order) == [("Changed Buyer name.", "organiser", CHANGE)]


def test_editing_a_ticket_in_the_admin_is_logged(organiser_client, workshop):
    ticket = TicketFactory(order=OrderFactory(workshop=workshop))
    url = f"{TICKETS}{ticket.pk}/change/"
    data = form_data(organiser_client.get(url), "ticket_form")
    data["attendee_email"] = "grace@example.org"

    response = organiser_client.post(url, data)

    assert response.status_code == 302
    assert log_entries(ticket) == [("Changed Attendee email.", "organiser", CHANGE)]


def test_order_page_cannot_check_in_a_ticket_past_the_door_rules(organiser_client, workshop):
    """Check-ins go through the check-in service (refusals, who, the log), not the order form."""
    order = OrderFactory(workshop=workshop, status=Order.Status.CANCELLED)
    ticket = TicketFactory(order=order)
    url = f"{ORDERS}{order.pk}/change/"
    data = form_data(organiser_client.get(url), "order_form")
    data["tickets-0-checked_in_at_0"] = "2030-11-02"
    data["tickets-0-checked_in_at_1"] = "10:00:00"

    response = organiser_client.post(url, data)

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None
    assert not CheckInEvent.objects.exists()
