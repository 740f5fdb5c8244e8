"""The fixed-window rate limiter: rates, windows, per-IP and per-key counting, the 429 page."""

import threading
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from workshop.ratelimit import Exceeded, Rate, check, client_ip, hit, rate_limited

pytestmark = pytest.mark.urls("tests.security.urls_ratelimit")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """Stop the limiter's clock 10 minutes past 02:00 on 1 January 1970."""
    monkeypatch.setattr("workshop.ratelimit.time", SimpleNamespace(time=lambda: 7800.0))


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("5/m", 5, 60), ("20/h", 20, 3600), ("3/10m", 3, 600), ("100/d", 100, 86400), ("1/s", 1, 1)],
)
def test_rate_parse(text, count, seconds):
    assert Rate.parse(text) == Rate(count=count, seconds=seconds)


@pytest.mark.parametrize("text", ["", "5", "5/w", "0/m", "-1/m", "five/m", "5/m/ip"])
def test_rate_parse_refuses_nonsense(text):
    with pytest.raises(ValueError, match="Not a rate"):
        Rate.parse(text)


def test_decorator_refuses_mistyped_rate_at_import():
    with pytest.raises(ValueError, match="Not a rate: '5 per minute'"):
        rate_limited("x", per_ip="5 per minute")


def test_hit_allows_up_to_the_count_in_one_window():
    results = [
        hit(scope="s", per="ip", identity="1.2.3.4", rate="2/m", now=120.0 + i) for i in range(3)
    ]

    assert results == [None, None, Exceeded(scope="s", per="ip", retry_after=58)]


def test_hit_retry_after_counts_to_end_of_window():
    for _ in range(2):
        hit(scope="s", per="ip", identity="a", rate="1/m", now=150.5)

    assert hit(scope="s", per="ip", identity="a", rate="1/m", now=179.2).retry_after == 1
    assert hit(scope="s", per="ip", identity="a", rate="1/m", now=150.5).retry_after == 30


def test_hit_starts_again_in_the_next_window():
    hit(scope="s", per="ip", identity="a", rate="1/m", now=60.0)
    assert hit(scope="s", per="ip", identity="a", rate="1/m", now=119.9) is not None

    assert hit(scope="s", per="ip", identity="a", rate="1/m", now=120.0) is None


def test_hit_counts_scopes_and_identities_apart():
    hit(scope="orders", per="ip", identity="a", rate="1/m", now=0)

    assert hit(scope="resend", per="ip", identity="a", rate="1/m", now=0) is None
    assert hit(scope="orders", per="ip", identity="b", rate="1/m", now=0) is None
    assert hit(scope="orders", per="key", identity="a", rate="1/m", now=0) is None


def test_cache_keys_do_not_reveal_the_email_address(monkeypatch):
    keys = []

    def recording_add(key, *args, **kwargs):
        keys.append(key)
        return cache.add(key, *args, **kwargs)

    recording = SimpleNamespace(add=recording_add, incr=cache.incr, set=cache.set)
    monkeypatch.setattr("workshop.ratelimit.cache", recording)

    hit(scope="orders", per="key", identity="ada@example.org", rate="1/m", now=0)

    assert len(keys) == 1
    assert "ada" not in keys[0] and "example" not in keys[0]
    assert cache.get(keys[0]) == 1


def test_key_is_counted_case_and_space_insensitively(rf):
    request = rf.post("/")
    check(request, "orders", per_key="1/h", key="Ada@Example.org ")

    exceeded = check(request, "orders", per_key="1/h", key="ada@example.org")

    assert exceeded.per == "key"


def test_missing_key_is_not_counted(rf):
    request = rf.post("/")

    results = [check(request, "orders", per_key="1/h", key=None) for _ in range(3)]

    assert results == [None, None, None]


def test_longest_wait_wins_when_both_limits_pass(rf, clock):
    request = rf.post("/")
    check(request, "orders", per_ip="1/m", per_key="1/h", key="a@example.org")

    exceeded = check(request, "orders", per_ip="1/m", per_key="1/h", key="a@example.org")

    assert exceeded == Exceeded(scope="orders", per="key", retry_after=3000)


def test_disabled_setting_never_limits(rf, settings):
    settings.RATELIMIT_ENABLED = False
    request = rf.post("/")

    results = [check(request, "orders", per_ip="1/h") for _ in range(3)]

    assert results == [None, None, None]


def test_client_ip_is_remote_addr_without_proxy(rf, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert client_ip(request) == "203.0.113.9"


def test_client_ip_behind_one_proxy_is_the_address_the_proxy_saw(rf, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # The client claimed 198.51.100.1 itself; the proxy appended the address it really saw.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")

    assert client_ip(request) == "203.0.113.9"


def test_client_ip_groups_ipv6_by_64_network(rf):
    one = rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    two = rf.get("/", REMOTE_ADDR="2001:db8:1:2:bbbb::2")

    assert client_ip(one) == client_ip(two) == "2001:db8:1:2::"


def test_decorated_view_lets_get_through(client, db):
    responses = [client.get("/resend/") for _ in range(5)]

    assert [r.content for r in responses] == [b"form"] * 5


def test_decorated_view_answers_429_per_key(client, workshop, clock):
    posts = [client.post("/resend/", {"email": "ada@example.org"}) for _ in range(3)]

    assert [r.status_code for r in posts] == [200, 200, 429]
    refused = posts[-1]
    assert refused["Retry-After"] == "3000"
    assert refused["Cache-Control"] == "no-store"
    html = refused.content.decode()
    assert "<h1>Too many attempts</h1>" in html
    assert "Please wait 50 minutes and try again." in html
    assert 'href="mailto:workshop@example.org"' in html


def test_decorated_view_answers_429_per_ip_whatever_the_key(client, workshop, clock):
    posts = [client.post("/resend/", {"email": f"person{i}@example.org"}) for i in range(4)]

    assert [r.status_code for r in posts] == [200, 200, 200, 429]
    assert posts[-1]["Retry-After"] == "60"
    assert "Please wait 1 minute and try again." in posts[-1].content.decode()


def test_decorated_view_counts_other_addresses_apart(client, workshop):
    for _ in range(3):
        client.post("/resend/", {"email": "a@example.org"}, REMOTE_ADDR="203.0.113.1")

    other = client.post("/resend/", {"email": "b@example.org"}, REMOTE_ADDR="203.0.113.2")

    assert other.status_code == 200


@pytest.fixture
def redis_cache(monkeypatch):
    """Point the limiter at the real Redis, under a prefix of its own that is removed after."""
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    from django.core.cache.backends.redis import RedisCache

    prefix = f"test-ratelimit-{uuid.uuid4().hex}"
    monkeypatch.setattr(
        "workshop.ratelimit.cache", RedisCache("redis://127.0.0.1:6379/0", {"KEY_PREFIX": prefix})
    )
    yield
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def test_limit_holds_under_concurrent_requests_on_redis(redis_cache):
    results = []
    start = threading.Barrier(20)

    def attempt():
        start.wait()
        results.append(hit(scope="orders", per="ip", identity="a", rate="5/h", now=7200.0))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 20
    assert results.count(None) == 5


def test_allauth_rate_limits_answer_with_the_same_page(client, workshop, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "1/m/ip"}
    client.post("/accounts/login/", {"login": "a@example.org", "password": "wrong"})

    response = client.post("/accounts/login/", {"login": "a@example.org", "password": "wrong"})

    assert response.status_code == 429
    html = response.content.decode()
    assert "<h1>Too many attempts</h1>" in html
    assert "Please wait a few minutes and try again." in html
