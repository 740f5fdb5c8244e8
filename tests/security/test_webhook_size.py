"""The Stripe webhook refuses oversized bodies with 413 before reading them whole."""

import io
import json

import pytest
from django.test import RequestFactory

from tickets import views
from tickets.stripe_standin import signature_header

pytestmark = pytest.mark.django_db

WEBHOOK = "/tickets/stripe/webhook/"
SECRET = "whsec_size_test"


@pytest.fixture(autouse=True)
def stripe_configured(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_size"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_WEBHOOK_MAX_BYTES = 1024


def event_bytes(padding=0):
    event = {"id": "evt_big", "type": "ping", "data": {"object": {"id": "x", "pad": "x" * padding}}}
    return json.dumps(event).encode()


class CountingStream(io.BytesIO):
    """A request body without a declared length that records how much was read."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_webhook_declared_length_over_limit_refused_413(client):
    payload = event_bytes(padding=2000)

    response = client.post(
        WEBHOOK,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET),
    )

    assert response.status_code == 413
    assert response.content == b"Payload too large."


def test_webhook_body_at_limit_is_read_and_checked(client, settings):
    payload = event_bytes()
    settings.STRIPE_WEBHOOK_MAX_BYTES = len(payload)

    response = client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x"
    )

    # Within the limit the body reaches the signature check, which refuses the forged one.
    assert response.status_code == 400
    assert response.content == b"Bad signature."


def test_webhook_small_signed_event_still_accepted(client):
    payload = event_bytes()

    response = client.post(
        WEBHOOK,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET),
    )

    assert response.status_code == 200


def undeclared_length_request(stream, size, **headers):
    """Return a webhook POST whose body is ``stream`` (``size`` bytes) and has no declared length.

    Django reads the body through a stream of the length the server gave it; a server such as
    gunicorn reading a chunked body gives the body's real length while the request declares none.
    """
    request = RequestFactory().post(
        WEBHOOK,
        data=b"",
        content_type="application/json",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": stream},
        **headers,
    )
    request.META.pop("CONTENT_LENGTH")
    return request


def test_webhook_undeclared_length_reads_at_most_one_byte_past_limit():
    # A chunked body has no Content-Length; the server hands the view an unlimited stream.
    body = b"{" + b" " * 10_000_000 + b"}"
    stream = CountingStream(body)
    request = undeclared_length_request(stream, len(body))

    response = views.stripe_webhook(request)

    assert response.status_code == 413
    assert stream.bytes_read == 1025


def test_webhook_undeclared_length_within_limit_is_checked():
    payload = event_bytes()
    request = undeclared_length_request(
        CountingStream(payload),
        len(payload),
        HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET),
    )

    response = views.stripe_webhook(request)

    assert response.status_code == 200


def test_webhook_is_never_rate_limited(client):
    # Stripe's retries of payments must always get through: nothing paid is lost to a limit.
    statuses = set()
    for n in range(80):
        payload = json.dumps(
            {"id": f"evt_{n}", "type": "ping", "data": {"object": {"id": f"x{n}"}}}
        ).encode()
        response = client.post(
            WEBHOOK,
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET),
        )
        statuses.add(response.status_code)

    assert statuses == {200}
