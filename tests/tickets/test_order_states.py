"""The order state diagram in docs/orders.md is the code's: every arrow is walked here.

The arrows are read from the document. Each has a scenario below that brings an order to the
arrow's start and makes the move the way its side does (the buyer's service, an organiser's
action, a Stripe event delivered to the webhook, a periodic job), then finds the move in the
order's history, made by the right person. An arrow without a scenario, a scenario without an
arrow, or a pair of states the code allows but the diagram does not show, fails.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import TicketTypeFactory
from tests.tickets.conftest import BUYER, people
from tickets.models import Order
from tickets.services import (
    buyer_cancellation,
    errors,
    invoice_terms,
    lifecycle,
    refunds,
    stranded,
    stripe_checkout,
)

pytestmark = pytest.mark.django_db

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "orders.md"
ARROW = re.compile(
    r"^\s*(?P<start>\[\*\]|[a-z_]+) --> (?P<end>[a-z_]+) : "
    r"(?P<side>buyer|organiser|Stripe|clock) · (?P<what>.+?)\s*$"
)
START = "[*]"
LATER = dt.timedelta(days=400)


def diagram_arrows():
    """Return (start, end, side, what) of every labelled arrow of the document's diagram."""
    text = DOCUMENT.read_text()
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    return [
        (m["start"], m["end"], m["side"], m["what"])
        for line in diagram.splitlines()
        if (m := ARROW.match(line))
    ]


# -- Orders to start from ----------------------------------------------------------------------


class World:
    """The workshop, its ticket types, an organiser and the Stripe stand-in of one scenario."""

    def __init__(self, workshop, standin, organiser):
        self.workshop, self.standin, self.organiser = workshop, standin, organiser
        self.card = TicketTypeFactory(workshop=workshop, name="Card", capacity=1)
        self.invoice = TicketTypeFactory(
            workshop=workshop, name="Invoice", capacity=1, invoice_allowed=True
        )
        self.free = TicketTypeFactory(workshop=workshop, name="Free", price="0.00")
        self.buyers = iter(range(1000))

    def place(self, ticket_type, method):
        extra = {"invoice_details": "Example University"} if method == "invoice" else {}
        return lifecycle.create_order(
            workshop=self.workshop,
            ticket_counts={ticket_type.id: 1},
            buyer={**BUYER, "email": f"buyer{next(self.buyers)}@example.org"},
            attendees=people(1),
            payment_method=method,
            **extra,
        )

    def card_order(self):
        order = self.place(self.card, "stripe")
        stripe_checkout.start_checkout(order=order)
        order.refresh_from_db()
        return order

    def invoice_order(self):
        return self.place(self.invoice, "invoice")

    def free_order(self):
        return self.place(self.free, "free")

    def paid_card_order(self):
        order = self.card_order()
        self.standin.pay(order.stripe_session_id)
        return fresh(order)

    def processing_order(self, **settle):
        order = self.card_order()
        self.standin.pay(order.stripe_session_id, payment_status="unpaid")
        if settle:
            self.standin.settle(order.stripe_session_id, deliver=False, **settle)
        return fresh(order)

    def charge(self, order):
        return self.standin.charge_for(order.stripe_session_id)["id"]

    def refund_in_dashboard(self, order, amount=None):
        self.standin.refund(self.charge(order), amount)

    def lose_dispute(self, order, amount=None):
        opened = self.standin.dispute(self.charge(order), deliver=False)
        dispute = opened["data"]["object"]["id"]
        if amount is not None:
            self.standin.disputes[dispute]["amount"] = amount
        self.standin.deliver(opened)
        self.standin.close_dispute(dispute, "lost")

    def partly_refunded_order(self):
        order = self.paid_card_order()
        self.refund_in_dashboard(order, 1000)
        return fresh(order)

    def expired_card_order(self):
        """A card order expired while its Checkout Session was still open (a late payment)."""
        order = self.card_order()
        return lifecycle.release_order(order=order, note="Reservation ran out.")

    def expired_invoice_order(self):
        order = self.invoice_order()
        invoice_terms.expire_overdue_invoice_orders(now=timezone.now() + LATER)
        return fresh(order)

    def take_the_seat(self, ticket_type):
        self.place(ticket_type, "stripe" if ticket_type == self.card else "invoice")

    def pay_late(self, order, *, seats_sold):
        if seats_sold:
            self.take_the_seat(self.card)
        self.standin.pay(order.stripe_session_id)
        return fresh(order)


