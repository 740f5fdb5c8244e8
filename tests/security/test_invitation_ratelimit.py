"""Speaker invitation links and claims are rate limited per client address and per token."""

import pytest
from django.core.cache import cache

from speakers.adapter import INVITATION_SESSION_KEY
from speakers.models import Speaker
from tests.factories import SpeakerFactory
from tests.speakers.conftest import verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def assert_429(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "<h1>Too many attempts</h1>" in response.content.decode()


def test_invitation_link_limited_per_address(client):
    # Guessing tokens: each one is new, so only the per-address count stops it.
    answers = [client.get(f"/speakers/invitation/guess{n}/").status_code for n in range(60)]

    response = client.get("/speakers/invitation/guess-60/")

    assert answers == [404] * 60
    assert_429(response)


def test_invitation_link_limited_per_token(client, invited):
    _, token = invited
    for n in range(20):
        client.get(f"/speakers/invitation/{token}/", REMOTE_ADDR=f"10.0.0.{n}")

    response = client.get(f"/speakers/invitation/{token}/", REMOTE_ADDR="10.0.1.1")

    assert_429(response)
    # Another link from the same address still works.
    assert client.get("/speakers/invitation/other/", REMOTE_ADDR="10.0.1.1").status_code == 404


def post_claim(client, token, **extra):
    session = client.session
    session[INVITATION_SESSION_KEY] = token
    session.save()
    return client.post("/speakers/invitation/", **extra)


def test_invitation_claim_limited_per_token(client, invited):
    _, token = invited
    # Someone who already has a profile cannot claim another: each try fails, the link stays open.
    user = verified_user(username="grace", email="grace@example.org")
    SpeakerFactory(name="Grace's own", slug="grace-own", user=user)
    client.force_login(user)
    answers = [post_claim(client, token, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(5)]

    response = post_claim(client, token, REMOTE_ADDR="10.0.1.1")

    assert answers == [409] * 5
    assert_429(response)
    assert Speaker.objects.get(slug="grace-okafor").user is None


def test_invitation_claim_limited_per_address(client, workshop):
    client.force_login(verified_user(username="grace", email="grace@example.org"))
    answers = [post_claim(client, f"guess{n}").status_code for n in range(20)]

    response = post_claim(client, "guess-20")

    assert answers == [404] * 20
    assert_429(response)


def test_invitation_claim_within_limits_links_profile(client, invited):
    _, token = invited
    user = verified_user(username="grace", email="grace@example.org")
    client.force_login(user)
    client.get(f"/speakers/invitation/{token}/")

    response = client.post("/speakers/invitation/")

    assert response.status_code == 302
    assert Speaker.objects.get(slug="grace-okafor").user == user
