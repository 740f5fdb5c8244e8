"""A Redis cache on redis-py's public API that carries on without Redis while it is down.

Django's own Redis backend builds a new ``redis.Redis`` for every operation (its constructor
fills a table of some 170 response callbacks: about 0.2 ms, as much as the rest of a cached
page) and raises while Redis is down. This one keeps one thread-safe client per process on one
connection pool and behaves as an empty cache during an outage. It is written against Django's
documented cache backend API (``BaseCache``) and redis-py's documented client, so neither
release can break it by renaming an internal.

A few keys that every request reads and that rarely change (the content versions of the page
cache) can be kept in each process as well, current through Redis pub/sub: ``WatchedCopies``.
"""

import logging
import os
import pickle
import threading
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)
# While Redis is down every request fails over; one line per this many seconds is enough.
WARN_EVERY_SECONDS = 10
# A process reads its copy of a watched key from Redis again once it is this old, whatever it
# heard: the bound on how stale a copy can be should the subscription die without a word (a
# network that drops packets instead of closing the connection).
WATCHED_MAX_AGE_SECONDS = 1.0
# After the subscription fails it is tried again at most this often; reads go to Redis meanwhile.
RESUBSCRIBE_EVERY_SECONDS = 5.0
# What a change to every watched key is announced as (after clear()).
EVERYTHING = b"*"
FAILED = object()  # a write Redis did not take


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


class WatchedCopies:
    """This process's copies of a few keys that every request reads and that rarely change.

    Every write of a watched key publishes the key's name on a channel, in the same round trip,
    right after the write (``FaultTolerantRedisCache.set_watched``). Each process subscribes to that
    channel and, before every read, takes the news its subscription brought (a poll of the
    socket that does not wait) and drops the copies that changed. A read of keys it holds
    current therefore costs no round trip to Redis, and a change is seen by the next read in
    every process: Redis has sent the news to each subscriber before the writer hears that its
    write is done.

    When the subscription fails, or is renewed (redis-py reconnects after Redis restarted, and
    news may have been lost meanwhile), every copy is dropped and reads go to Redis until the
    subscription is back. A copy older than WATCHED_MAX_AGE_SECONDS is read again in any case.
    """

    def __init__(self, client, channel):
        self.client = client
        self.channel = channel
        self.copies = {}  # key -> (stored bytes, when read)
        self.pubsub = None
        self.reconnected = False
        self.pid = None
        self.next_attempt = 0.0
        self.lock = threading.Lock()  # one reader at a time per process: copies and socket

    def get_many(self, keys):
        """Return the stored bytes of ``keys`` (None where missing); raise RedisError if down."""
        with self.lock:
            now = time.monotonic()
            listening = self._take_news(now)
            if listening:
                copies = [self.copies.get(key) for key in keys]
                if all(
                    copy is not None and now - copy[1] < WATCHED_MAX_AGE_SECONDS for copy in copies
                ):
                    return [data for data, _read in copies]
            values = self.client.mget(keys)
            if listening:  # missing keys too: adding one is news as well (add_watched)
                for key, data in zip(keys, values, strict=True):
                    self.copies[key] = (data, now)
            return values

    def forget(self, key=None):
        """Drop this process's copy of ``key`` (None: of every key), as news of it would."""
        with self.lock:
            if key is None:
                self.copies.clear()
            else:
                self.copies.pop(key, None)

    def _take_news(self, now):
        """Apply what the subscription heard; return whether copies may be used."""
        if self.pid != os.getpid():  # a forked child does not share its parent's subscription
            self.pid, self.pubsub, self.copies = os.getpid(), None, {}
        if self.pubsub is None:
            return self._subscribe(now)
        try:
            while (message := self.pubsub.get_message(timeout=0)) is not None:
                if message["type"] == "message" and message["data"] != EVERYTHING:
                    self.copies.pop(message["data"].decode(), None)
                else:  # everything changed, or subscribed again after news may have been lost
                    self.copies.clear()
        except (redis.RedisError, OSError) as error:
            logger.warning("Lost the subscription to changes of %s (%s).", self.channel, error)
            self._unsubscribe()
            return False
        if self.reconnected:  # redis-py connected again while polling: news may be lost
            self.reconnected = False
            self.copies.clear()
        return True

    def _on_connect(self, connection):
        self.reconnected = True

    def _subscribe(self, now):
        if now < self.next_attempt:
            return False
        self.next_attempt = now + RESUBSCRIBE_EVERY_SECONDS
        pubsub = self.client.pubsub()
        try:
            pubsub.subscribe(self.channel)
            confirmed = pubsub.get_message(timeout=1)
        except (redis.RedisError, OSError):
            confirmed = None
        if not confirmed or confirmed["type"] != "subscribe":
            pubsub.close()
            return False
        # Only what is read from now on is kept: earlier changes may have gone unheard.
        self.pubsub, self.copies, self.reconnected = pubsub, {}, False
        pubsub.connection.register_connect_callback(self._on_connect)
        return True

    def _unsubscribe(self):
        pubsub, self.pubsub, self.copies = self.pubsub, None, {}
        try:
            pubsub.close()
        except (redis.RedisError, OSError):
            pass


