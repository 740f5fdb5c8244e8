"""manage.py anonymise_attendees: buyers and attendees of long-ended workshops."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, WorkshopFactory
from tickets.models import AttendeeMessage, MessageDelivery, Order, StripeEvent, Ticket
from workshop.models import OutgoingEmail

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
        message=sent,
        email="p0@example.org",
        name="Person 0",
        outgoing_email=logged_email("p0@example.org", OutgoingEmail.State.SENT),
    )
    kept = AttendeeMessage.objects.create(workshop=recent, subject="Soon", body="Hi")
    kept_email = logged_email("p0@example.org", OutgoingEmail.State.SENT)
    MessageDelivery.objects.create(
        message=kept, email="p0@example.org", name="Person 0", outgoing_email=kept_email
    )

    run()

    assert StripeEvent.objects.get(event_id="evt_old").payload == {
        "id": "evt_old",
        "type": "checkout.session.completed",
        "erased": True,
    }
    old_delivery = MessageDelivery.objects.get(message=sent)
    assert (old_delivery.email.endswith("@erased.invalid"), old_delivery.name) == (True, "")
    # Its e-mail, which names the address, left the mail log; the delivery still reads as sent.
    assert (old_delivery.outgoing_email, old_delivery.state) == (None, "sent")
    assert list(OutgoingEmail.objects.all()) == [kept_email]
    assert MessageDelivery.objects.get(message=kept).email == "p0@example.org"


def logged_email(address, state, last_error=""):
    return OutgoingEmail.objects.create(
        subject="Thanks",
        recipients=address,
        message={"to": [address]},
        state=state,
        last_error=last_error,
    )


@pytest.mark.parametrize("orders", [1, 8])
def test_anonymise_query_count_is_constant(orders, django_assert_num_queries):
    old = ended_workshop(100, "old")
    ticket_type = TicketTypeFactory(workshop=old)
    message = AttendeeMessage.objects.create(workshop=old, subject="Thanks", body="Hi")
    for n in range(orders):
        TicketFactory(order=OrderFactory(workshop=old), ticket_type=ticket_type)
        for state in [OutgoingEmail.State.SENT, OutgoingEmail.State.FAILED]:
            MessageDelivery.objects.create(
                message=message,
                email=f"{state}{n}@example.org",
                outgoing_email=logged_email(f"{state}{n}@example.org", state),
            )

    with django_assert_num_queries(16):
        output = run()

    assert output.startswith(f"Anonymised {orders} order(s) and {orders} ticket(s)")
    assert MessageDelivery.objects.count() == orders
    assert not OutgoingEmail.objects.exists()


@pytest.mark.parametrize("state", [OutgoingEmail.State.FAILED, OutgoingEmail.State.QUEUED])
def test_anonymise_drops_unsent_deliveries_with_their_emails(workshops, state):
    old, _recent = workshops
    sent = AttendeeMessage.objects.create(workshop=old, subject="Thanks", body="Hi")
    error = "550 5.1.1 <p0@example.org>: Recipient address rejected: User unknown"
    MessageDelivery.objects.create(
        message=sent,
        email="p0@example.org",
        name="Person 0",
        outgoing_email=logged_email("p0@example.org", state, last_error=error),
    )
    MessageDelivery.objects.create(
        message=sent,
        email="p1@example.org",
        outgoing_email=logged_email("p1@example.org", OutgoingEmail.State.SENT),
    )

    run()

    # The unsent one will not be sent now, and nothing keeps its address or the error.
    [delivery] = MessageDelivery.objects.filter(message=sent)
    assert (delivery.email.endswith("@erased.invalid"), delivery.state) == (True, "sent")
    assert not OutgoingEmail.objects.exists()
