"""Fixed-window rate limits per client address and per key (such as an e-mail address).

Counters live in the cache (Redis in production, so every worker shares them). Call
``limit(request, ...)`` inside a view once the key is known, or decorate a view with
``rate_limited(...)``; both answer 429 with templates/429.html and a Retry-After header.
"""

import hashlib
import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import render

logger = logging.getLogger(__name__)

RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Addresses in one IPv6 /64 network usually belong to one subscriber.
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text):
        """Read "5/m", "20/h", "3/10m" or "100/d" (count per window)."""
        match = RATE_PATTERN.match(text)
        if not match or int(match[1]) < 1:
            raise ValueError(f"Not a rate: {text!r} (use forms like '5/m', '3/10m', '100/d').")
        return cls(count=int(match[1]), seconds=int(match[2] or 1) * SECONDS[match[3]])


@dataclass(frozen=True)
class Exceeded:
    """A limit that was passed, and how long until its window ends."""

    scope: str
    per: str
    retry_after: int


def client_ip(request):
    """Return the client's address as allauth sees it, IPv6 cut to its /64 network."""
    from allauth.account.adapter import get_adapter

    try:
        address = get_adapter().get_client_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        # A request that did not come through the proxy the settings describe.
        address = request.META.get("REMOTE_ADDR") or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped:
        # An IPv4 client seen through a dual-stack socket: one address, not one network.
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return str(parsed)


def normalise_key(key):
    """Return the key as counted: trimmed and case-folded, so "A@x.org " equals "a@x.org"."""
    return str(key).strip().casefold()


def hit(*, scope, per, identity, rate, now=None):
    """Count one attempt against a limit; return Exceeded when it is over, else None."""
    rate = Rate.parse(rate) if isinstance(rate, str) else rate
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    # Hashed so that e-mail addresses and IPs are not kept readable in the cache.
    digest = hashlib.sha256(f"{per}:{identity}".encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{per}:{digest}:{rate.seconds}:{window}"
    try:
        count = _count(cache_key, rate)
    except Exception as error:  # any backend error (Redis down): let the request through
        logger.warning("Rate limit %s not counted: cache unavailable (%s).", scope, error)
        return None
    if count <= rate.count:
        return None
    retry_after = max(1, math.ceil((window + 1) * rate.seconds - now))
    return Exceeded(scope=scope, per=per, retry_after=retry_after)


def _count(cache_key, rate):
    # add() only sets a missing key, so every worker counts from the same start.
    cache.add(cache_key, 0, timeout=rate.seconds + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=rate.seconds + 1)
        return 1


def check(request, scope, *, per_ip=None, per_key=None, key=None):
    """Count this request against its limits; return the passed limit with the longest wait."""
    if not getattr(settings, "RATELIMIT_ENABLED", True):
        return None
    exceeded = []
    if per_ip:
        exceeded.append(hit(scope=scope, per="ip", identity=client_ip(request), rate=per_ip))
    if per_key and key:
        exceeded.append(hit(scope=scope, per="key", identity=normalise_key(key), rate=per_key))
    exceeded = [limit for limit in exceeded if limit]
    return max(exceeded, key=lambda limit: limit.retry_after) if exceeded else None


def too_many_requests(request, exceeded):
    """Answer 429 with a page that says how long to wait, and the same in Retry-After."""
    minutes = math.ceil(exceeded.retry_after / 60)
    context = {"retry_after": exceeded.retry_after, "retry_after_minutes": minutes}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(exceeded.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def limit(request, scope, *, per_ip=None, per_key=None, key=None):
    """Return a 429 response when this request passes a limit, or None to carry on.

    ``scope`` names what is limited ("order-create"); ``per_ip`` and ``per_key`` are rates such
    as "10/h"; ``key`` is what ``per_key`` counts by, such as the buyer's e-mail address.
    """
    exceeded = check(request, scope, per_ip=per_ip, per_key=per_key, key=key)
    return too_many_requests(request, exceeded) if exceeded else None


def rate_limited(scope, *, per_ip=None, per_key=None, key=None, methods=("POST",)):
    """Limit a view; ``key`` is a function of the request (for example its POSTed e-mail).

    Only ``methods`` count, so that looking at a form is free and sending it is limited.
    """

    # Parsed now so that a mistyped rate stops start-up rather than a request.
    per_ip = Rate.parse(per_ip) if isinstance(per_ip, str) else per_ip
    per_key = Rate.parse(per_key) if isinstance(per_key, str) else per_key

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                request_key = key(request) if key else None
                response = limit(request, scope, per_ip=per_ip, per_key=per_key, key=request_key)
                if response is not None:
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
