"""A small local stand-in for the parts of the Stripe API the shop uses.

Tests use it, and so does ``make run`` (``manage.py run_stripe_standin``), so that card payment
can be tried in development without Stripe keys or the internet: its payment page says that no
money moves. Production refuses to start with it (workshop/settings.py).

The real ``stripe`` library talks to it over HTTP (point ``STRIPE_API_BASE`` at
``standin.url``). It checks the bearer key, decodes Stripe's bracketed form
encoding, answers with Stripe's JSON shapes and error format, replays the stored
answer for a repeated ``Idempotency-Key``, and signs webhook events exactly as
Stripe does. Usage::

    standin = StripeStandIn(webhook_url=live_server.url + "/tickets/stripe/webhook/").start()
    ...                                   # the app creates a Checkout Session
    standin.pay(session_id)               # complete it and deliver the signed event
    standin.dispute(charge_id)            # the buyer's bank disputes it (charge.dispute.created)
    standin.next_refund_status = "pending"  # refunds asked for next stay pending (or "failed")
    standin.settle_refund(refund_id, "failed")  # a pending refund ends (refund.failed)
    standin.fail_next(500)                # the next API call answers 500
    standin.fail_next("unreachable")      # the next API call gets its connection dropped
    standin.stop()

``webhook_url`` may also be a callable ``(payload: bytes, signature: str) -> status``
so tests using Django's test client deliver events in their own thread.
"""

import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tickets.money import format_amount, from_minor_units

API_VERSION = "2025-01-27.acacia"
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60