def fresh(order):
    order.refresh_from_db()
    return order


def run_out(order):
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - dt.timedelta(1))
    return fresh(order)


def settle_later():
    stranded.settle_processing_payments(now=timezone.now() + stranded.PROCESSING_LIMIT * 2)


# -- One scenario per arrow: make the move, return the order -----------------------------------


def places_an_order(w):
    return w.card_order()


def free_confirmed(w):
    return w.free_order()


def card_paid(w):
    return w.paid_card_order()


def bank_transfer_recorded(w):
    order = w.invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=w.organiser)
    return order


def bank_debit_started(w):
    return w.processing_order()


def reservation_ran_out(w):
    order = run_out(w.card_order())
    stripe_checkout.release_expired_orders()
    return order


def session_expired(w):
    order = w.card_order()
    w.standin.expire(order.stripe_session_id)
    return order


def checkout_could_not_start(w):
    order = w.place(w.card, "stripe")
    w.standin.fail_next(500, path="/v1/checkout/sessions")
    with pytest.raises(errors.PaymentUnavailable):
        stripe_checkout.start_checkout(order=order)
    return order


def delayed_payment_failed_before_completed(w):
    order = w.card_order()
    w.standin.pay(order.stripe_session_id, payment_status="unpaid", deliver=False)
    w.standin.settle(order.stripe_session_id, succeeded=False)
    return order


def invoice_unpaid_after_grace(w):
    return w.expired_invoice_order()


def unpaid_cancelled(w):
    order = w.card_order()
    lifecycle.cancel_order(order=order, actor=w.organiser)
    return order


def buyer_cancels(order):
    """Cancel the order as its buyer does on the order page (signed out), before the cut-off."""
    order.workshop.buyer_cancellation_until = timezone.now() + dt.timedelta(days=1)
    order.workshop.save()
    terms = buyer_cancellation.cancellation_terms(order)
    buyer_cancellation.cancel_by_buyer(order=order, version=terms.version)
    return order


def buyer_cancels_unpaid(w):
    return buyer_cancels(w.invoice_order())


def buyer_cancels_paid(w):
    order = w.paid_card_order()
    order.workshop.buyer_cancellation_paid = True
    order.workshop.buyer_cancellation_fee = "5.00"
    order.workshop.save()
    return buyer_cancels(order)


def buyer_cancels_paid_invoice(w):
    order = w.invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=w.organiser)
    order.workshop.buyer_cancellation_paid = True
    order.workshop.buyer_cancellation_fee = "5.00"
    order.workshop.save()
    return buyer_cancels(fresh(order))


def buyer_cancels_free(w):
    return buyer_cancels(w.free_order())


def paid_after_seats_sold_while_pending(w):
    order = run_out(w.card_order())
    return w.pay_late(order, seats_sold=True)


def bank_debit_succeeded(w):
    order = w.processing_order()
    w.standin.settle(order.stripe_session_id, succeeded=True)
    return order


def bank_debit_succeeded_asked_late(w):
    order = w.processing_order(succeeded=True)
    settle_later()
    return order


def bank_debit_failed(w):
    order = w.processing_order()
    w.standin.settle(order.stripe_session_id, succeeded=False)
    return order


def bank_debit_failed_asked_late(w):
    order = w.processing_order(succeeded=False)
    settle_later()
    return order


def part_refunded_in_dashboard(w):
    return w.partly_refunded_order()


def part_disputed_and_lost(w):
    order = w.paid_card_order()
    w.lose_dispute(order, amount=1000)
    return order


def organiser_refunds_card_order(w):
    order = w.paid_card_order()
    refunds.refund_order(order=order, actor=w.organiser)
    return order


def organiser_refunds_a_ticket(w):
    order = w.paid_card_order()
    ticket = order.tickets.get()
    refunds.refund(
        order=order, kind=refunds.Kind.AMOUNT, amount="5", reason="Part", actor=w.organiser
    )
    assert ticket.refund_id is None
    return order


def organiser_refunds_more(w):
    order = w.partly_refunded_order()
    refunds.refund(
        order=order, kind=refunds.Kind.AMOUNT, amount="5", reason="More", actor=w.organiser
    )
    return order


def organiser_refunds_invoice_order(w):
    order = w.invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=w.organiser)
    refunds.refund(order=fresh(order), kind=refunds.Kind.ORDER, reason="All", actor=w.organiser)
    return order


