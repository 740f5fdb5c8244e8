"""The organisers' dashboard: access, every figure against known data, query counts, HTML."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from schedule.models import Review
from speakers import services as speaker_services
from speakers.models import Invitation
from tests.browser import checkers
from tests.factories import (
    CallFactory,
    OrderFactory,
    OrganiserFactory,
    ProposalFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tests.security.html_checks import duplicate_ids, inline_code
from tickets.models import Dispute, Order, OrderEvent, Refund, RejectedPayment
from tickets.services.stranded import PROCESSING_LIMIT
from workshop import roles
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db

DASHBOARD = "/organisers/"
SOON = timezone.now() + dt.timedelta(minutes=20)
PAST = timezone.now() - dt.timedelta(minutes=20)


def html_of(response):
    return response.content.decode()


def squash(html):
    """Return the HTML with runs of white space made one space, for row assertions."""
    return re.sub(r"\s+", " ", html)


def order(workshop, status, *, tickets=(), method="stripe", total="25.00", **fields):
    """Create an order with tickets of the given types (one per entry) and return it."""
    made = OrderFactory(
        workshop=workshop, status=status, payment_method=method, total=total, **fields
    )
    for ticket_type in tickets:
        TicketFactory(order=made, ticket_type=ticket_type)
    return made


def on_day(orders, moment):
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(created_at=moment)


@pytest.fixture
def sales(workshop):
    """Two ticket types and orders in every state, with known figures.

    Regular (10 seats): 3 paid tickets (one checked in), 1 partly refunded, 2 reserved by a
    card checkout running now, 1 by an unpaid invoice, 1 processing; an expired reservation,
    a cancelled and a refunded order hold none. Sold 4, reserved 4, left 2, checked in 1.
    Community (unlimited): 2 paid. Sold 2, reserved 0, left unlimited.
    """
    regular = TicketTypeFactory(workshop=workshop, name="Regular", capacity=10, position=1)
    community = TicketTypeFactory(
        workshop=workshop, name="Community", capacity=None, price="0.00", position=2
    )
    paid = order(workshop, "paid", tickets=[regular, regular], total="50.00")
    paid.tickets.filter(pk=paid.tickets.first().pk).update(checked_in_at=timezone.now())
    order(workshop, "paid", tickets=[regular], total="25.00")
    order(workshop, "partly_refunded", tickets=[regular], total="50.00", refunded_amount="20.00")
    order(workshop, "pending", tickets=[regular, regular], reserved_until=SOON, total="50.00")
    order(workshop, "pending", tickets=[regular], reserved_until=PAST)
    invoice = order(
        workshop, "pending", tickets=[regular], method="invoice", code="INV00001", total="25.00"
    )
    order(workshop, "processing", tickets=[regular])
    order(workshop, "cancelled", tickets=[regular])
    order(workshop, "refunded", tickets=[regular], refunded_amount="25.00")
    order(workshop, "paid", tickets=[community, community], method="free", total="0.00")
    order(workshop, "paid", tickets=[], currency="USD", total="30.00")
    return {"regular": regular, "community": community, "invoice": invoice}


# -- Access ------------------------------------------------------------------------------------


def test_dashboard_anonymous_redirected_to_sign_in(client, workshop):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/organisers/"


def test_dashboard_non_staff_refused(client, workshop):
    client.force_login(UserFactory(username="attendee"))

    response = client.get(DASHBOARD)

    assert response.status_code == 403
    assert "Organisers' dashboard" not in html_of(response)


def test_dashboard_staff_sees_it_uncached(organiser_client, workshop):
    response = organiser_client.get(DASHBOARD)

    assert response.status_code == 200
    assert "<h1>Organisers' dashboard</h1>" in html_of(response)
    assert response["Cache-Control"] == "private, no-store"


def test_dashboard_staff_without_role_refused(client, workshop):
    client.force_login(OrganiserFactory(username="helper"))

    response = client.get(DASHBOARD)

    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in html_of(response)
    assert response["Cache-Control"] == "private, no-store"


def test_dashboard_organiser_role_not_superuser_allowed(client, workshop):
    client.force_login(OrganiserFactory(username="helper", role=roles.ORGANISER))

    assert client.get(DASHBOARD).status_code == 200


def test_dashboard_without_workshop(organiser_client, db):
    html = html_of(organiser_client.get(DASHBOARD))

    assert "There is no workshop yet." in html


def test_dashboard_links_check_in_and_schedule_check(organiser_client, workshop):
    html = html_of(organiser_client.get(DASHBOARD))

    assert '<a class="button" href="/organisers/check-in/">Check-in</a>' in html
    assert '<a href="/admin/schedule/slot/check/">Schedule check</a>' in html
    assert '<a href="/organisers/messages/">Messages to attendees</a>' in html


def test_admin_index_links_organiser_pages(organiser_client, workshop):
    html = html_of(organiser_client.get("/admin/"))

    assert '<a href="/organisers/">Dashboard</a>' in html
    assert '<a href="/organisers/check-in/">Check-in</a>' in html
    assert '<a href="/admin/schedule/slot/check/">Schedule check</a>' in html
    # Django's own index is still there.
    assert 'class="app-tickets module' in html


def test_dashboard_panels_come_from_settings_in_order(organiser_client, workshop, settings):
    settings.ORGANISER_DASHBOARD_PANELS = [
        "speakers.dashboard.UNCLAIMED_INVITATIONS",
        "tickets.dashboard.REVENUE",
    ]

    html = html_of(organiser_client.get(DASHBOARD))

    assert re.findall(r'<h2 id="panel-([a-z-]+)">', html) == ["invitations", "revenue"]


# -- Figures -----------------------------------------------------------------------------------


def test_dashboard_ticket_figures(organiser_client, sales):
    html = squash(html_of(organiser_client.get(DASHBOARD)))

    regular, community = sales["regular"], sales["community"]
    assert (
        f'<th scope="row"><a href="/admin/tickets/tickettype/{regular.pk}/change/">Regular</a></th>'
        " <td>10</td> <td>4</td> <td>4</td> <td>2</td> <td>1</td>"
    ) in html
    assert (
        f'<a href="/admin/tickets/tickettype/{community.pk}/change/">Community</a></th>'
        " <td>unlimited</td> <td>2</td> <td>0</td> <td>unlimited</td> <td>0</td>"
    ) in html
    assert (
        '<th scope="row">All types</th> <td>unlimited</td> <td>6</td> <td>4</td>'
        " <td>unlimited</td> <td>1</td>"
    ) in html


def test_dashboard_ticket_totals_when_all_limited(organiser_client, workshop):
    small = TicketTypeFactory(workshop=workshop, name="Small", capacity=5)
    large = TicketTypeFactory(workshop=workshop, name="Large", capacity=20)
    order(workshop, "paid", tickets=[small, large, large])
    order(workshop, "pending", tickets=[large], reserved_until=SOON)

    html = squash(html_of(organiser_client.get(DASHBOARD)))

    assert (
        '<th scope="row">All types</th> <td>25</td> <td>3</td> <td>1</td> <td>21</td> <td>0</td>'
    ) in html


def test_dashboard_sold_reserved_left_match_the_shop(organiser_client, sales, client):
    """The dashboard counts seats as the ticket page sells them."""
    shop = html_of(client.get("/tickets/"))
    dashboard = squash(html_of(organiser_client.get(DASHBOARD)))

    assert '<p class="ticket-availability">2 left</p>' in shop
    # Regular's row: capacity 10, sold 4, reserved 4, left 2 (the shop's figure), checked in 1.
    assert ">Regular</a></th> <td>10</td> <td>4</td> <td>4</td> <td>2</td>" in dashboard


def test_dashboard_revenue_per_currency(organiser_client, sales):
    html = squash(html_of(organiser_client.get(DASHBOARD)))

    # Paid 50 + 25, partly refunded 50 (20 back), refunded 25 (25 back), free 0.
    assert (
        '<th scope="row">EUR</th> <td>5</td> <td>150.00 EUR</td> <td>45.00 EUR</td>'
        " <td>105.00 EUR</td>"
    ) in html
    assert (
        '<th scope="row">USD</th> <td>1</td> <td>30.00 USD</td> <td>0.00 USD</td>'
        " <td>30.00 USD</td>"
    ) in html


def test_dashboard_pending_invoices_link_to_admin(organiser_client, sales):
    html = html_of(organiser_client.get(DASHBOARD))

    invoice = sales["invoice"]
    assert (
        f'<a href="/admin/tickets/order/{invoice.pk}/change/">Order INV00001</a>: Ada Buyer, '
        "1 ticket, 25.00 EUR, placed "
    ) in html
    assert html.count("/admin/tickets/order/") == 1


def test_dashboard_orders_by_day_chart_and_table(organiser_client, workshop):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    day_one = [order(workshop, "paid"), order(workshop, "expired"), order(workshop, "paid")]
    # 23:30 UTC on 2 November is already 3 November in Berlin.
    late = [order(workshop, "paid")]
    day_three = [order(workshop, "cancelled")]
    on_day(day_one, dt.datetime(2030, 11, 2, 9, 0, tzinfo=dt.UTC))
    on_day(late, dt.datetime(2030, 11, 2, 23, 30, tzinfo=dt.UTC))
    on_day(day_three, dt.datetime(2030, 11, 5, 12, 0, tzinfo=dt.UTC))

    html = squash(html_of(organiser_client.get(DASHBOARD)))

    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td><td>(\d+)</td></tr>', html)
    assert rows == [
        ("Sat 2 Nov 2030", "3", "2"),
        ("Sun 3 Nov 2030", "1", "1"),
        ("Mon 4 Nov 2030", "0", "0"),
        ("Tue 5 Nov 2030", "1", "0"),
    ]
    assert (
        '<svg class="bar-chart" role="img" aria-labelledby="orders-chart-title orders-chart-desc"'
    ) in html
    assert (
        "5 orders placed from 2 November 2030 to 5 November 2030, 3 of them paid; "
        "at most 3 on one day."
    ) in html
    # Bars scale to the busiest day: 120 px for 3 orders, 80 px for the 2 paid of them.
    assert '<rect class="bar-placed" x="2" y="0" width="10" height="120">' in html
    assert '<rect class="bar-paid" x="2" y="40" width="10" height="80"/>' in html
    assert '<rect class="bar-placed" x="30" y="120" width="10" height="0">' in html


def test_dashboard_empty_workshop(organiser_client, workshop):
    html = html_of(organiser_client.get(DASHBOARD))

    assert "No ticket types yet." in html
    assert "No paid orders yet." in html
    assert "No orders yet." in html
    assert "No invoice orders are waiting for payment." in html
    assert "No problems found in the schedule." in html
    assert "No invitation is waiting to be claimed." in html
    assert "No disputes, refused payments, stalled bank debits or failed refunds." in html


def processing_since(made, moment):
    OrderEvent.objects.create(order=made, from_status="pending", to_status="processing")
    OrderEvent.objects.filter(order=made, to_status="processing").update(created_at=moment)


def test_dashboard_payments_needing_attention(organiser_client, workshop):
    disputed = order(workshop, "paid", code="DISPUTED")
    Dispute.objects.create(
        order=disputed,
        stripe_dispute_id="dp_1",
        amount="25.00",
        currency="EUR",
        reason="fraudulent",
        respond_by=dt.datetime(2030, 1, 9, 17, 0, tzinfo=dt.UTC),
    )
    lost = order(workshop, "refunded", code="LOSTDISP")
    Dispute.objects.create(
        order=lost, stripe_dispute_id="dp_2", amount="25.00", currency="EUR", status="lost",
        closed_at=timezone.now(),
    )  # fmt: skip
    old = order(workshop, "refunded", code="OLDDISP")
    Dispute.objects.create(
        order=old, stripe_dispute_id="dp_3", amount="25.00", currency="EUR", status="won",
        closed_at=timezone.now() - dt.timedelta(days=31),
    )  # fmt: skip
    refused = order(workshop, "expired", code="REFUSED")
    RejectedPayment.objects.create(
        order=refused,
        stripe_payment_intent_id="pi_1",
        amount="10.000",
        currency="EUR",
        reason="amount 1000 differs from the order total",
    )
    stalled = order(workshop, "processing", code="STALLED", buyer_name="Bo Debit")
    processing_since(stalled, timezone.now() - PROCESSING_LIMIT - dt.timedelta(days=1))
    recent = order(workshop, "processing", code="RECENT")
    processing_since(recent, timezone.now() - dt.timedelta(days=2))

    html = squash(html_of(organiser_client.get(DASHBOARD)))

    section = html.split('id="panel-payments"')[1].split("</section>")[0]
    assert re.findall(r">Order ([A-Z]+)</a>", section) == [
        "DISPUTED",
        "LOSTDISP",
        "REFUSED",
        "STALLED",
    ]
    assert (
        "25.00 EUR disputed by the buyer's bank (fraudulent). <strong>Open: answer it in the "
        "Stripe dashboard</strong> before 9 January 2030, 17:00."
    ) in section
    assert "Lost: the money went back to the buyer." in section
    assert "10.00 EUR refunded on" in section
    assert "(amount 1000 differs from the order total)" in section
    assert "Bank debits still processing after 20 days" in section
    assert "25.00 EUR from Bo Debit, processing since" in section


def test_dashboard_lists_refunds_not_made(organiser_client, workshop):
    failed = order(workshop, "refunded", code="FAILEDRF")
    Refund.objects.create(
        order=failed, amount="25.00", currency="EUR", method="card", status="failed",
        failure_reason="expired_or_canceled_card", stripe_refund_id="re_1",
    )  # fmt: skip
    unsent = order(workshop, "partly_refunded", code="UNSENTRF")
    Refund.objects.create(order=unsent, amount="5.00", currency="EUR", method="card")
    done = order(workshop, "refunded", code="DONERF")
    Refund.objects.create(
        order=done, amount="25.00", currency="EUR", method="card", status="succeeded",
        stripe_refund_id="re_2",
    )  # fmt: skip

    html = squash(html_of(organiser_client.get(DASHBOARD)))

    section = html.split('id="panel-payments"')[1].split("</section>")[0]
    assert re.findall(r">Order ([A-Z]+)</a>", section) == ["FAILEDRF", "UNSENTRF"]
    assert (
        "25.00 EUR, <strong>refused by Stripe</strong> (expired_or_canceled_card): refund it "
        "again or by bank transfer."
    ) in section
    assert "5.00 EUR, not sent yet: Stripe could not be reached" in section


def test_dashboard_schedule_problems(organiser_client, workshop):
    SlotFactory(workshop=workshop, talk=TalkFactory(title="Draft talk", published=False))
    TalkFactory(title="Lost talk", published=True)

    html = html_of(organiser_client.get(DASHBOARD))

    assert "2 problems;" in html
    assert "<strong>Unpublished talk in the schedule:</strong>" in html
    assert (
        "<strong>Published talk not scheduled:</strong> “Lost talk” is published but has no slot."
    ) in html


def test_dashboard_unclaimed_invitations(organiser_client, workshop):
    waiting = SpeakerFactory(name="Wanda Waiting", slug="wanda")
    speaker_services.invite_speaker(speaker=waiting, email="wanda@example.org")
    late = SpeakerFactory(name="Liam Late", slug="liam")
    expired, _ = speaker_services.invite_speaker(speaker=late, email="liam@example.org")
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
    )
    claimed = SpeakerFactory(name="Cleo Claimed", slug="cleo")
    invitation, _ = speaker_services.invite_speaker(speaker=claimed, email="cleo@example.org")
    Invitation.objects.filter(pk=invitation.pk).update(claimed_at=timezone.now())
    withdrawn = SpeakerFactory(name="Will Withdrawn", slug="will")
    invitation, _ = speaker_services.invite_speaker(speaker=withdrawn, email="will@example.org")
    Invitation.objects.filter(pk=invitation.pk).update(withdrawn_at=timezone.now())

    html = html_of(organiser_client.get(DASHBOARD))

    section = html.split('id="panel-invitations"')[1].split("</section>")[0]
    names = re.findall(r'change/">([^<]+)</a>', section)
    assert names == ["Liam Late", "Wanda Waiting"]
    assert "(liam@example.org): expired 5 January 2025, send it again" in section
    assert "(wanda@example.org): sent " in section


# -- Queries and HTML --------------------------------------------------------------------------


def make_everything(workshop, size):
    call = CallFactory(workshop=workshop)
    for number in range(size):
        reviewed = ProposalFactory(call=call)
        Review.objects.create(
            proposal=reviewed, reviewer=OrganiserFactory(username=f"reviewer{number}"), score=3
        )
        ticket_type = TicketTypeFactory(workshop=workshop, name=f"Type {number}")
        disputed = order(workshop, "paid", tickets=[ticket_type, ticket_type])
        Dispute.objects.create(
            order=disputed, stripe_dispute_id=f"dp_{number}", amount="25.00", currency="EUR"
        )
        RejectedPayment.objects.create(
            order=disputed, stripe_payment_intent_id=f"pi_{number}", amount="1", currency="EUR"
        )
        stalled = order(workshop, "processing", tickets=[ticket_type])
        processing_since(stalled, timezone.now() - PROCESSING_LIMIT - dt.timedelta(days=1))
        order(workshop, "pending", tickets=[ticket_type], method="invoice")
        order(workshop, "paid", currency=["EUR", "USD", "GBP"][number % 3])
        speaker = SpeakerFactory()
        speaker_services.invite_speaker(speaker=speaker, email=f"s{number}@example.org")
        talk = TalkFactory(speakers=[speaker], published=number % 2 == 0)
        SlotFactory(
            workshop=workshop,
            talk=talk,
            start=workshop.starts_at + dt.timedelta(minutes=40 * number),
        )


@pytest.mark.parametrize("size", [1, 7])
def test_dashboard_query_count_constant(
    organiser_client, workshop, django_assert_num_queries, size
):
    make_everything(workshop, size)

    failed_emails(size)

    # Session, user, workshop, check-in, types, revenue, orders by day, invoices, 4 for card
    # payments needing attention, 5 for the schedule check (a sixth reads the availability of
    # scheduled talks that came from proposals), 4 for the call for proposals, invitations, 2
    # for failed e-mails, footer pages, the header's speaker profile link.
    with django_assert_num_queries(26):
        response = organiser_client.get(DASHBOARD)

    assert html_of(response).count('href="/admin/speakers/invitation/') == size
    assert html_of(response).count("Mailbox unavailable") == min(size, 5)


def failed_emails(count):
    for number in range(count):
        OutgoingEmail.objects.create(
            subject=f"Your tickets {number}",
            recipients=f"buyer{number}@example.org",
            message={},
            state=OutgoingEmail.State.FAILED,
            attempts=6,
            last_error="550 5.1.1 Mailbox unavailable",
        )


def test_dashboard_failed_emails_panel(organiser_client, workshop):
    failed_emails(6)

    html = squash(html_of(organiser_client.get(DASHBOARD)))

    assert "6 e-mails could not be delivered after every attempt" in html
    assert (
        "<li>Your tickets 5, to buyer5@example.org: 550 5.1.1 Mailbox unavailable (6 attempts,"
    ) in html
    assert "Your tickets 0," not in html  # the panel shows the newest five
    assert 'href="/organisers/emails/failed/"' in html


def test_dashboard_failed_emails_panel_when_none(organiser_client, workshop):
    html = html_of(organiser_client.get(DASHBOARD))

    assert "Every e-mail has been delivered or is on its way." in html


def test_dashboard_failed_emails_only_for_organisers(client, workshop):
    failed_emails(1)
    finance = OrganiserFactory(role=roles.FINANCE)
    client.force_login(finance)

    html = html_of(client.get(DASHBOARD))

    assert "E-mails not delivered" not in html


def test_dashboard_valid_html_without_inline_code(organiser_client, sales):
    failed_emails(2)
    SlotFactory(talk=TalkFactory(published=False))
    speaker_services.invite_speaker(speaker=SpeakerFactory(), email="s@example.org")
    documents = {
        "dashboard": html_of(organiser_client.get(DASHBOARD)),
        "admin-index": html_of(organiser_client.get("/admin/")),
    }

    assert inline_code(documents["dashboard"]) == []
    assert duplicate_ids(documents["dashboard"]) == []
    if reason := checkers.vnu_missing_reason():
        pytest.skip(reason)
    errors = checkers.html_errors(checkers.validate_html(documents)["dashboard"])
    assert errors == []