class StripeError(Exception):
    """An answer in Stripe's error format."""

    def __init__(self, status, message, *, type="invalid_request_error", code=None, param=None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def decode_form(body):
    """Decode Stripe's bracketed form encoding (``a[b][0][c]=1``) into nested data."""
    root = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        keys = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part in keys[:-1]:
            node = node.setdefault(part or str(len(node)), {})
        node[keys[-1] or str(len(node))] = value
    return listify(root)


def listify(value):
    if not isinstance(value, dict):
        return value
    items = {key: listify(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def signature_header(payload, secret, timestamp=None):
    """Return a ``Stripe-Signature`` header for the payload, as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class StripeStandIn:
    def __init__(
        self, *, api_key="sk_test_standin", webhook_secret="whsec_standin", webhook_url=None
    ):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.sessions = {}
        self.payment_intents = {}
        self.charges = {}
        self.refunds = {}
        self.disputes = {}
        # The status a refund created through the API gets: "succeeded", "pending" or "failed".
        self.next_refund_status = "succeeded"
        self.events = []
        self.requests = []
        self.deliveries = []
        self._idempotent = {}
        self._failures = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server = None
        # Called with each new Checkout Session before it is answered (a race in a test).
        self.on_session_created = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self, port=0):
        """Serve on 127.0.0.1 (on a free port unless given) in a background thread; return self."""
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = _Server(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- faults -----------------------------------------------------------------------

    def fail_next(self, status=500, times=1, *, path=None):
        """Make the next API calls answer ``status`` in Stripe's error format, or drop the
        connection when ``status`` is ``"unreachable"``; ``path`` limits it to one endpoint."""
        with self._lock:
            self._failures.extend([(status, path)] * times)

    def _take_failure(self, path):
        with self._lock:
            for index, (status, only) in enumerate(self._failures):
                if only is None or path.startswith(only):
                    del self._failures[index]
                    return status
        return None

    # -- test actions -----------------------------------------------------------------

    def new_id(self, prefix):
        return f"{prefix}_test_{next(self._ids):04d}{secrets.token_hex(6)}"

    def pay(self, session_id, *, payment_status="paid", deliver=True):
        """Complete a session as if the buyer paid; deliver ``checkout.session.completed``.

        ``payment_status="unpaid"`` models a delayed payment method (bank debit) that
        settles later through ``settle(session_id)``. Returns the event.
        """
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise StripeError(400, f"Session {session_id} is {session['status']}.")
            intent_id, charge_id = self.new_id("pi"), self.new_id("ch")
            amount, currency = session["amount_total"], session["currency"]
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_refunded": 0,
                "currency": currency,
                "payment_intent": intent_id,
                "refunded": False,
                "paid": payment_status == "paid",
                "metadata": dict(session["metadata"]),
            }
            self.payment_intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "currency": currency,
                "status": "succeeded" if payment_status == "paid" else "processing",
                "latest_charge": charge_id,
                "metadata": dict(session["metadata"]),
            }
            session.update(
                status="complete", payment_status=payment_status, payment_intent=intent_id
            )
            event = self.make_event("checkout.session.completed", session)
        if deliver:
            self.deliver(event)
        return event

    def settle(self, session_id, *, succeeded=True, deliver=True):
        """Finish a delayed payment; deliver ``checkout.session.async_payment_*``."""
        with self._lock:
            session = self.sessions[session_id]
            intent = self.payment_intents[session["payment_intent"]]
            if succeeded:
                session["payment_status"] = "paid"
                intent["status"] = "succeeded"
                self.charges[intent["latest_charge"]]["paid"] = True
            else:
                intent["status"] = "requires_payment_method"
            kind = "succeeded" if succeeded else "failed"
            event = self.make_event(f"checkout.session.async_payment_{kind}", session)
        if deliver:
            self.deliver(event)
        return event

    def expire(self, session_id, *, deliver=True):
        """Let a session run out; deliver ``checkout.session.expired``."""
        with self._lock:
            self._expire(session_id)
            event = self.make_event("checkout.session.expired", self.sessions[session_id])
        if deliver:
            self.deliver(event)
        return event

    def refund(self, charge_id, amount=None, *, deliver=True):
        """Refund from the Stripe dashboard; deliver ``charge.refunded``."""
        with self._lock:
            params = {"charge": charge_id, **({"amount": str(amount)} if amount else {})}
            self._refund(params, status="succeeded")
            event = self.make_event("charge.refunded", self.charges[charge_id])
        if deliver:
            self.deliver(event)
        return event

    def settle_refund(self, refund_id, status="succeeded", *, deliver=True):
        """End a pending refund as Stripe does; a failed one gives the money back to the charge.

        Delivers ``refund.updated`` (``refund.failed`` for a failure). Returns the event.
        """
        with self._lock:
            refund = self.refunds[refund_id]
            if refund["status"] != "pending":
                raise StripeError(400, f"Refund {refund_id} is {refund['status']}.")
            refund["status"] = status
            if status == "failed":
                refund["failure_reason"] = "expired_or_canceled_card"
                charge = self.charges[refund["charge"]]
                charge["amount_refunded"] -= refund["amount"]
                charge["refunded"] = False
            kind = "failed" if status == "failed" else "updated"
            event = self.make_event(f"refund.{kind}", refund)
        if deliver:
            self.deliver(event)
        return event

    def dispute(self, charge_id, *, reason="fraudulent", deliver=True):
        """Open a dispute of a charge as the buyer's bank does; deliver
        ``charge.dispute.created``. Returns the event."""
        with self._lock:
            charge = self.charges[charge_id]
            dispute_id = self.new_id("dp")
            self.disputes[dispute_id] = {
                "id": dispute_id,
                "object": "dispute",
                "amount": charge["amount"] - charge["amount_refunded"],
                "currency": charge["currency"],
                "charge": charge_id,
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": "needs_response",
                "evidence_details": {"due_by": int(time.time()) + 7 * 24 * 3600},
                "created": int(time.time()),
                "livemode": False,
            }
            charge["disputed"] = True
            event = self.make_event("charge.dispute.created", self.disputes[dispute_id])
        if deliver:
            self.deliver(event)
        return event

    def close_dispute(self, dispute_id, status="lost", *, deliver=True):
        """End a dispute (``won``, ``lost`` or ``warning_closed``); deliver
        ``charge.dispute.closed``. Returns the event."""
        with self._lock:
            self.disputes[dispute_id]["status"] = status
            event = self.make_event("charge.dispute.closed", self.disputes[dispute_id])
        if deliver:
            self.deliver(event)
        return event

    def charge_for(self, session_id):
        intent = self.payment_intents[self.sessions[session_id]["payment_intent"]]
        return self.charges[intent["latest_charge"]]

    def make_event(self, event_type, obj):
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        self.events.append(event)
        return event

    def signed(self, event, *, timestamp=None, secret=None):
        """Return (payload bytes, Stripe-Signature header) for an event."""
        payload = json.dumps(event).encode()
        return payload, signature_header(payload, secret or self.webhook_secret, timestamp)

    def deliver(self, event, *, timestamp=None, secret=None):
        """POST the signed event to the webhook target; return the HTTP status."""
        payload, signature = self.signed(event, timestamp=timestamp, secret=secret)
        if self.webhook_url is None:
            return None
        if callable(self.webhook_url):
            status = self.webhook_url(payload, signature)
        else:
            request = urllib.request.Request(
                self.webhook_url,
                data=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except urllib.error.URLError:
                status = None  # the site is down; Stripe would retry, the shop asks later
        self.deliveries.append((event["id"], event["type"], status))
        return status

    # -- API --------------------------------------------------------------------------

    def handle(self, method, path, params, headers):
        """Answer one API request: (status, body dict)."""
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            raise StripeError(401, "Invalid API Key provided.")
        key = headers.get("Idempotency-Key") if method == "POST" else None
        if key and key in self._idempotent:
            seen_request, answer = self._idempotent[key]
            if seen_request != (path, params):
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    type="idempotency_error",
                )
            return answer
        try:
            answer = 200, self.route(method, path, params)
        except StripeError as error:
            answer = error.status, error.body
        if key and answer[0] < 500:
            self._idempotent[key] = ((path, params), answer)
        return answer

    def route(self, method, path, params):
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path):
            session_id, expire = match.groups()
            if session_id not in self.sessions:
                raise StripeError(
                    404, f"No such checkout.session: '{session_id}'", code="resource_missing"
                )
            if expire and method == "POST":
                return self._expire(session_id)
            return self.sessions[session_id]
        if match := re.fullmatch(r"/v1/payment_intents/([^/]+)", path):
            if match[1] not in self.payment_intents:
                raise StripeError(
                    404, f"No such payment_intent: '{match[1]}'", code="resource_missing"
                )
            return self.payment_intents[match[1]]
        if match := re.fullmatch(r"/v1/charges/([^/]+)", path):
            if match[1] not in self.charges:
                raise StripeError(404, f"No such charge: '{match[1]}'", code="resource_missing")
            return self.charges[match[1]]
        if match := re.fullmatch(r"/v1/disputes/([^/]+)", path):
            if match[1] not in self.disputes:
                raise StripeError(404, f"No such dispute: '{match[1]}'", code="resource_missing")
            return self.disputes[match[1]]
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        if method == "GET" and path == "/v1/refunds":
            return self._list_refunds(params)
        if match := re.fullmatch(r"/v1/refunds/([^/]+)", path):
            if match[1] not in self.refunds:
                raise StripeError(404, f"No such refund: '{match[1]}'", code="resource_missing")
            return self.refunds[match[1]]
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params):
        now = int(time.time())
        items = params.get("line_items") or []
        if params.get("mode") != "payment" or not items:
            raise StripeError(400, "Missing required param: line_items.", param="line_items")
        expires_at = int(params.get("expires_at", now + MAX_EXPIRY_SECONDS))
        if not now + MIN_EXPIRY_SECONDS <= expires_at <= now + MAX_EXPIRY_SECONDS:
            raise StripeError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        currencies = {item["price_data"]["currency"] for item in items}
        if len(currencies) != 1:
            raise StripeError(400, "All line items must use the same currency.")
        total = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items)
        session_id = self.new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currencies.pop(),
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "payment_intent": None,
            "expires_at": expires_at,
            "created": now,
            "livemode": False,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.url}/pay/{session_id}",
            "line_items_requested": items,
        }
        self.sessions[session_id] = session
        if self.on_session_created is not None:
            self.on_session_created(session)
        return session

    def _expire(self, session_id):
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise StripeError(
                400, 'Only Checkout Sessions with a status in ["open"] can be expired.'
            )
        session["status"] = "expired"
        return session

    def _list_refunds(self, params):
        """List refunds, newest first, of one payment intent or charge when asked."""
        found = [
            refund
            for refund in reversed(self.refunds.values())
            if params.get("payment_intent") in (None, refund["payment_intent"])
            and params.get("charge") in (None, refund["charge"])
        ]
        limit = int(params.get("limit", 10))
        return {
            "object": "list",
            "url": "/v1/refunds",
            "has_more": len(found) > limit,
            "data": found[:limit],
        }

    def _refund(self, params, status=None):
        charge_id = params.get("charge")
        if not charge_id and params.get("payment_intent") in self.payment_intents:
            charge_id = self.payment_intents[params["payment_intent"]]["latest_charge"]
        charge = self.charges.get(charge_id)
        if charge is None:
            raise StripeError(404, "No such payment_intent.", code="resource_missing")
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount", left))
        if left == 0:
            raise StripeError(
                400,
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > left or amount <= 0:
            raise StripeError(400, "Refund amount is greater than the amount left.", param="amount")
        status = status or self.next_refund_status
        if status != "failed":
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund_id = self.new_id("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "charge": charge_id,
            "currency": charge["currency"],
            "payment_intent": charge["payment_intent"],
            "status": status,
            "failure_reason": "card_declined" if status == "failed" else None,
            "created": int(time.time()),
            "metadata": params.get("metadata", {}),
        }
        self.refunds[refund_id] = refund
        return refund

    def pay_page(self, session_id):
        """Return (status, HTML) of the payment page a Checkout Session's ``url`` leads to."""
        session = self.sessions.get(session_id)
        if session is None:
            return 404, pay_page_html("No such payment", "<p>This payment does not exist.</p>")
        if session["status"] != "open":
            back = html.escape(session["cancel_url"] or "/")
            body = (
                f"<p>This payment is {html.escape(session['status'])}.</p>"
                f'<p><a href="{back}">Back to the shop</a></p>'
            )
            return 409, pay_page_html("Payment closed", body)
        currency = session["currency"].upper()
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(item["price_data"].get("product_data", {}).get("name", "Item")),
                html.escape(str(item["quantity"])),
                html.escape(minor_units_text(item["price_data"]["unit_amount"], currency)),
            )
            for item in session["line_items_requested"]
        )
        total = html.escape(minor_units_text(session["amount_total"], currency))
        email = html.escape(session["customer_email"] or "")
        body = f"""<p class="notice"><strong>Local test payment: no money moves.</strong>
This page stands in for Stripe Checkout on this computer. No card is asked for and nothing is
charged; paying here tells the shop the order is paid, as Stripe would.</p>
<table><caption>Payment{f" for {email}" if email else ""}</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Quantity</th>
<th scope="col">Price each</th></tr></thead><tbody>{rows}</tbody>
<tfoot><tr><th scope="row" colspan="2">Total</th><td id="total">{total}</td></tr></tfoot></table>
<form method="post"><button type="submit" id="pay">Pay {total} (test, no money moves)</button>
</form><p><a id="cancel" href="{html.escape(session["cancel_url"] or "/")}">Cancel and go back
to the shop</a></p>"""
        return 200, pay_page_html(f"Pay {total}", body)


def minor_units_text(amount, currency):
    """Show an amount given in Stripe's minor units: ``2500, "EUR"`` reads ``25.00 EUR``."""
    return format_amount(from_minor_units(int(amount), currency), currency)


PAY_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1a1a1a}.notice{border:3px solid #8a4b00;background:#fff4e0;"
    "padding:.75rem}table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "caption{text-align:left;font-weight:bold}th,td{text-align:left;padding:.25rem;"
    "border-bottom:1px solid #ccc}td:last-child{white-space:nowrap}"
    "button{font:inherit;padding:.6rem 1rem;min-height:44px;"
    "background:#0b5394;color:#fff;border:0;border-radius:4px}a{color:#0b5394}"
)


def pay_page_html(title, body):
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{title} · Local test payment (no money moves)</title>"
        f"<style>{PAY_PAGE_STYLE}</style></head><body><main><h1>{title}</h1>{body}</main>"
        "</body></html>"
    )


