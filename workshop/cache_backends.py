"""A Redis cache on redis-py's public API that carries on without Redis while it is down.

Django's own Redis backend builds a new ``redis.Redis`` for every operation (its constructor
fills a table of some 170 response callbacks: about 0.2 ms, as much as the rest of a cached
page) and raises while Redis is down. This one keeps one thread-safe client per process on one
connection pool and behaves as an empty cache during an outage. It is written against Django's
documented cache backend API (``BaseCache``) and redis-py's documented client, so neither
release can break it by renaming an internal.
"""

import logging
import pickle
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)
# While Redis is down every request fails over; one line per this many seconds is enough.
WARN_EVERY_SECONDS = 10


def dumps(value):
    """Return ``value`` as Redis stores it: integers as numbers (so INCR works), else pickled."""
    if type(value) is int:
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def loads(data):
    """Return the value stored as ``data`` by ``dumps`` (or by Django's own Redis cache)."""
    try:
        return int(data)
    except ValueError:
        return pickle.loads(data)


class FaultTolerantRedisCache(BaseCache):
    """Behave as an empty cache that keeps nothing while Redis cannot be reached, and log it.

    Reads miss and writes are dropped. ``add()`` reports success, so that locks and once-only
    markers built on it (allauth's rate limits, its TOTP replay check) let the request through
    instead of refusing everyone. ``incr()`` still raises: its callers handle that
    (workshop/ratelimit.py). Limits kept in Redis are therefore not enforced during an outage.
    ``OPTIONS`` go to redis-py's ``ConnectionPool.from_url`` (such as ``socket_timeout``).
    """

    last_warning = 0.0

    def __init__(self, server, params):
        super().__init__(params)
        if not isinstance(server, str) or "," in server:
            raise ImproperlyConfigured("The Redis cache's LOCATION must be one redis:// URL.")
        pool = redis.ConnectionPool.from_url(server, **params.get("OPTIONS", {}))
        self.client = redis.Redis(connection_pool=pool)

    def unavailable(self, operation, error):
        """Log that Redis failed, at most once per WARN_EVERY_SECONDS in this process."""
        now = time.monotonic()
        if now - FaultTolerantRedisCache.last_warning >= WARN_EVERY_SECONDS:
            FaultTolerantRedisCache.last_warning = now
            logger.warning(
                "Redis unavailable (%s in %s); carrying on without it.", error, operation
            )

    def get_backend_timeout(self, timeout=DEFAULT_TIMEOUT):
        if timeout == DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        # Redis wants whole seconds; None keeps the key for ever.
        return None if timeout is None else max(0, int(timeout))

    def key(self, key, version):
        return self.make_and_validate_key(key, version=version)

    def get(self, key, default=None, version=None):
        try:
            data = self.client.get(self.key(key, version))
        except redis.RedisError as error:
            self.unavailable("get", error)
            return default
        return default if data is None else loads(data)

    def get_many(self, keys, version=None):
        keys = list(keys)
        if not keys:
            return {}
        try:
            values = self.client.mget([self.key(key, version) for key in keys])
        except redis.RedisError as error:
            self.unavailable("get_many", error)
            return {}
        return {
            key: loads(data) for key, data in zip(keys, values, strict=True) if data is not None
        }

    def has_key(self, key, version=None):
        try:
            return bool(self.client.exists(self.key(key, version)))
        except redis.RedisError as error:
            self.unavailable("has_key", error)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key, seconds = self.key(key, version), self.get_backend_timeout(timeout)
        try:
            if seconds == 0:  # Django's contract: added, then expired at once
                added = bool(self.client.set(key, dumps(value), nx=True))
                if added:
                    self.client.delete(key)
                return added
            return bool(self.client.set(key, dumps(value), ex=seconds, nx=True))
        except redis.RedisError as error:
            self.unavailable("add", error)
            return True

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key, seconds = self.key(key, version), self.get_backend_timeout(timeout)
        try:
            if seconds == 0:
                self.client.delete(key)
            else:
                self.client.set(key, dumps(value), ex=seconds)
        except redis.RedisError as error:
            self.unavailable("set", error)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if not data:
            return []
        seconds = self.get_backend_timeout(timeout)
        try:
            with self.client.pipeline() as pipe:
                for key, value in data.items():
                    if seconds == 0:
                        pipe.delete(self.key(key, version))
                    else:
                        pipe.set(self.key(key, version), dumps(value), ex=seconds)
                pipe.execute()
        except redis.RedisError as error:
            self.unavailable("set_many", error)
            return list(data)
        return []

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key, seconds = self.key(key, version), self.get_backend_timeout(timeout)
        try:
            if seconds is None:
                return bool(self.client.persist(key))
            return bool(self.client.expire(key, seconds))
        except redis.RedisError as error:
            self.unavailable("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return bool(self.client.delete(self.key(key, version)))
        except redis.RedisError as error:
            self.unavailable("delete", error)
            return False

    def delete_many(self, keys, version=None):
        keys = [self.key(key, version) for key in keys]
        if not keys:
            return
        try:
            self.client.delete(*keys)
        except redis.RedisError as error:
            self.unavailable("delete_many", error)

    def incr(self, key, delta=1, version=None):
        """Add ``delta`` to a stored number; raise ValueError when missing, RedisError when down."""
        key = self.key(key, version)
        if not self.client.exists(key):
            raise ValueError(f"Key '{key}' not found.")
        return self.client.incr(key, delta)

    def clear(self):
        """Empty the Redis database this cache uses."""
        try:
            self.client.flushdb()
        except redis.RedisError as error:
            self.unavailable("clear", error)
