"""Two storms at the edges of an order's life, over real HTTP on the rush's app servers.

**Late payments**: ``seats`` card orders hold every seat; their reservations are all made to end
at one moment, and exactly then each one's payment is confirmed (Stripe's signed webhook to one
of the servers, spread a few milliseconds either side of the end) while ``newcomers`` buyers
check out and pay for whatever seats come free.

**Refunds**: ``seats`` paid card orders; at one moment organisers refund some in full (the
admin's service, from this process), Stripe's dashboard refunds others in full or in part (its
``charge.refunded`` events delivered twice, as Stripe may), some orders both ways at once,
while ``newcomers`` buyers check out and pay for the seats freed.

Each storm reports seats sold, money taken, money refunded (both as Stripe's records show them)
and the value of the valid tickets (as the shop's database shows it), and the problems found:
sold more than the capacity, or taken minus refunded not the valid tickets' value to the cent.
Webhook deliveries answered 5xx are retried, as Stripe retries them.
"""

import datetime as dt
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal

from bench.loadgen import PROXY_HEADERS
from bench.rush import buy
from tickets.stripe_standin import StripeError as StandInError

PRICE = Decimal("25.00")
# The payments' times around the end of the reservations, in seconds (as in the race tests).
SPREAD = 0.02
DELIVERY_ATTEMPTS = 5


def at(moment, offset=0.0):
    """Sleep until ``offset`` seconds after the aware datetime ``moment``."""
    delay = (moment - dt.datetime.now(dt.UTC)).total_seconds() + offset
    if delay > 0:
        time.sleep(delay)