_shared_copies = {}
_shared_copies_lock = threading.Lock()


def shared_copies(server, options, channel):
    """Return this process's ``WatchedCopies`` of ``channel`` on ``server``, made on first use.

    Django makes a cache backend for each thread; the copies, their subscription and their lock
    belong to the process, shared by every thread's backend.
    """
    with _shared_copies_lock:
        copies = _shared_copies.get((server, channel))
        if copies is None:
            client = redis.Redis.from_url(server, **options)
            copies = _shared_copies[(server, channel)] = WatchedCopies(client, channel)
        return copies


class FaultTolerantRedisCache(BaseCache):
    """Behave as an empty cache that keeps nothing while Redis cannot be reached, and log it.

    Reads miss and writes are dropped. ``add()`` reports success, so that locks and once-only
    markers built on it (allauth's rate limits, its TOTP replay check) let the request through
    instead of refusing everyone. ``incr()`` still raises: its callers handle that
    (workshop/ratelimit.py). Limits kept in Redis are therefore not enforced during an outage.
    ``OPTIONS`` go to redis-py's ``ConnectionPool.from_url`` (such as ``socket_timeout``).

    Keys written with ``set_watched`` may be read with ``get_many_watched``, from this process's
    copies kept current by Redis pub/sub (``WatchedCopies``): for what every request reads.
    """

    last_warning = 0.0

    def __init__(self, server, params):
        super().__init__(params)
        if not isinstance(server, str) or "," in server:
            raise ImproperlyConfigured("The Redis cache's LOCATION must be one redis:// URL.")
        pool = redis.ConnectionPool.from_url(server, **params.get("OPTIONS", {}))
        self.client = redis.Redis(connection_pool=pool)
        channel = self.make_key("watched-keys:changed")
        self.watched = shared_copies(server, params.get("OPTIONS", {}), channel)
        self.watched_keys = {}

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

    def watched_key(self, key, version):
        # Read on every request: made and checked once.
        made = self.watched_keys.get((key, version))
        if made is None:
            made = self.watched_keys[(key, version)] = self.key(key, version)
        return made

    def get(self, key, default=None, version=None):
        try:
            data = self.client.get(self.key(key, version))
        except redis.RedisError as error:
            self.unavailable("get", error)
            return default
        return default if data is None else loads(data)

    def get_many(self, keys, version=None):
        return self._read_many("get_many", self.client.mget, keys, self.key, version)

    def get_many_watched(self, keys, version=None):
        """Return ``get_many(keys)``, from this process's copies where they are current."""
        read = self.watched.get_many
        return self._read_many("get_many_watched", read, keys, self.watched_key, version)

    def _read_many(self, operation, read, keys, make_key, version):
        keys = list(keys)
        if not keys:
            return {}
        try:
            values = read([make_key(key, version) for key in keys])
        except redis.RedisError as error:
            self.unavailable(operation, error)
            return {}
        return {
            key: loads(data) for key, data in zip(keys, values, strict=True) if data is not None
        }

    def set_watched(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Store ``value`` as ``set`` does and tell every process that ``key`` changed."""
        key, seconds = self.key(key, version), self.get_backend_timeout(timeout)
        if seconds == 0:
            self._write_and_announce("set_watched", key, lambda pipe: pipe.delete(key))
        else:
            write = lambda pipe: pipe.set(key, dumps(value), ex=seconds)  # noqa: E731
            self._write_and_announce("set_watched", key, write)

    def add_watched(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Store ``value`` as ``add`` does and tell every process that ``key`` may have changed."""
        seconds = self.get_backend_timeout(timeout)
        if seconds == 0:  # added and gone at once: nothing to tell
            return self.add(key, value, timeout, version)
        key = self.key(key, version)
        write = lambda pipe: pipe.set(key, dumps(value), ex=seconds, nx=True)  # noqa: E731
        added = self._write_and_announce("add_watched", key, write)
        return True if added is FAILED else bool(added)  # as add() while Redis is down

    def _write_and_announce(self, operation, key, write):
        """Run ``write(pipeline)``, then publish ``key`` as changed; return the write's reply.

        One round trip, not a transaction: a Redis that refuses the PUBLISH (an ACL without the
        channel) still takes the write, and other processes read it again within
        WATCHED_MAX_AGE_SECONDS. FAILED when the write failed.
        """
        written = FAILED
        try:
            with self.client.pipeline(transaction=False) as pipe:
                write(pipe)
                pipe.publish(self.watched.channel, key)
                written, announced = pipe.execute(raise_on_error=False)
        except redis.RedisError as error:
            self.unavailable(operation, error)
        else:
            if isinstance(written, Exception):
                self.unavailable(operation, written)
                written = FAILED
            elif isinstance(announced, Exception):
                self.unavailable(f"{operation}, announcing the change", announced)
        # This process need not wait for its own news.
        self.watched.forget(key)
        return written

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
            self.client.publish(self.watched.channel, EVERYTHING)
        except redis.RedisError as error:
            self.unavailable("clear", error)
        self.watched.forget()
