"""The private-page decorator and the constant-time secret comparison."""

import secrets

import pytest
from django.test import RequestFactory

from tests.security.urls_private import order_view
from workshop.security import secret_matches


def test_private_page_keeps_response_out_of_caches_and_referers():
    request = RequestFactory().get("/orders/abc/")

    response = order_view(request, secret="abc")

    assert response.content == b"order abc"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "strict-origin"


def test_private_page_keeps_view_name():
    assert order_view.__name__ == "order_view"
    assert order_view.__doc__ == "Answer like an order page reached by a secret link."


@pytest.mark.urls("tests.security.urls_private")
def test_private_page_headers_survive_the_middleware(client, db):
    response = client.get("/private/abc/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "strict-origin"


def test_secret_matches_equal_secrets():
    stored = secrets.token_urlsafe(32)

    assert secret_matches(str(stored), stored) is True


@pytest.mark.parametrize("given", ["", None, "short", "x" * 43])
def test_secret_matches_refuses_other_or_missing(given):
    stored = secrets.token_urlsafe(32)

    assert secret_matches(given, stored) is False


def test_secret_matches_refuses_when_nothing_stored():
    assert secret_matches("", "") is False
    assert secret_matches("abc", None) is False


def test_secret_matches_accepts_non_ascii_without_error():
    assert secret_matches("é" * 10, "abc") is False
