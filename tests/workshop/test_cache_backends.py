"""The Redis cache used in production misses instead of failing while Redis is down."""

import logging
import uuid

import pytest
from redis import RedisError

from workshop import cache_backends
from workshop.cache_backends import FaultTolerantRedisCache


@pytest.fixture
def down(monkeypatch):
    monkeypatch.setattr(FaultTolerantRedisCache, "_last_warning", 0.0)
    return FaultTolerantRedisCache("redis://127.0.0.1:1/0", {})


def test_reads_miss_and_writes_are_dropped(down):
    assert down.get("k", "fallback") == "fallback"
    assert down.get_many(["a", "b"]) == {}
    assert down.has_key("k") is False
    assert down.set("k", 1) is None
    assert down.set_many({"a": 1}) == ["a"]
    assert down.delete("k") is False
    assert down.touch("k") is False


def test_add_reports_success_so_locks_let_requests_through(down):
    assert down.add("lock", True) is True


def test_incr_still_raises_for_callers_that_handle_it(down):
    with pytest.raises(RedisError):
        down.incr("counter")


def test_outage_is_logged_once_per_interval(down, caplog):
    caplog.set_level(logging.WARNING, logger="workshop.cache_backends")

    down.get("k")
    down.set("k", 1)
    FaultTolerantRedisCache._last_warning -= cache_backends.WARN_EVERY_SECONDS  # time passes
    down.get("k")

    messages = [r.getMessage() for r in caplog.records if r.name == "workshop.cache_backends"]
    assert len(messages) == 2
    assert messages[0].startswith("Redis unavailable (")


def test_working_redis_keeps_values():
    live = FaultTolerantRedisCache("redis://127.0.0.1:6379/0", {"KEY_PREFIX": uuid.uuid4().hex})
    try:
        live.get("probe")
    except RedisError:  # pragma: no cover - only where Redis is not running
        pytest.skip("Needs Redis on 127.0.0.1:6379.")

    live.set("k", {"v": 1}, 30)

    assert live.get("k") == {"v": 1}
    assert live.add("k", "other", 30) is False
    assert live.add("n", 0, 30) is True
    assert live.incr("n") == 1
    live.delete_many(["k", "n"])


def test_one_redis_client_is_reused_for_every_operation():
    backend = FaultTolerantRedisCache("redis://127.0.0.1:1/0", {})

    first = backend._cache.get_client(write=True)
    again = backend._cache.get_client(write=False)

    assert first is again
