"""A waiting-list offer running out at the moment its holder checks out, while others act.

Real gunicorn servers (two, of two worker processes each) on PostgreSQL and the Stripe stand-in.
The last seat of a type is held by an offer; the holder's checkout with the offer's voucher
reaches one server while a second buyer's checkout reaches the other (and, in the second test,
the periodic job runs here, offering the seat to the next in line), all fired together at times
swept around the end of the offer. Whoever wins, the seat is held once: by the holder's order,
the second buyer's order or the next person's offer, never by two.
"""

import datetime as dt
import re
import threading
from collections import Counter

import pytest
import requests
from django.db import connection
from django.utils import timezone

from tests.factories import TicketTypeFactory, WorkshopFactory
from tests.servers import shop_servers
from tickets.models import Order, Ticket, Voucher, WaitingListEntry, holding_seats_q
from tickets.services import waitlist
from tickets.stripe_standin import StripeStandIn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

# Offsets (seconds) from the moment the requests leave to the end of the offer. A checkout
# decides some tens of milliseconds after it leaves (more on a busy machine), so the sweep is
# wide enough that the end falls before, between and after the two decisions.
OFFSETS = [n / 1000 for n in range(-20, 600, 20)]
ROUNDS = 2
Status = WaitingListEntry.Status


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def servers(django_db_setup, standin):
    with shop_servers(
        standin,
        TICKETS_MAX_UNPAID_SEATS_PER_IP="100000",
        TICKETS_MAX_UNPAID_SEATS_PER_EMAIL="100000",
    ) as urls:
        yield urls


@pytest.fixture
def shop(servers, standin, transactional_db, settings):
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return WorkshopFactory()


def offered_seat(workshop, number, *, next_in_line):
    """Return a one-seat type whose seat is offered to a waiting person, and that offer."""
    ticket_type = TicketTypeFactory(workshop=workshop, price="25.00", capacity=1)
    emails = [f"holder{number}@example.org"] + (
        [f"next{number}@example.org"] if next_in_line else []
    )
    for email in emails:
        waitlist.confirm(
            entry=WaitingListEntry.objects.create(ticket_type=ticket_type, email=email)
        )
    waitlist.process_ticket_type(ticket_type.pk)
    entry = WaitingListEntry.objects.get(ticket_type=ticket_type, status=Status.OFFERED)
    assert entry.email == emails[0]
    return ticket_type, entry


def checkout_form(base_url, ticket_type_id, email, voucher_code=""):
    """Open the checkout like a browser; return (session, the form data to post)."""
    session = requests.Session()
    params = {f"qty_{ticket_type_id}": 1, "voucher": voucher_code}
    page = session.get(f"{base_url}/tickets/checkout/", params=params, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, (page.status_code, page.text[-1500:])
    data = {
        "csrfmiddlewaretoken": token[1],
        f"qty_{ticket_type_id}": "1",
        "voucher": voucher_code,
        "buyer_name": "Some Buyer",
        "buyer_email": email,
        "attendee_1_name": "Some Buyer",
        "attendee_1_email": email,
        "payment_method": "stripe",
        "accept_code_of_conduct": "on",
    }
    return session, data


def end_offer_at(entry, moment):
    WaitingListEntry.objects.filter(pk=entry.pk).update(offer_expires_at=moment)
    Voucher.objects.filter(pk=entry.offer_voucher_id).update(valid_until=moment)


def race(servers, ticket_type, entry, *, number, offset, sweeper):
    """Fire the holder's and a second buyer's checkouts (and the periodic job) together."""
    code = entry.offer_voucher.code
    holder = checkout_form(servers[0], ticket_type.id, entry.email, code)
    other = checkout_form(servers[1], ticket_type.id, f"other{number}@example.org")
    actors = {"holder": (servers[0], *holder), "other": (servers[1], *other)}
    start = threading.Barrier(len(actors) + 1 + bool(sweeper))
    answers = {}

    def post(name):
        base_url, session, data = actors[name]
        url = f"{base_url}/tickets/checkout/"
        start.wait()
        answer = session.post(
            url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=30
        )
        answers[name] = answer.status_code
        # The checkout also answers 302 when it refuses before the form (a voucher run out):
        # it then leads back to the tickets page, with the reason.
        if answer.status_code == 302 and "/tickets/" in answer.headers["Location"]:
            answers[name] = "back"

    def sweep():
        start.wait()
        try:
            answers["sweeper"] = waitlist.process_waiting_lists().offered
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(name,)) for name in actors]
    if sweeper:
        threads.append(threading.Thread(target=sweep))
    for thread in threads:
        thread.start()
    end_offer_at(entry, timezone.now() + dt.timedelta(seconds=offset))
    start.wait()
    for thread in threads:
        thread.join(60)
    return answers


