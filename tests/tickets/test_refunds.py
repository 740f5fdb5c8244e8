"""Refunds made by organisers (whole order, chosen tickets, an amount) and by Stripe's dashboard.

Card refunds go to the Stripe stand-in through the real library; what Stripe answers (pending,
succeeded, failed) is what is recorded. Invoice orders are refunded by bank transfer.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import TicketTypeFactory
from tests.tickets.conftest import BUYER, people
from tickets.dashboard import revenue
from tickets.models import CreditNote, Order, Refund, TicketType
from tickets.services import checkin, lifecycle, refunds, stripe_checkout, waitlist
from tickets.services.invoice_terms import record_bank_transfer
from tickets.services.refunds import Kind, RefundRefused

pytestmark = pytest.mark.django_db


def place(workshop, ticket_type, quantity=1, method="stripe"):
    extra = {"invoice_details": "Example University"} if method == "invoice" else {}
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: quantity},
        buyer=BUYER,
        attendees=people(quantity),
        payment_method=method,
        **extra,
    )


def paid_card_order(workshop, ticket_type, standin, quantity=2):
    order = place(workshop, ticket_type, quantity)
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id)
    order.refresh_from_db()
    return order


def paid_invoice_order(workshop, quantity=2):
    ticket_type = TicketTypeFactory(
        workshop=workshop, name="Academic", price="40.00", invoice_allowed=True, capacity=10
    )
    order = place(workshop, ticket_type, quantity, method="invoice")
    record_bank_transfer(order=order)
    order.refresh_from_db()
    return order


def seats_left(ticket_type):
    return TicketType.objects.with_seats_taken().get(pk=ticket_type.pk).seats_left


def snapshot(order):
    order.refresh_from_db()
    return (
        order.status,
        order.refunded_amount,
        Refund.objects.filter(order=order).count(),
        order.tickets.filter(refund__isnull=False).count(),
        CreditNote.objects.filter(order=order).count(),
    )


def test_whole_card_order_refunded_through_stripe(workshop, paid_type, standin, organiser, outbox):
    order = paid_card_order(workshop, paid_type, standin)
    outbox.clear()

    row = refunds.refund(order=order, kind=Kind.ORDER, reason="Event moved", actor=organiser)

    order.refresh_from_db()
    assert (row.amount, row.status, row.method) == (Decimal("50.00"), "succeeded", "card")
    assert row.stripe_refund_id in standin.refunds
    assert standin.refunds[row.stripe_refund_id]["metadata"] == {
        "order_code": order.code,
        "refund_id": str(row.pk),
    }
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("50.00"))
    assert order.tickets.filter(refund=row).count() == 2
    assert seats_left(paid_type) == 10
    refund_calls = [r for r in standin.requests if r[:2] == ("POST", "/v1/refunds")]
    assert [r[2]["Idempotency-Key"] for r in refund_calls] == [f"refund-{row.pk}"]
    note = CreditNote.objects.get(order=order)
    assert (note.total, note.settlement, note.reason) == (Decimal("50.00"), "card", "Event moved")
    subjects = sorted((m.to[0], m.subject) for m in outbox)
    assert subjects == [
        ("ada0@example.org", f"Your ticket for {workshop.title} is cancelled"),
        ("ada1@example.org", f"Your ticket for {workshop.title} is cancelled"),
        ("ada@example.org", f"Order {order.code}: 50.00 EUR refunded"),
    ]
    buyer_mail = next(m for m in outbox if m.to == ["ada@example.org"])
    assert "have refunded 50.00 EUR of your order" in buyer_mail.body
    assert f"Credit note {note.number}, attached" in buyer_mail.body
    assert "The organisers have refunded this ticket." in outbox[0].body + outbox[1].body


def test_chosen_ticket_refunded_no_longer_admits_and_frees_its_seat(
    workshop, paid_type, standin, organiser, outbox
):
    order = paid_card_order(workshop, paid_type, standin)
    first, second = order.tickets.order_by("id")
    outbox.clear()

    row = refunds.refund(
        order=order, kind=Kind.TICKETS, ticket_ids=[first.pk], reason="Cannot come"
    )

    order.refresh_from_db()
    first.refresh_from_db()
    assert (order.status, order.refunded_amount, row.amount) == (
        "partly_refunded",
        Decimal("25.00"),
        Decimal("25.00"),
    )
    assert seats_left(paid_type) == 9
    assert checkin.refusal_reason(first) == f"it was refunded (order {order.code})"
    assert checkin.refusal_reason(second) == ""
    refused = checkin.check_in_ticket(ticket=first, actor=organiser)
    assert (refused.ok, first.checked_in_at) == (False, None)
    assert checkin.check_in_ticket(ticket=second, actor=organiser).ok
    note = CreditNote.objects.get(order=order)
    assert [line["amount"] for line in note.lines] == ["25.00"]
    assert sorted(m.to[0] for m in outbox) == ["ada0@example.org", "ada@example.org"]
    buyer_mail = next(m for m in outbox if m.to == ["ada@example.org"])
    assert first.code in buyer_mail.body and second.code not in buyer_mail.body

    # Refunding the last valid ticket refunds the order.
    refunds.refund(order=order, kind=Kind.TICKETS, ticket_ids=[second.pk], reason="Neither")

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("50.00"))
    assert seats_left(paid_type) == 10


def test_amount_refunded_keeps_tickets_valid(workshop, paid_type, standin, outbox):
    order = paid_card_order(workshop, paid_type, standin)
    outbox.clear()

    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="7.50", reason="Lunch off")

    order.refresh_from_db()
    assert (order.status, order.refunded_amount, row.amount) == (
        "partly_refunded",
        Decimal("7.50"),
        Decimal("7.50"),
    )
    assert order.tickets.filter(refund__isnull=False).count() == 0
    assert seats_left(paid_type) == 8
    assert standin.charge_for(order.stripe_session_id)["amount_refunded"] == 750
    assert [m.to[0] for m in outbox] == ["ada@example.org"]
    assert "Your tickets stay valid." in outbox[0].body


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        (Kind.AMOUNT, {"amount": "50.01"}, "At most 50.00 EUR can be refunded"),
        (Kind.AMOUNT, {"amount": "-5"}, "must be more than zero"),
        (Kind.AMOUNT, {"amount": "0"}, "must be more than zero"),
        (Kind.AMOUNT, {"amount": "1.005"}, "must be a whole number of 0.01 EUR"),
        (Kind.AMOUNT, {"amount": "ten"}, "must be a number"),
        (Kind.AMOUNT, {"amount": "NaN"}, "must be a number"),
        (Kind.AMOUNT, {}, "Give the amount to refund"),
        (Kind.TICKETS, {"ticket_ids": []}, "Choose the tickets to refund"),
        (Kind.TICKETS, {"ticket_ids": ["x"]}, "Choose the tickets to refund from the list"),
        (Kind.TICKETS, {"ticket_ids": [999999]}, "that are still valid"),
    ],
)
def test_bad_refunds_are_refused_and_change_nothing(
    workshop, paid_type, standin, kind, extra, message
):
    order = paid_card_order(workshop, paid_type, standin)
    before = snapshot(order)
    requests_before = len(standin.requests)

    with pytest.raises(RefundRefused, match=message):
        refunds.refund(order=order, kind=kind, reason="Test", **extra)

    assert snapshot(order) == before
    assert len(standin.requests) == requests_before


def test_refunded_ticket_and_refunded_order_are_refused_again(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    ticket = order.tickets.first()
    refunds.refund(order=order, kind=Kind.TICKETS, ticket_ids=[ticket.pk], reason="Once")
    before = snapshot(order)

    with pytest.raises(RefundRefused, match=f"Ticket {ticket.code} was refunded already"):
        refunds.refund(order=order, kind=Kind.TICKETS, ticket_ids=[ticket.pk], reason="Twice")
    refunds.refund(order=order, kind=Kind.ORDER, reason="The rest")
    with pytest.raises(RefundRefused, match="Nothing is left to refund"):
        refunds.refund(order=order, kind=Kind.AMOUNT, amount="1", reason="More")

    assert snapshot(order)[2] == before[2] + 1


def test_unpaid_and_free_orders_cannot_be_refunded(workshop, paid_type, free_type, standin):
    unpaid = place(workshop, paid_type)
    free = place(workshop, free_type, method="free")

    with pytest.raises(RefundRefused, match="only paid orders are refunded"):
        refunds.refund(order=unpaid, kind=Kind.ORDER, reason="x")
    with pytest.raises(RefundRefused, match="was free: nothing was paid"):
        refunds.refund(order=free, kind=Kind.ORDER, reason="x")
    assert not Refund.objects.exists()


def test_a_changed_order_is_not_refunded_on_an_old_confirmation(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    seen = refunds.plan_refund(order, kind=Kind.AMOUNT, amount="10").version
    refunds.refund(order=order, kind=Kind.AMOUNT, amount="10", reason="First organiser")

    with pytest.raises(RefundRefused, match="changed since the refund was shown"):
        refunds.refund(
            order=order, kind=Kind.AMOUNT, amount="10", reason="Second organiser", version=seen
        )

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("10.00")


def test_pending_refund_counts_until_stripe_says_it_failed(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    standin.next_refund_status = "pending"

    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="20", reason="Partial")

    order.refresh_from_db()
    assert (row.status, order.refunded_amount) == ("pending", Decimal("20.00"))
    with pytest.raises(RefundRefused, match="At most 30.00 EUR"):
        refunds.plan_refund(order, kind=Kind.AMOUNT, amount="31")

    standin.settle_refund(row.stripe_refund_id, "failed")

    row.refresh_from_db()
    order.refresh_from_db()
    assert (row.status, row.failure_reason) == ("failed", "expired_or_canceled_card")
    assert order.refunded_amount == Decimal("0.00")
    assert "Refund of 20.00 EUR failed" in order.events.last().note
    # Delivered again, the event changes nothing more.
    refunds.reconcile_stripe_refunds(order=order)
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("0.00")


def test_pending_refund_succeeds_when_stripe_says_so(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    standin.next_refund_status = "pending"
    row = refunds.refund(order=order, kind=Kind.ORDER, reason="All")

    standin.settle_refund(row.stripe_refund_id, "succeeded")

    row.refresh_from_db()
    order.refresh_from_db()
    assert (row.status, order.status, order.refunded_amount) == (
        "succeeded",
        "refunded",
        Decimal("50.00"),
    )
    assert order.refunds.count() == 1


def test_refund_stripe_refuses_is_recorded_failed(workshop, paid_type, standin, organiser):
    order = paid_card_order(workshop, paid_type, standin)
    standin.next_refund_status = "failed"

    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="5", reason="Declined")

    order.refresh_from_db()
    assert (row.status, row.failure_reason, order.refunded_amount) == (
        "failed",
        "card_declined",
        Decimal("0.00"),
    )
    assert order.status == "partly_refunded"


def test_refund_stripe_cannot_be_reached_is_sent_again_once(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    standin.fail_next("unreachable", path="/v1/refunds")

    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="5", reason="Later")

    assert (row.status, row.stripe_refund_id) == ("pending", None)
    assert refunds.send_unsent_refunds() == 0  # too soon
    later = timezone.now() + dt.timedelta(minutes=2)
    assert refunds.send_unsent_refunds(now=later) == 1
    assert refunds.send_unsent_refunds(now=later) == 0
    row.refresh_from_db()
    assert row.status == "succeeded"
    assert standin.charge_for(order.stripe_session_id)["amount_refunded"] == 500


def test_stripe_dashboard_refunds_are_recorded_once(workshop, paid_type, standin, outbox):
    order = paid_card_order(workshop, paid_type, standin)
    charge_id = standin.charge_for(order.stripe_session_id)["id"]
    ours = refunds.refund(order=order, kind=Kind.AMOUNT, amount="10", reason="Ours")
    outbox.clear()

    event = standin.refund(charge_id, 500)
    standin.deliver(event)  # Stripe may deliver an event twice

    order.refresh_from_db()
    rows = list(order.refunds.order_by("id"))
    assert [(r.amount, r.origin, r.status) for r in rows] == [
        (Decimal("10.00"), "site", "succeeded"),
        (Decimal("5.00"), "stripe", "succeeded"),
    ]
    assert rows[0] == ours
    assert (order.status, order.refunded_amount) == ("partly_refunded", Decimal("15.00"))
    assert [m.subject for m in outbox] == [f"Order {order.code}: 5.00 EUR refunded"]


def test_stripe_event_before_our_answer_is_matched_not_counted_twice(
    workshop, paid_type, standin, monkeypatch
):
    """Stripe's charge.refunded for our refund may arrive before we record Stripe's answer."""
    order = paid_card_order(workshop, paid_type, standin)
    charge_id = standin.charge_for(order.stripe_session_id)["id"]
    settle = refunds.settle

    def event_first(row, **kwargs):
        standin.deliver(standin.make_event("charge.refunded", standin.charges[charge_id]))
        return settle(row, **kwargs)

    monkeypatch.setattr(refunds, "settle", event_first)

    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="10", reason="Ours")

    order.refresh_from_db()
    assert order.refunds.get() == row
    assert (row.status, order.refunded_amount) == ("succeeded", Decimal("10.00"))


def test_invoice_order_refunded_by_bank_transfer(workshop, organiser, outbox):
    order = paid_invoice_order(workshop)
    outbox.clear()

    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="15", reason="Goodwill")

    order.refresh_from_db()
    assert (row.method, row.status, row.stripe_refund_id) == ("bank_transfer", "succeeded", None)
    assert (order.status, order.refunded_amount) == ("partly_refunded", Decimal("15.00"))
    note = CreditNote.objects.get(order=order)
    assert (note.total, note.settlement) == (Decimal("15.00"), "bank_transfer")
    assert "It is sent back to you by bank transfer." in outbox[0].body


def test_revenue_is_net_of_refunds(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    refunds.refund(order=order, kind=Kind.AMOUNT, amount="12.50", reason="Part")

    [row] = revenue(workshop)

    assert (row["gross"], row["refunded"], row["net"]) == (
        Decimal("50.00"),
        Decimal("12.50"),
        Decimal("37.50"),
    )


def test_freed_seat_goes_to_the_waiting_list(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00", capacity=2)
    order = paid_card_order(workshop, ticket_type, standin)
    calls = []
    original = waitlist.seats_freed

    def spy(type_ids):
        calls.append(sorted(set(type_ids)))
        return original(type_ids)

    import tickets.services.refunds as module

    module.waitlist.seats_freed = spy
    try:
        refunds.refund(
            order=order, kind=Kind.TICKETS, ticket_ids=[order.tickets.first().pk], reason="x"
        )
    finally:
        module.waitlist.seats_freed = original

    assert calls == [[ticket_type.pk]]
    assert seats_left(ticket_type) == 1


# -- The admin page ----------------------------------------------------------------------------


def refund_url(order):
    return f"/admin/tickets/order/{order.pk}/refund/"


def test_admin_refund_shows_what_will_happen_then_refunds(
    organiser_client, workshop, paid_type, standin
):
    order = paid_card_order(workshop, paid_type, standin)
    first = order.tickets.order_by("id").first()

    change = organiser_client.get(f"/admin/tickets/order/{order.pk}/change/")
    form = organiser_client.get(refund_url(order))
    review = organiser_client.post(
        refund_url(order),
        {"step": "review", "kind": "tickets", "tickets": [first.pk], "reason": "Ill"},
    )

    assert refund_url(order) in change.content.decode()
    assert "at most <strong>50.00 EUR</strong> can be refunded" in form.content.decode()
    page = review.content.decode()
    assert review.status_code == 200
    assert "What will happen" in page
    assert "is refunded to the buyer's card through Stripe" in page
    assert f"{first.code}: Regular for Ada 0" in page
    assert "partly refunded" in page
    assert not Refund.objects.exists()
    version = re.search(r'name="version" value="([^"]+)"', page)[1]

    done = organiser_client.post(
        refund_url(order),
        {
            "step": "confirm",
            "version": version,
            "kind": "tickets",
            "tickets": [first.pk],
            "reason": "Ill",
        },
    )

    assert done.status_code == 302
    assert done["Location"] == f"/admin/tickets/order/{order.pk}/change/"
    row = Refund.objects.get()
    assert (row.amount, row.created_by.username, row.reason) == (
        Decimal("25.00"),
        "organiser",
        "Ill",
    )
    after = organiser_client.get(done["Location"]).content.decode()
    assert "25.00 EUR refunded to the card of order" in after
    assert row.stripe_refund_id in after


def test_admin_refund_bad_input_and_stale_confirmation(
    organiser_client, workshop, paid_type, standin
):
    order = paid_card_order(workshop, paid_type, standin)

    missing = organiser_client.post(refund_url(order), {"step": "review", "kind": "amount"})
    too_much = organiser_client.post(
        refund_url(order), {"step": "review", "kind": "amount", "amount": "60", "reason": "x"}
    )
    stale = organiser_client.post(
        refund_url(order),
        {"step": "confirm", "version": "old", "kind": "amount", "amount": "5", "reason": "x"},
    )

    assert missing.status_code == 400
    assert "This field is required." in missing.content.decode()
    assert too_much.status_code == 409
    assert "At most 50.00 EUR can be refunded" in too_much.content.decode()
    assert stale.status_code == 409
    assert "changed since the refund was shown" in stale.content.decode()
    assert not Refund.objects.exists()


def test_admin_refund_needs_change_permission(client, workshop, paid_type, standin):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    order = paid_card_order(workshop, paid_type, standin)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)

    response = client.post(refund_url(order), {"step": "review", "kind": "order", "reason": "x"})

    assert response.status_code == 403
    assert not Refund.objects.exists()


def test_order_page_lists_refunds_and_marks_refunded_tickets(client, workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    first = order.tickets.order_by("id").first()
    refunds.refund(order=order, kind=Kind.TICKETS, ticket_ids=[first.pk], reason="x")

    page = client.get(order.get_absolute_url()).content.decode()

    assert "<caption>Refunds</caption>" in page
    assert "<td>25.00 EUR</td><td>To the card</td><td>Succeeded</td>" in page
    assert page.count("this ticket no longer admits anyone") == 1
    assert page.count('class="qr"') == 1


def test_order_status_after_refunds(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    refunds.refund(order=order, kind=Kind.AMOUNT, amount="50", reason="All as an amount")

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert seats_left(paid_type) == 10


def test_whole_refund_after_an_unrecorded_dashboard_refund_gives_back_only_the_rest(
    workshop, paid_type, standin
):
    order = paid_card_order(workshop, paid_type, standin)
    charge_id = standin.charge_for(order.stripe_session_id)["id"]
    event = standin.refund(charge_id, 1000, deliver=False)  # its event is still on its way

    row = refunds.refund(order=order, kind=Kind.ORDER, reason="All")
    standin.deliver(event)

    order.refresh_from_db()
    row.refresh_from_db()
    assert (row.amount, row.status) == (Decimal("40.00"), "succeeded")
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("50.00"))
    assert standin.charge_for(order.stripe_session_id)["amount_refunded"] == 5000
    assert sorted(order.refunds.values_list("amount", flat=True)) == [
        Decimal("10.00"),
        Decimal("40.00"),
    ]


def test_refund_pending_for_a_day_is_read_back_from_stripe(workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    standin.next_refund_status = "pending"
    row = refunds.refund(order=order, kind=Kind.AMOUNT, amount="10", reason="Slow bank")
    standin.settle_refund(row.stripe_refund_id, "succeeded", deliver=False)  # event lost

    refunds.send_unsent_refunds(now=timezone.now() + dt.timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == "pending"
    refunds.send_unsent_refunds(now=timezone.now() + dt.timedelta(days=2))

    row.refresh_from_db()
    assert row.status == "succeeded"
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("10.00")


def test_attendee_of_a_refunded_ticket_cannot_be_corrected(client, workshop, paid_type, standin):
    order = paid_card_order(workshop, paid_type, standin)
    ticket = order.tickets.order_by("id").first()
    refunds.refund(order=order, kind=Kind.TICKETS, ticket_ids=[ticket.pk], reason="x")

    response = client.post(
        order.get_absolute_url(),
        {"ticket": ticket.pk, f"t{ticket.pk}-name": "Eve", f"t{ticket.pk}-email": "e@example.org"},
        follow=True,
    )

    ticket.refresh_from_db()
    assert ticket.attendee_name == "Ada 0"
    assert f"Ticket {ticket.code} was refunded: it admits no one." in response.content.decode()