def all_refunded_in_dashboard(w):
    order = w.paid_card_order()
    w.refund_in_dashboard(order)
    return order


def whole_dispute_lost(w):
    order = w.paid_card_order()
    w.lose_dispute(order)
    return order


def paid_free_order_cancelled(w):
    order = w.free_order()
    lifecycle.cancel_order(order=order, actor=w.organiser)
    return order


def more_refunded_in_dashboard(w):
    order = w.partly_refunded_order()
    w.refund_in_dashboard(order, 500)
    return order


def rest_refunded_in_dashboard(w):
    order = w.partly_refunded_order()
    w.refund_in_dashboard(order)
    return order


def organiser_refunds_the_rest(w):
    order = w.partly_refunded_order()
    refunds.refund_order(order=order, actor=w.organiser)
    return order


def dispute_of_the_rest_lost(w):
    order = w.partly_refunded_order()
    w.lose_dispute(order)
    return order


def late_card_payment_accepted(w):
    return w.pay_late(w.expired_card_order(), seats_sold=False)


def late_transfer_accepted(w):
    order = w.expired_invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=w.organiser)
    return order


def late_card_payment_refunded(w):
    return w.pay_late(w.expired_card_order(), seats_sold=True)


def refused_transfer_returned(w):
    order = w.expired_invoice_order()
    w.take_the_seat(w.invoice)
    invoice_terms.record_bank_transfer(order=order, actor=w.organiser)
    invoice_terms.record_transfer_returned(order=order, actor=w.organiser)
    return order


def payment_for_cancelled_order(w):
    order = w.card_order()
    lifecycle.cancel_order(order=order, actor=w.organiser)
    # The buyer paid as Stripe was expiring the session: the payment still arrives.
    w.standin.sessions[order.stripe_session_id]["status"] = "open"
    w.standin.pay(order.stripe_session_id)
    return order


def cancelled_transfer_returned(w):
    order = w.invoice_order()
    invoice_terms.record_bank_transfer(order=order, actor=w.organiser)
    lifecycle.cancel_order(order=fresh(order), actor=w.organiser)
    invoice_terms.record_transfer_returned(order=order, actor=w.organiser)
    return order