def deliver(standin, event, base_url):
    """POST a signed event to a server's webhook; retry 5xx as Stripe does; return the status."""
    payload, signature = standin.signed(event)
    for attempt in range(DELIVERY_ATTEMPTS):
        request = urllib.request.Request(
            f"{base_url}/tickets/stripe/webhook/",
            data=payload,
            # Through the (simulated) TLS proxy, as Stripe reaches the site: a plain-HTTP
            # request is redirected to HTTPS by the production settings, and nothing is paid.
            headers={
                **PROXY_HEADERS,
                "Content-Type": "application/json",
                "Stripe-Signature": signature,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == DELIVERY_ATTEMPTS - 1:
                return error.code
        time.sleep(0.2 * (attempt + 1))
    return None


def run_threads(jobs):
    """Run each callable in its own thread, all released together; wait for all."""
    start = threading.Barrier(len(jobs))

    def released(job):
        from django.db import connections

        start.wait()
        try:
            job()
        finally:
            # Jobs that used the database did so on this thread's own connection.
            connections.close_all()

    threads = [threading.Thread(target=released, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def storm_type(workshop, name, seats):
    from tickets.models import TicketType

    return TicketType.objects.create(
        workshop=workshop,
        name=name,
        price=PRICE,
        capacity=seats,
        max_per_order=1,
        sale_ends_at=workshop.starts_at,
        position=98,
    )


def place_card_order(workshop, ticket_type, email):
    """Place a card order and create its Checkout Session, as the checkout does."""
    from tickets.services import lifecycle, stripe_checkout

    person = {"name": email.split("@")[0], "email": email}
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=person,
        attendees=[person],
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    return order


def newcomer(base_urls, standin, ticket_type, number, sessions, statuses):
    """One buyer arriving during the storm: check out over HTTP, then pay if sent to pay.

    ``number`` tells buyers apart (e-mail and client address) across both storms.
    """

    def job():
        outcome = buy(base_urls[number % len(base_urls)], ticket_type.id, number, NOW)
        statuses.append(outcome.status)
        if outcome.status == 302 and "/pay/" in outcome.location:
            session_id = outcome.location.rsplit("/", 1)[-1]
            sessions.append(session_id)
            event = standin.pay(session_id, deliver=False)
            deliver(standin, event, base_urls[number % len(base_urls)])

    return job


class _Now:
    """A barrier already passed: newcomers are released by run_threads, not by buy()."""

    def wait(self):
        return None


NOW = _Now()


def late_payment_storm(*, base_urls, standin, workshop, seats, newcomers):
    """Confirm every seat's payment at the moment its reservation ends, with newcomers buying."""
    from tickets.models import Order

    ticket_type = storm_type(workshop, "Late-payment storm", seats)
    late = [place_card_order(workshop, ticket_type, f"late{n}@example.org") for n in range(seats)]
    end = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    Order.objects.filter(pk__in=[order.pk for order in late]).update(reserved_until=end)
    sessions = [order.stripe_session_id for order in late]
    statuses = []

    def late_payment(number, order):
        def job():
            offset = -SPREAD + 2 * SPREAD * number / max(len(late) - 1, 1)
            at(end, offset)
            event = standin.pay(order.stripe_session_id, deliver=False)
            deliver(standin, event, base_urls[number % len(base_urls)])

        return job

    def arriving(number):
        job = newcomer(base_urls, standin, ticket_type, 2000 + number, sessions, statuses)

        def timed():
            at(end)
            job()

        return timed

    began = time.perf_counter()
    run_threads(
        [late_payment(n, order) for n, order in enumerate(late)]
        + [arriving(n) for n in range(newcomers)]
    )
    late_orders = Order.objects.filter(pk__in=[order.pk for order in late])
    summary = account(ticket_type, standin, sessions)
    summary.update(
        newcomers=newcomers,
        newcomers_sent_to_pay=statuses.count(302),
        newcomers_refused=statuses.count(409),
        late_paid=late_orders.filter(status__in=Order.PAID_STATUSES).count(),
        late_refunded=late_orders.filter(status=Order.Status.REFUNDED).count(),
        wall_seconds=round(time.perf_counter() - began, 2),
    )
    return summary


def refund_storm(*, base_urls, standin, workshop, seats, newcomers):
    """Refund paid orders from both sides at once, twice told, while newcomers buy."""
    from tickets.models import Order
    from tickets.services import errors, refunds, stripe_checkout

    ticket_type = storm_type(workshop, "Refund storm", seats)
    paid = []
    for n in range(seats):
        order = place_card_order(workshop, ticket_type, f"refund{n}@example.org")
        standin.pay(order.stripe_session_id, deliver=False)
        stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
        paid.append(order)
    sessions = [order.stripe_session_id for order in paid]
    statuses = []
    refused = []

    def by_organiser(order):
        def job():
            try:
                refunds.refund_order(order=order)
            except errors.OrderError as error:
                refused.append(str(error))

        return job

    def in_dashboard(number, order, amount):
        def job():
            charge_id = standin.charge_for(order.stripe_session_id)["id"]
            try:
                event = standin.refund(charge_id, amount, deliver=False)
            except StandInError as error:
                # The organiser's refund came first: the dashboard refuses, as Stripe's does.
                refused.append(str(error))
                return
            for copy in range(2):
                deliver(standin, event, base_urls[(number + copy) % len(base_urls)])

        return job

    # Every second order refunded by an organiser; every third in Stripe's dashboard, in full or
    # (every other time) 10.00 of it; every sixth is both.
    jobs = [by_organiser(order) for order in paid[::2]]
    jobs += [in_dashboard(n, order, None if n % 2 else 1000) for n, order in enumerate(paid[::3])]
    jobs += [
        newcomer(base_urls, standin, ticket_type, 3000 + n, sessions, statuses)
        for n in range(newcomers)
    ]
    began = time.perf_counter()
    run_threads(jobs)
    storm_orders = Order.objects.filter(pk__in=[order.pk for order in paid])
    summary = account(ticket_type, standin, sessions)
    summary.update(
        newcomers=newcomers,
        newcomers_sent_to_pay=statuses.count(302),
        newcomers_refused=statuses.count(409),
        refunded_in_full=storm_orders.filter(status=Order.Status.REFUNDED).count(),
        partly_refunded=storm_orders.filter(status=Order.Status.PARTLY_REFUNDED).count(),
        refusals=len(refused),
        wall_seconds=round(time.perf_counter() - began, 2),
    )
    return summary


def account(ticket_type, standin, sessions):
    """Return seats sold, money taken and refunded (Stripe) and the valid tickets' value (shop).

    Valid tickets are those of paid orders; a partly refunded order's are worth what is left of
    its total. ``problems`` lists what breaks the two rules.
    """
    from tickets import money
    from tickets.models import Order, Ticket

    currency = ticket_type.workshop.currency
    charges = [
        standin.charge_for(session_id)
        for session_id in sessions
        if standin.sessions[session_id].get("payment_intent")
    ]
    taken = sum((money.from_minor_units(c["amount"], currency) for c in charges), Decimal(0))
    refunded = sum(
        (money.from_minor_units(c["amount_refunded"], currency) for c in charges), Decimal(0)
    )
    tickets = Ticket.objects.filter(ticket_type=ticket_type).select_related("order")
    sold = [t for t in tickets if t.order.status in Order.PAID_STATUSES]
    valid = sum((t.price for t in sold if t.order.status == Order.Status.PAID), Decimal(0))
    partly = {t.order for t in sold if t.order.status == Order.Status.PARTLY_REFUNDED}
    valid += sum((order.total - order.refunded_amount for order in partly), Decimal(0))
    problems = []
    if len(sold) > ticket_type.capacity:
        problems.append(f"oversold: {len(sold)} of {ticket_type.capacity} seats")
    if taken - refunded != valid:
        problems.append(
            f"taken {taken} - refunded {refunded} = {taken - refunded}, "
            f"but the valid tickets are worth {valid}"
        )
    return {
        "seats": ticket_type.capacity,
        "seats_sold": len(sold),
        "payments": len(charges),
        "money_taken": str(taken),
        "money_refunded": str(refunded),
        "valid_ticket_value": str(valid),
        "currency": currency,
        "problems": problems,
    }


def run_storms(*, base_urls, standin, workshop, seats, newcomers):
    """Run both storms; return {"late payments": summary, "refunds": summary}."""
    options = {
        "base_urls": base_urls,
        "standin": standin,
        "workshop": workshop,
        "seats": seats,
        "newcomers": newcomers,
    }
    return {
        "late payments": late_payment_storm(**options),
        "refunds": refund_storm(**options),
    }


def failures(storms):
    """Return the problems of every storm, named."""
    return [f"{name} storm: {problem}" for name, s in storms.items() for problem in s["problems"]]


def tables(storms):
    """Return the storms as a Markdown table."""
    names = list(storms)
    rows = [
        ("seats / newcomers", lambda s: f"{s['seats']} / {s['newcomers']}"),
        ("seats sold", lambda s: s["seats_sold"]),
        ("payments taken (Stripe)", lambda s: s["payments"]),
        ("money taken", lambda s: f"{s['money_taken']} {s['currency']}"),
        ("money refunded", lambda s: f"{s['money_refunded']} {s['currency']}"),
        ("valid tickets' value", lambda s: f"{s['valid_ticket_value']} {s['currency']}"),
        ("newcomers sent to pay / sold out", lambda s: f"{s['newcomers_sent_to_pay']} / "
         f"{s['newcomers_refused']}"),
        ("problems", lambda s: "; ".join(s["problems"]) or "none"),
        ("whole storm, s", lambda s: s["wall_seconds"]),
    ]  # fmt: skip
    lines = [
        "",
        "| storm | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]
    lines += [
        f"| {label} | " + " | ".join(str(cell(storms[name])) for name in names) + " |"
        for label, cell in rows
    ]
    return lines + [""]
