"""The Redis cache used in production misses instead of failing while Redis is down."""

import logging
import time
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.exceptions import ImproperlyConfigured
from redis import RedisError

from workshop import cache_backends
from workshop.cache_backends import FaultTolerantRedisCache, WatchedCopies

REDIS = "redis://127.0.0.1:6379/0"


def redis_running():
    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_running(), reason="Needs Redis on 127.0.0.1:6379.")


@pytest.fixture
def down(monkeypatch):
    monkeypatch.setattr(FaultTolerantRedisCache, "last_warning", 0.0)
    return FaultTolerantRedisCache("redis://127.0.0.1:1/0", {})


@pytest.fixture
def live():
    """The backend on the real Redis, under a key prefix of its own, emptied afterwards."""
    prefix = uuid.uuid4().hex
    backend = FaultTolerantRedisCache(REDIS, {"KEY_PREFIX": prefix})
    yield backend
    keys = list(backend.client.scan_iter(f"{prefix}:*"))
    if keys:
        backend.client.delete(*keys)


def test_reads_miss_and_writes_are_dropped(down):
    assert down.get("k", "fallback") == "fallback"
    assert down.get_many(["a", "b"]) == {}
    assert down.has_key("k") is False
    assert down.set("k", 1) is None
    assert down.set_many({"a": 1}) == ["a"]
    assert down.delete("k") is False
    assert down.touch("k") is False
    assert down.delete_many(["a", "b"]) is None


def test_add_reports_success_so_locks_let_requests_through(down):
    assert down.add("lock", True) is True


def test_incr_still_raises_for_callers_that_handle_it(down):
    with pytest.raises(RedisError):
        down.incr("counter")


def test_outage_is_logged_once_per_interval(down, caplog):
    caplog.set_level(logging.WARNING, logger="workshop.cache_backends")

    down.get("k")
    down.set("k", 1)
    FaultTolerantRedisCache.last_warning -= cache_backends.WARN_EVERY_SECONDS  # time passes
    down.get("k")

    messages = [r.getMessage() for r in caplog.records if r.name == "workshop.cache_backends"]
    assert len(messages) == 2
    assert messages[0].startswith("Redis unavailable (")


def test_outage_costs_a_request_little_time(down):
    started = time.monotonic()

    down.get_many(["a", "b"])

    assert time.monotonic() - started < 1  # refused at once, not retried for seconds


def test_location_with_several_servers_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="one redis:// URL"):
        FaultTolerantRedisCache("redis://a:6379/0,redis://b:6379/0", {})


@needs_redis
def test_working_redis_keeps_values(live):
    live.set("k", {"v": 1}, 30)

    assert live.get("k") == {"v": 1}
    assert live.get_many(["k", "missing"]) == {"k": {"v": 1}}
    assert live.add("k", "other", 30) is False
    assert live.add("n", 0, 30) is True
    assert live.incr("n") == 1
    assert live.decr("n", 3) == -2
    assert live.has_key("n") is True
    live.delete_many(["k", "n"])
    assert live.get_many(["k", "n"]) == {}


@needs_redis
def test_incr_of_a_missing_key_raises_value_error(live):
    with pytest.raises(ValueError):
        live.incr("missing")


@needs_redis
def test_timeouts_follow_djangos_contract(live):
    live.set("gone", 1, timeout=0)
    live.set("kept", 1, timeout=None)
    live.set("brief", 1, timeout=30)
    live.set_many({"a": 1, "b": [2]}, timeout=30)

    assert live.get("gone") is None
    assert live.client.ttl(live.make_key("kept")) == -1  # no expiry
    assert 0 < live.client.ttl(live.make_key("brief")) <= 30
    assert live.get_many(["a", "b"]) == {"a": 1, "b": [2]}
    assert live.touch("brief", None) is True
    assert live.client.ttl(live.make_key("brief")) == -1
    assert live.add("zero", 1, timeout=0) is True
    assert live.get("zero") is None


@needs_redis
def test_values_are_shared_with_djangos_own_redis_cache(live):
    django_cache = DjangoRedisCache(REDIS, {"KEY_PREFIX": live.key_prefix})

    django_cache.set("from-django", {"talks": 3}, 30)
    django_cache.set("count", 5, 30)
    live.set("from-ours", ("a", 1), 30)

    assert live.get("from-django") == {"talks": 3}
    assert live.incr("count") == 6
    assert django_cache.get("from-ours") == ("a", 1)


@pytest.fixture
def other_process(live):
    """A second backend on the same keys, as another app server has: its own subscription."""
    backend = FaultTolerantRedisCache(REDIS, {"KEY_PREFIX": live.key_prefix})
    # In one process the backends share their copies; another process has copies of its own.
    backend.watched = WatchedCopies(redis.Redis.from_url(REDIS), live.watched.channel)
    yield backend
    if backend.watched.pubsub is not None:
        backend.watched.pubsub.close()


class CountedReads:
    """Count the watched reads a backend sends to Redis (redis-py's own MGET does the work)."""

    def __init__(self, backend, monkeypatch):
        self.count = 0
        mget = backend.watched.client.mget

        def counted(*args, **kwargs):
            self.count += 1
            return mget(*args, **kwargs)

        monkeypatch.setattr(backend.watched.client, "mget", counted)