# The page has no script; its form posts to itself and is redirected to the shop.
PAY_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # Dropped connections ("unreachable") are intended; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    standin = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method):
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else urlsplit(self.path).query
        if path.startswith("/pay/"):
            return self.pay_page(method, path.removeprefix("/pay/"))
        standin = self.standin
        with standin._lock:
            standin.requests.append((method, path, dict(self.headers)))
        failure = standin._take_failure(path)
        if failure == "unreachable":
            self.close_connection = True
            self.connection.close()
            return
        if failure is not None:
            error = StripeError(int(failure), "An unknown error occurred", type="api_error")
            return self.send_json(error.status, error.body)
        params = decode_form(body)
        try:
            with standin._lock:
                status, payload = standin.handle(method, path, params, self.headers)
        except StripeError as error:
            status, payload = error.status, error.body
        self.send_json(status, payload)

    def pay_page(self, method, session_id):
        standin = self.standin
        if method == "POST" and session_id in standin.sessions:
            with standin._lock:
                session = standin.sessions[session_id]
                is_open = session["status"] == "open"
                if is_open:
                    # Marked paid under the lock, so a double click pays once.
                    event = standin.pay(session_id, deliver=False)
            if is_open:
                standin.deliver(event)
                success = session["success_url"] or "/"
                self.send_response(303)
                self.send_header("Location", success.replace("{CHECKOUT_SESSION_ID}", session_id))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        status, page = standin.pay_page(session_id)
        data = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", PAY_PAGE_POLICY)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
        self.end_headers()
        self.wfile.write(data)
