"""manage.py anonymise_attendees: buyers and attendees of long-ended workshops."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, WorkshopFactory
from tickets.models import AttendeeMessage, MessageDelivery, Order, StripeEvent, Ticket

pytestmark = pytest.mark.django_db


def ended_workshop(days_ago, slug):
    ends = timezone.now() - dt.timedelta(days=days_ago)
    return WorkshopFactory(
        slug=slug, starts_at=ends - dt.timedelta(hours=5), ends_at=ends, is_current=False
    )


@pytest.fixture
def workshops():
    old = ended_workshop(100, "old")
    recent = ended_workshop(10, "recent")
    for workshop, code in ((old, "OLD"), (recent, "NEW")):
        ticket_type = TicketTypeFactory(workshop=workshop)
        order = OrderFactory(
            workshop=workshop, code=code, buyer_name="Ada Buyer", buyer_email="ada@example.org"
        )
        for n in range(2):
            TicketFactory(
                order=order,
                ticket_type=ticket_type,
                attendee_name=f"Person {n}",
                attendee_email=f"p{n}@example.org",
            )
    return old, recent


def run(*args):
    out = StringIO()
    call_command("anonymise_attendees", *args, stdout=out)
    return out.getvalue().strip()


def test_anonymise_changes_only_workshops_ended_before_the_cutoff(workshops):
    output = run("--days", "90")

    assert output == (
        "Anonymised 1 order(s) and 2 ticket(s) of workshops that ended more than 90 day(s) ago."
    )
    old = Order.objects.get(code="OLD")
    assert (old.buyer_name, old.buyer_email, old.status) == (
        "(removed)",
        "erased-old@erased.invalid",
        Order.Status.PAID,
    )
    assert set(old.tickets.values_list("attendee_name", flat=True)) == {"(removed)"}
    assert all(
        t.attendee_email == f"erased-{t.code.lower()}@erased.invalid" for t in old.tickets.all()
    )
    new = Order.objects.get(code="NEW")
    assert (new.buyer_name, new.buyer_email) == ("Ada Buyer", "ada@example.org")
    assert sorted(new.tickets.values_list("attendee_name", flat=True)) == ["Person 0", "Person 1"]


def test_anonymise_is_idempotent(workshops):
    run()
    before = list(Ticket.objects.values_list("attendee_name", "attendee_email").order_by("id"))

    output = run()

    assert output == (
        "Anonymised 0 order(s) and 0 ticket(s) of workshops that ended more than 90 day(s) ago."
    )
    assert list(Ticket.objects.values_list("attendee_name", "attendee_email").order_by("id")) == (
        before
    )


def test_anonymise_dry_run_changes_nothing(workshops):
    output = run("--dry-run", "--days", "5")

    assert output == (
        "Would anonymise 2 order(s) and 4 ticket(s) of workshops that ended more than 5 day(s) ago."
    )
    assert not Ticket.objects.filter(attendee_name="(removed)").exists()
    assert not Order.objects.filter(buyer_name="(removed)").exists()


def test_anonymise_default_days_from_setting(workshops, settings):
    settings.PRIVACY_ANONYMISE_AFTER_DAYS = 5

    # The default is read when the command's options are built.
    from tickets.management.commands import anonymise_attendees

    parser = anonymise_attendees.Command().create_parser("manage.py", "anonymise_attendees")

    assert parser.parse_args([]).days == 5


def test_anonymise_refuses_negative_days():
    with pytest.raises(CommandError, match="--days cannot be negative."):
        run("--days", "-1")


def test_anonymise_refuses_days_too_large_with_a_clear_message():
    with pytest.raises(CommandError, match="--days is too large."):
        run("--days", "1000000")


def test_anonymise_clears_stripe_copies_and_message_addresses(workshops):
    old, recent = workshops
    StripeEvent.objects.create(
        event_id="evt_old",
        type="checkout.session.completed",
        order=Order.objects.get(code="OLD"),
        payload={"customer_details": {"email": "ada@example.org"}},
    )
    sent = AttendeeMessage.objects.create(workshop=old, subject="Thanks", body="Hi")
    MessageDelivery.objects.create(
        message=sent, email="p0@example.org", name="Person 0", status=MessageDelivery.Status.SENT
    )
    kept = AttendeeMessage.objects.create(workshop=recent, subject="Soon", body="Hi")
    MessageDelivery.objects.create(message=kept, email="p0@example.org", name="Person 0")

    run()

    assert StripeEvent.objects.get(event_id="evt_old").payload == {
        "id": "evt_old",
        "type": "checkout.session.completed",
        "erased": True,
    }
    old_delivery = MessageDelivery.objects.get(message=sent)
    assert (old_delivery.email.endswith("@erased.invalid"), old_delivery.name) == (True, "")
    assert MessageDelivery.objects.get(message=kept).email == "p0@example.org"


@pytest.mark.parametrize("orders", [1, 8])
def test_anonymise_query_count_is_constant(orders, django_assert_num_queries):
    old = ended_workshop(100, "old")
    ticket_type = TicketTypeFactory(workshop=old)
    for _ in range(orders):
        TicketFactory(order=OrderFactory(workshop=old), ticket_type=ticket_type)

    with django_assert_num_queries(11):
        output = run()

    assert output.startswith(f"Anonymised {orders} order(s) and {orders} ticket(s)")


def test_anonymise_removes_the_address_from_a_failed_delivery_error(workshops):
    old, _recent = workshops
    sent = AttendeeMessage.objects.create(workshop=old, subject="Thanks", body="Hi")
    MessageDelivery.objects.create(
        message=sent,
        email="p0@example.org",
        name="Person 0",
        status=MessageDelivery.Status.FAILED,
        last_error="550 5.1.1 <p0@example.org>: Recipient address rejected: User unknown",
    )

    run()

    delivery = MessageDelivery.objects.get(message=sent)
    assert "p0@example.org" not in delivery.last_error
    assert delivery.last_error.startswith("550 5.1.1")