SCENARIOS = {
    (START, "pending", "buyer", "places an order"): places_an_order,
    ("pending", "paid", "buyer", "a free order is confirmed at once"): free_confirmed,
    ("pending", "paid", "Stripe", "the card payment is received"): card_paid,
    ("pending", "paid", "organiser", "records the invoice's bank transfer"): (
        bank_transfer_recorded
    ),
    ("pending", "processing", "Stripe", "a bank debit is started"): bank_debit_started,
    ("pending", "expired", "clock", "the card reservation ran out"): reservation_ran_out,
    ("pending", "expired", "Stripe", "the Checkout Session expired"): session_expired,
    ("pending", "expired", "Stripe", "card payment could not start"): checkout_could_not_start,
    ("pending", "expired", "Stripe", "the delayed payment failed"): (
        delayed_payment_failed_before_completed
    ),
    ("pending", "expired", "clock", "the invoice is unpaid after its grace period"): (
        invoice_unpaid_after_grace
    ),
    ("pending", "cancelled", "organiser", "cancels the unpaid order"): unpaid_cancelled,
    ("pending", "cancelled", "buyer", "cancels the unpaid order on its page, before the cut-off"): (
        buyer_cancels_unpaid
    ),
    (
        "pending",
        "refunded",
        "Stripe",
        "paid after the reservation ran out and the seats were sold",
    ): paid_after_seats_sold_while_pending,
    ("processing", "paid", "Stripe", "the bank debit succeeded"): bank_debit_succeeded,
    ("processing", "paid", "clock", "Stripe, asked after its time limit, says it succeeded"): (
        bank_debit_succeeded_asked_late
    ),
    ("processing", "expired", "Stripe", "the bank debit failed"): bank_debit_failed,
    ("processing", "expired", "clock", "Stripe, asked after its time limit, says it failed"): (
        bank_debit_failed_asked_late
    ),
    ("paid", "partly_refunded", "Stripe", "part is refunded in Stripe's dashboard"): (
        part_refunded_in_dashboard
    ),
    ("paid", "partly_refunded", "Stripe", "a dispute of part of the payment is lost"): (
        part_disputed_and_lost
    ),
    ("paid", "partly_refunded", "organiser", "refunds chosen tickets or an amount"): (
        organiser_refunds_a_ticket
    ),
    ("paid", "refunded", "organiser", "refunds the card order in full"): (
        organiser_refunds_card_order
    ),
    ("paid", "refunded", "organiser", "refunds the invoice order by bank transfer"): (
        organiser_refunds_invoice_order
    ),
    ("paid", "refunded", "buyer", "cancels the paid card order on its page, less the fee"): (
        buyer_cancels_paid
    ),
    ("paid", "cancelled", "buyer", "cancels the paid invoice order on its page, less the fee"): (
        buyer_cancels_paid_invoice
    ),
    ("paid", "refunded", "Stripe", "all is refunded in Stripe's dashboard"): (
        all_refunded_in_dashboard
    ),
    ("paid", "refunded", "Stripe", "a dispute of the whole payment is lost"): whole_dispute_lost,
    ("paid", "cancelled", "organiser", "cancels a paid free or invoice order"): (
        paid_free_order_cancelled
    ),
    ("paid", "cancelled", "buyer", "cancels the free order on its page, before the cut-off"): (
        buyer_cancels_free
    ),
    ("partly_refunded", "partly_refunded", "Stripe", "more is refunded in Stripe's dashboard"): (
        more_refunded_in_dashboard
    ),
    (
        "partly_refunded",
        "partly_refunded",
        "organiser",
        "refunds more tickets or another amount",
    ): organiser_refunds_more,
    ("partly_refunded", "refunded", "Stripe", "the rest is refunded in Stripe's dashboard"): (
        rest_refunded_in_dashboard
    ),
    ("partly_refunded", "refunded", "organiser", "refunds the rest of the card order"): (
        organiser_refunds_the_rest
    ),
    ("partly_refunded", "refunded", "Stripe", "a dispute of what is left is lost"): (
        dispute_of_the_rest_lost
    ),
    ("expired", "paid", "Stripe", "a late card payment, and the seats are still free"): (
        late_card_payment_accepted
    ),
    (
        "expired",
        "paid",
        "organiser",
        "records a late bank transfer, and the seats are still free",
    ): late_transfer_accepted,
    ("expired", "refunded", "Stripe", "a late card payment, and the seats were sold"): (
        late_card_payment_refunded
    ),
    (
        "expired",
        "refunded",
        "organiser",
        "returns a late bank transfer refused for want of seats",
    ): refused_transfer_returned,
    ("cancelled", "refunded", "Stripe", "a card payment arrives for the cancelled order"): (
        payment_for_cancelled_order
    ),
    ("cancelled", "refunded", "organiser", "returns the bank transfer of the cancelled order"): (
        cancelled_transfer_returned
    ),
}


# -- The checks --------------------------------------------------------------------------------


def test_every_arrow_of_the_diagram_has_a_scenario_and_every_scenario_an_arrow():
    arrows = diagram_arrows()

    assert len(arrows) == len(set(arrows)), "an arrow is drawn twice"
    assert sorted(set(arrows) - set(SCENARIOS)) == [], "walk these arrows below"
    assert sorted(set(SCENARIOS) - set(arrows)) == [], "draw these moves in docs/orders.md"


def test_the_diagram_shows_every_state_and_every_move_the_code_allows():
    arrows = diagram_arrows()
    pairs = {(start, end) for start, end, _, _ in arrows if start != START}
    allowed = {(start, end) for start, ends in lifecycle.NEXT_STATUSES.items() for end in ends}
    states = {state for arrow in arrows for state in arrow[:2]} - {START}

    assert states == set(Order.Status.values)
    assert pairs == allowed


@pytest.mark.parametrize("arrow", diagram_arrows(), ids=lambda arrow: " ".join(arrow))
def test_walk_the_arrow(arrow, workshop, standin, organiser):
    start, end, side, _ = arrow
    scenario = SCENARIOS.get(arrow)
    assert scenario is not None, f"no scenario walks {arrow}"

    order = scenario(World(workshop, standin, organiser))

    moves = [
        (event.from_status, event.to_status, event.actor)
        for event in order.events.select_related("actor")
        if event.from_status != event.to_status or event.from_status == end == start
    ]
    made_by = organiser if side == "organiser" else None
    assert ("" if start == START else start, end, made_by) in moves
    assert fresh(order).status == end