@needs_redis
def test_watched_keys_are_read_from_this_process_copy(live, monkeypatch):
    live.set_watched("version", ("a", 1), timeout=None)
    reads = CountedReads(live, monkeypatch)

    first = live.get_many_watched(["version", "missing"])
    again = [live.get_many_watched(["version"]) for _ in range(50)]

    assert first == {"version": ("a", 1)}
    assert again == [{"version": ("a", 1)}] * 50
    assert reads.count == 1


@needs_redis
def test_a_change_in_another_process_is_read_at_once(live, other_process):
    live.set_watched("version", 0, timeout=None)
    assert other_process.get_many_watched(["version"]) == {"version": 0}

    for number in range(1, 201):  # no waiting between the write and the read
        live.set_watched("version", number, timeout=None)
        assert other_process.get_many_watched(["version"]) == {"version": number}
        assert live.get_many_watched(["version"]) == {"version": number}


@needs_redis
def test_clear_in_another_process_drops_every_copy(live, other_process):
    live.set_watched("version", "kept", timeout=None)
    assert other_process.get_many_watched(["version"]) == {"version": "kept"}

    live.client.delete(live.make_key("version"))
    live.client.publish(live.watched.channel, cache_backends.EVERYTHING)

    assert other_process.get_many_watched(["version"]) == {}


@needs_redis
def test_renewed_subscription_drops_copies_whose_news_may_be_lost(live, other_process):
    """redis-py connects again inside the poll: the renewal is seen by its connect callback, or
    by the subscription's confirmation when that has arrived by then."""
    live.set_watched("version", "before", timeout=None)
    for number in range(20):
        assert other_process.get_many_watched(["version"]) != {}
        # A change whose news this process never hears, while its connection is down.
        live.client.set(live.make_key("version"), cache_backends.dumps(number))
        other_process.watched.pubsub.connection.disconnect()

        assert other_process.get_many_watched(["version"]) == {"version": number}


@needs_redis
def test_subscription_closed_by_redis_drops_copies(live, other_process):
    live.set_watched("version", "before", timeout=None)
    assert other_process.get_many_watched(["version"]) == {"version": "before"}
    live.client.set(live.make_key("version"), cache_backends.dumps("during the outage"))
    # As when Redis restarts: the server closes the subscriber's connection.
    subscriber = other_process.watched.pubsub.connection._sock.getsockname()
    live.client.client_kill_filter(laddr=None, addr=f"{subscriber[0]}:{subscriber[1]}")

    assert other_process.get_many_watched(["version"]) == {"version": "during the outage"}


@needs_redis
def test_write_is_kept_when_redis_refuses_to_announce_it(live, caplog, monkeypatch):
    monkeypatch.setattr(FaultTolerantRedisCache, "last_warning", 0.0)  # not logged yet
    user = f"no-publish-{uuid.uuid4().hex[:8]}"
    live.client.acl_setuser(
        user, enabled=True, nopass=True, keys=["*"], channels=["*"], commands=["+@all", "-publish"]
    )
    try:
        refused = FaultTolerantRedisCache(
            f"redis://{user}@127.0.0.1:6379/0", {"KEY_PREFIX": live.key_prefix}
        )
        refused.set_watched("version", "written", timeout=None)
        assert refused.add_watched("added", "too", timeout=None) is True
    finally:
        live.client.acl_deluser(user)

    assert live.get_many(["version", "added"]) == {"version": "written", "added": "too"}
    assert "announcing the change" in caplog.text


@needs_redis
def test_copies_are_read_again_once_old(live, other_process, monkeypatch):
    monkeypatch.setattr(cache_backends, "WATCHED_MAX_AGE_SECONDS", 0.05)
    live.set_watched("version", "before", timeout=None)
    assert other_process.get_many_watched(["version"]) == {"version": "before"}
    # News lost without the connection closing (a network that drops packets).
    live.client.set(live.make_key("version"), cache_backends.dumps("unheard"))
    assert other_process.get_many_watched(["version"]) == {"version": "before"}

    time.sleep(0.1)

    assert other_process.get_many_watched(["version"]) == {"version": "unheard"}


def test_watched_reads_miss_and_writes_are_dropped_while_redis_is_down(down, caplog):
    down.set_watched("version", 1, timeout=None)

    assert down.get_many_watched(["version"]) == {}
    assert down.watched.pubsub is None
    assert "Redis unavailable" in caplog.text


@needs_redis
def test_a_key_added_in_another_process_is_read_at_once(live, other_process, monkeypatch):
    reads = CountedReads(other_process, monkeypatch)
    assert other_process.get_many_watched(["version"]) == {}
    assert other_process.get_many_watched(["version"]) == {}  # its absence is kept too
    assert reads.count == 1

    assert live.add_watched("version", "first", timeout=None) is True
    assert live.add_watched("version", "second", timeout=None) is False

    assert other_process.get_many_watched(["version"]) == {"version": "first"}
    assert live.client.ttl(live.make_key("version")) == -1
