"""Card payments still processing after Stripe's time limit: asked of Stripe and settled."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import TicketTypeFactory
from tests.tickets.conftest import BUYER, people
from tickets.models import Order
from tickets.services import capacity, lifecycle, stripe_checkout
from tickets.services.stranded import (
    PROCESSING_LIMIT,
    STILL_PROCESSING_NOTE,
    settle_processing_payments,
)

pytestmark = pytest.mark.django_db

LATER = PROCESSING_LIMIT + dt.timedelta(minutes=1)


@pytest.fixture
def ticket_type(workshop):
    return TicketTypeFactory(workshop=workshop, capacity=1)


@pytest.fixture
def processing(workshop, ticket_type, standin):
    """A card order paid by bank debit whose result Stripe has not told (no webhook came)."""
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id, payment_status="unpaid")
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    return order


def stripe_asked(standin, order):
    return [path for _, path, _ in standin.requests if order.stripe_session_id in path]


def test_payment_settled_without_its_event_is_recorded_paid(
    processing, standin, outbox, django_capture_on_commit_callbacks
):
    standin.settle(processing.stripe_session_id, succeeded=True, deliver=False)

    with django_capture_on_commit_callbacks(execute=True):
        counts = settle_processing_payments(now=timezone.now() + LATER)

    processing.refresh_from_db()
    assert counts == {"paid": 1, "failed": 0, "still processing": 0, "unreachable": 0}
    assert processing.status == Order.Status.PAID
    buyer_mail = [m.subject for m in outbox if m.to == [processing.buyer_email]]
    assert buyer_mail == [f"Your tickets for {processing.workshop.title}"]


def test_payment_failed_without_its_event_releases_the_seats(processing, standin, ticket_type):
    standin.settle(processing.stripe_session_id, succeeded=False, deliver=False)
    later = timezone.now() + LATER

    counts = settle_processing_payments(now=later)

    processing.refresh_from_db()
    assert counts["failed"] == 1
    assert processing.status == Order.Status.EXPIRED
    assert processing.events.last().note == (
        "The delayed payment failed (Stripe asked after its time limit)."
    )
    assert capacity.seats_taken([ticket_type.id], now=later) == {}


def test_payment_still_processing_keeps_its_seats_and_is_noted_once(processing, standin):
    later = timezone.now() + LATER

    first = settle_processing_payments(now=later)
    second = settle_processing_payments(now=later)

    processing.refresh_from_db()
    assert first == second == {"paid": 0, "failed": 0, "still processing": 1, "unreachable": 0}
    assert processing.status == Order.Status.PROCESSING
    assert [e.note for e in processing.events.all()].count(STILL_PROCESSING_NOTE) == 1


def test_payment_within_stripes_limit_is_not_asked_about(processing, standin):
    standin.settle(processing.stripe_session_id, succeeded=True, deliver=False)
    asked_before = len(stripe_asked(standin, processing))

    counts = settle_processing_payments(
        now=timezone.now() + PROCESSING_LIMIT - dt.timedelta(hours=1)
    )

    processing.refresh_from_db()
    assert sum(counts.values()) == 0
    assert len(stripe_asked(standin, processing)) == asked_before
    assert processing.status == Order.Status.PROCESSING


def test_stripe_unreachable_leaves_the_order_for_the_next_run(processing, standin):
    standin.settle(processing.stripe_session_id, succeeded=True, deliver=False)
    standin.fail_next("unreachable")
    later = timezone.now() + LATER

    first = settle_processing_payments(now=later)
    processing.refresh_from_db()
    status_between = processing.status
    second = settle_processing_payments(now=later)

    processing.refresh_from_db()
    assert (first["unreachable"], status_between) == (1, Order.Status.PROCESSING)
    assert (second["paid"], processing.status) == (1, Order.Status.PAID)


def test_command_settles_and_says_how_many(processing, standin):
    standin.settle(processing.stripe_session_id, succeeded=True, deliver=False)
    Order.objects.filter(pk=processing.pk).update(status=Order.Status.PROCESSING)
    processing.events.filter(to_status="processing").update(created_at=timezone.now() - LATER)
    out = StringIO()

    call_command("settle_processing_payments", stdout=out)

    processing.refresh_from_db()
    assert out.getvalue() == "paid: 1, failed: 0, still processing: 0, unreachable: 0.\n"
    assert processing.status == Order.Status.PAID
