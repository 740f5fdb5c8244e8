"""The site as the rush's app servers run it, noting where each checkout request's time goes.

Served by gunicorn as ``bench.rush_wsgi:application`` during the ticket rush only (the page
loads use ``workshop.wsgi``). For every request to the checkout it appends one JSON line to
``$BENCH_RUSH_RECORDS/<pid>.jsonl``: the buyer (X-Forwarded-For), the time spent in the app,
waiting for the capacity lock (the ticket types' ``SELECT ... FOR UPDATE``) and for the
per-buyer advisory lock, holding the capacity lock until the commit, and in the Stripe call.
Only public APIs are used: ``connection.execute_wrapper``, ``transaction.on_commit`` and
stripe's ``RequestsClient.request``. Production code is untouched.
"""

import json
import os
import threading
import time
from pathlib import Path

import stripe
from django.core.wsgi import get_wsgi_application
from django.db import connection, transaction

site = get_wsgi_application()
RECORDS = Path(os.environ["BENCH_RUSH_RECORDS"])
current = threading.local()


def timed_request(self, *args, **kwargs):
    """Time stripe's HTTP call (the Checkout Session) for the request being served."""
    started = time.perf_counter()
    try:
        return untimed_request(self, *args, **kwargs)
    finally:
        record = getattr(current, "record", None)
        if record is not None:
            record["stripe_ms"] += (time.perf_counter() - started) * 1000


untimed_request = stripe.RequestsClient.request
stripe.RequestsClient.request = timed_request


def time_locks(execute, sql, params, many, context):
    """Time the waits for the locks, and from the capacity lock to the commit."""
    record = current.record
    capacity = "FOR UPDATE" in sql and "tickets_tickettype" in sql
    buyer = "pg_advisory_xact_lock" in sql
    started = time.perf_counter()
    result = execute(sql, params, many, context)
    acquired = time.perf_counter()
    if capacity:
        record["lock_wait_ms"] += (acquired - started) * 1000

        def committed():
            record["lock_hold_ms"] = (time.perf_counter() - acquired) * 1000

        transaction.on_commit(committed)
    elif buyer:
        record["buyer_lock_wait_ms"] += (acquired - started) * 1000
    return result


def application(environ, start_response):
    if not environ.get("PATH_INFO", "").startswith("/tickets/checkout/"):
        return site(environ, start_response)
    record = current.record = {
        "method": environ["REQUEST_METHOD"],
        "buyer": environ.get("HTTP_X_FORWARDED_FOR", ""),
        "lock_wait_ms": 0.0,
        "buyer_lock_wait_ms": 0.0,
        "lock_hold_ms": None,
        "stripe_ms": 0.0,
    }
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(time_locks):
            answer = site(environ, start_response)
            try:
                body = b"".join(answer)
            finally:
                answer.close()  # the request's end: Django's request_finished
    finally:
        record["app_ms"] = (time.perf_counter() - started) * 1000
        current.record = None
        with (RECORDS / f"{os.getpid()}.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")
    return [body]