def seats_held(ticket_type):
    """Return the seats of the type held now: tickets of holding orders and running offers."""
    now = timezone.now()
    tickets = Ticket.objects.filter(ticket_type=ticket_type).filter(
        holding_seats_q(now, prefix="order__")
    )
    return (
        tickets.count()
        + WaitingListEntry.objects.filter(ticket_type=ticket_type).holding_seats(now).count()
    )


def winner(ticket_type, entry):
    """Name who holds the seat now: the holder's order, the other buyer's, the next offer."""
    entry.refresh_from_db()
    orders = Order.objects.filter(tickets__ticket_type=ticket_type).filter(
        holding_seats_q(timezone.now())
    )
    buyers = sorted(order.buyer_email.split("@")[0].rstrip("0123456789") for order in orders)
    offers = WaitingListEntry.objects.filter(ticket_type=ticket_type, status=Status.OFFERED)
    return tuple(buyers + ["next offered"] * offers.exclude(pk=entry.pk).count())


def sweep_offsets(shop, servers, *, next_in_line, sweeper):
    outcomes, oversold, unanswered = Counter(), [], []
    number = 0
    for _ in range(ROUNDS):
        for offset in OFFSETS:
            number += 1
            ticket_type, entry = offered_seat(shop, number, next_in_line=next_in_line)
            answers = race(
                servers, ticket_type, entry, number=number, offset=offset, sweeper=sweeper
            )
            if {answers.get("holder"), answers.get("other")} - {302, 409, "back"}:
                unanswered.append((offset, answers))
                continue
            if sweeper:
                # Its next run, as the scheduler makes it: an offer that ran out passes on.
                waitlist.process_waiting_lists()
            if seats_held(ticket_type) > 1:
                oversold.append((offset, answers))
            got = winner(ticket_type, entry)
            outcomes[(got, answers["holder"], answers["other"])] += 1
            # The holder's offer is used exactly when the holder's checkout was placed.
            assert (entry.status == Status.USED) == (answers["holder"] == 302), (entry, answers)
    return outcomes, oversold, unanswered


def test_offer_ending_as_holder_and_buyer_check_out_sells_seat_once(shop, servers):
    outcomes, oversold, unanswered = sweep_offsets(shop, servers, next_in_line=False, sweeper=False)

    assert oversold == [], (oversold, outcomes)
    assert unanswered == [], (unanswered, outcomes)
    # Exactly one of the two placed an order each time.
    holder_won = {(("holder",), 302, 409)}
    other_won = {(("other",), 409, 302), (("other",), "back", 302)}
    # The offer ran out after the other buyer was refused and before the holder came.
    nobody = {((), 409, 409), ((), "back", 409)}
    assert set(outcomes) <= holder_won | other_won | nobody, outcomes
    # The sweep straddles the end: the holder won some races and the other buyer others.
    assert sum(outcomes[key] for key in holder_won) > 0, outcomes
    assert sum(outcomes[key] for key in other_won) > 0, outcomes


def test_offer_ending_as_holder_checks_out_and_job_passes_it_on_sells_seat_once(shop, servers):
    outcomes, oversold, unanswered = sweep_offsets(shop, servers, next_in_line=True, sweeper=True)

    assert oversold == [], (oversold, outcomes)
    assert unanswered == [], (unanswered, outcomes)
    # Someone is in line: the other buyer never jumps it; the seat is the holder's or the next's.
    holder_won = {(("holder",), 302, 409)}
    next_won = {(("next offered",), 409, 409), (("next offered",), "back", 409)}
    assert set(outcomes) <= holder_won | next_won, outcomes
    assert sum(outcomes[key] for key in holder_won) > 0, outcomes
    assert sum(outcomes[key] for key in next_won) > 0, outcomes
