"""A ticket rush: many buyers at once over real HTTP, each walking the checkout like a browser."""

import http.client
import json
import re
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from bench.loadgen import PROXY_HEADERS, percentile, split_url

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Outcome:
    """What happened to one buyer."""

    status: int  # of the checkout POST; 0 when the buyer never got that far
    location: str = ""
    seconds: float = 0.0
    error: str = ""


def client_address(number):
    """Return a documentation address of its own for each buyer (up to 1,000 buyers)."""
    return f"198.51.{100 + number // 250}.{number % 250 + 1}"


def request(host, port, method, path, *, body=None, headers=None):
    connection = http.client.HTTPConnection(host, port, timeout=120)
    try:
        connection.request(method, path, body=body, headers={**PROXY_HEADERS, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def cookies_from(headers):
    jar = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


def checkout_form(ticket_type_id, number, token, method="stripe"):
    email = f"rush{number}@example.org"
    invoice = {"invoice_details": f"Rush buyer {number}\nMain Street 1\n10115 Berlin"}
    return (invoice if method == "invoice" else {}) | {
        "csrfmiddlewaretoken": token,
        f"qty_{ticket_type_id}": "1",
        "buyer_name": f"Rush buyer {number}",
        "buyer_email": email,
        "attendee_1_name": f"Rush buyer {number}",
        "attendee_1_email": email,
        "payment_method": method,
        "accept_code_of_conduct": "on",
    }


def buy(base_url, ticket_type_id, number, start, method="stripe"):
    """Open the checkout form (CSRF cookie and token), post it; time until the redirect."""
    host, port, _ = split_url(base_url)
    path = f"/tickets/checkout/?qty_{ticket_type_id}=1"
    # Each buyer is someone else, seen through the proxy: per-client limits apply to each.
    proxy = {"X-Forwarded-For": client_address(number)}
    start.wait()
    began = time.perf_counter()
    try:
        status, headers, page = request(host, port, "GET", path, headers=proxy)
        match = TOKEN.search(page)
        if status != 200 or not match:
            return Outcome(0, error=f"checkout form answered {status}")
        cookie = "; ".join(f"{k}={v}" for k, v in cookies_from(headers).items())
        status, headers, _ = request(
            host,
            port,
            "POST",
            "/tickets/checkout/",
            body=urlencode(checkout_form(ticket_type_id, number, match[1], method)),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Referer": f"https://{host}:{port}{path}",
                **proxy,
            },
        )
    except OSError as error:
        return Outcome(0, error=f"{type(error).__name__}: {error}")
    return Outcome(status, headers.get("Location", ""), time.perf_counter() - began)


def run_rush(base_urls, ticket_type_id, *, buyers, payment_prefix, method="stripe"):
    """Send ``buyers`` buyers at once, in turn to each server; return outcomes and wall time.

    ``method`` "invoice" buys by invoice: the order is placed with its invoice and its e-mail
    (the PDF invoice attached) and the buyer lands on the order page, which says how to pay.
    """
    outcomes = [None] * buyers
    start = threading.Barrier(buyers)

    def one(number):
        base_url = base_urls[number % len(base_urls)]
        outcomes[number] = buy(base_url, ticket_type_id, number, start, method)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(buyers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = summarise(outcomes, payment_prefix, time.perf_counter() - began)
    summary["outcomes"] = outcomes
    return summary


def summarise(outcomes, payment_prefix, wall_seconds):
    """Count redirects to payment, refusals and errors; time to the payment page."""
    paying = [o for o in outcomes if o.status == 302 and o.location.startswith(payment_prefix)]
    times = [o.seconds * 1000 for o in paying]
    statuses = Counter(o.status for o in outcomes)
    return {
        "buyers": len(outcomes),
        "sent_to_payment": len(paying),
        "refused_sold_out": statuses.get(409, 0),
        "busy_503": statuses.get(503, 0),
        "status_500": statuses.get(500, 0),
        "other": len(outcomes)
        - len(paying)
        - statuses.get(409, 0)
        - statuses.get(503, 0)
        - statuses.get(500, 0),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "errors": sorted({o.error for o in outcomes if o.error})[:5],
        "to_payment_median_ms": round(statistics.median(times), 1) if times else None,
        "to_payment_p99_ms": round(percentile(times, 0.99), 1) if times else None,
        "wall_seconds": round(wall_seconds, 2),
    }


def read_records(folder):
    """Return the records bench/rush_wsgi.py wrote, one per checkout request."""
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines() if line]
    return records


def where_time_goes(records, outcomes):
    """Return median and p99 (ms) of each part of a checkout, from the servers' records.

    The capacity lock is held from its SELECT ... FOR UPDATE to the commit (orders that took
    seats; a sold-out answer rolls back at once). "Waiting for a worker" is the buyer's time to
    the payment page less the time the app spent on their two requests.
    """
    posts = [r for r in records if r["method"] == "POST"]
    gets = [r for r in records if r["method"] == "GET"]
    app_by_buyer = {}
    for record in records:
        app_by_buyer[record["buyer"]] = app_by_buyer.get(record["buyer"], 0) + record["app_ms"]
    waiting = [
        outcome.seconds * 1000 - app_by_buyer[client_address(number)]
        for number, outcome in enumerate(outcomes)
        if outcome.status == 302 and client_address(number) in app_by_buyer
    ]
    parts = {
        "capacity lock held": [r["lock_hold_ms"] for r in posts if r["lock_hold_ms"] is not None],
        "capacity lock wait": [r["lock_wait_ms"] for r in posts],
        "buyer lock wait": [r["buyer_lock_wait_ms"] for r in posts],
        "Stripe call": [r["stripe_ms"] for r in posts if r["stripe_ms"]],
        "checkout POST in the app": [r["app_ms"] for r in posts],
        "checkout form GET in the app": [r["app_ms"] for r in gets],
        "waiting for a worker (to payment)": waiting,
    }
    return {
        name: {
            "count": len(values),
            "median_ms": round(statistics.median(values), 1) if values else None,
            "p99_ms": round(percentile(values, 0.99), 1) if values else None,
        }
        for name, values in parts.items()
    }
