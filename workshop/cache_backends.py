"""Django's Redis cache, made to degrade instead of failing while Redis is down, and cheaper."""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import RedisError

logger = logging.getLogger(__name__)
# While Redis is down every request fails over; one line per this many seconds is enough.
WARN_EVERY_SECONDS = 10


class ReusingRedisCacheClient(RedisCacheClient):
    """Reuse one redis-py client per connection pool instead of making one per operation.

    Django builds a new ``redis.Redis`` for every call, and its constructor fills a table of
    some 170 response callbacks: about 0.2 ms, as much as the rest of a cached page. Clients
    are thread-safe and hold no connection of their own, so one per pool is enough.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FaultTolerantRedisCache(RedisCache):
    """Behave as an empty cache that keeps nothing while Redis cannot be reached, and log it.

    Reads miss and writes are dropped. ``add()`` reports success, so that locks and once-only
    markers built on it (allauth's rate limits, its TOTP replay check) let the request through
    instead of refusing everyone. ``incr()`` still raises: its callers handle that
    (workshop/ratelimit.py). Limits kept in Redis are therefore not enforced during an outage.
    """

    _last_warning = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _unavailable(self, operation, error):
        now = time.monotonic()
        if now - FaultTolerantRedisCache._last_warning >= WARN_EVERY_SECONDS:
            FaultTolerantRedisCache._last_warning = now
            logger.warning(
                "Redis unavailable (%s in %s); carrying on without it.", error, operation
            )

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            self._unavailable("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            self._unavailable("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            self._unavailable("has_key", error)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            self._unavailable("add", error)
            return True

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except RedisError as error:
            self._unavailable("set", error)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            self._unavailable("set_many", error)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            self._unavailable("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            self._unavailable("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except RedisError as error:
            self._unavailable("delete_many", error)
