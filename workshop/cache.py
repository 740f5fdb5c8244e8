"""Cache rendered public pages and exports, checked against content versions every change bumps.

A version is a random token and the time it was made, kept in Django's cache (Redis with
``REDIS_URL``, so every app server sees the same one). Each app connects its own models in
``<app>/signals.py``: any save, delete or many-to-many change stores a new version, so the next
request on any server finds the stored page out of date and renders it afresh (one stored page
per address and variant, overwritten; nothing needs deleting).

Two scopes keep a ticket rush from emptying the whole cache: ``content`` (workshop, pages,
supporters, speakers, talks, links, rooms, slots) and ``tickets`` (ticket types, vouchers, orders,
tickets: what is left to buy). A page names the scopes it shows.

The cache is an optimisation only: when it fails (Redis down) pages render uncached and a
warning is logged once per request.
"""

import hashlib
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from functools import lru_cache, partial, wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date

from workshop.compression import ENCODINGS, choose_encoding, compress, is_compressible
from workshop.fragments import forget_fragments

logger = logging.getLogger(__name__)

CONTENT = "content"
TICKETS = "tickets"
VERSION_KEY = "public-pages:version:{scope}"
PAGE_KEY = "public-pages:page:{digest}"
# Set for each answer, never replayed from a stored page.
PER_ANSWER_HEADERS = {
    "set-cookie",
    "vary",
    "etag",
    "last-modified",
    "cache-control",
    "expires",
    "content-encoding",
    "content-length",
}
IDENTITY = "identity"
# The headers that make a request conditional (get_conditional_response).
CONDITIONAL_HEADERS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)
# What a stored page answers with; both revalidated on every use (ETag and Last-Modified).
PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE = "private, max-age=0, must-revalidate"


class CacheUnavailable(Exception):
    """The cache answered but keeps nothing (a fault-tolerant backend while Redis is down)."""


def _new_version():
    return (secrets.token_hex(8), time.time())


def _read_versions(keys):
    # With Redis, every request reads the versions: each process keeps copies that Redis
    # pub/sub keeps current (cache_backends.WatchedCopies), so a hit needs no round trip.
    read = getattr(cache, "get_many_watched", cache.get_many)
    return read(keys)


def _store_version(scope):
    try:
        write = getattr(cache, "set_watched", cache.set)
        write(VERSION_KEY.format(scope=scope), _new_version(), timeout=None)
    except Exception:  # any backend error: the cache is an optimisation only
        logger.warning("Could not bump the %s version of cached pages.", scope, exc_info=True)


def bump_content_version(scope=CONTENT):
    """Make every cached page showing ``scope`` stale, now and again once the change commits.

    The first bump serves reads later in the same transaction; the second one makes sure no
    server keeps what it rendered between the first bump and the commit (the old data) under
    the new version.
    """
    _store_version(scope)
    transaction.on_commit(partial(_store_version, scope))


def forget_cached_pages():
    """Make every stored page and kept piece of a page unreachable at once."""
    for scope in (CONTENT, TICKETS):
        _store_version(scope)
    forget_fragments()


def _bump_on_save(sender, scope, **kwargs):
    bump_content_version(scope)


def _bump_on_m2m(sender, scope, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        bump_content_version(scope)


def watch_models(*models, scope=CONTENT):
    """Bump ``scope`` whenever one of ``models`` (or its many-to-many links) changes."""
    for model in models:
        uid = f"public-pages:{model._meta.label}"
        on_save = partial(_bump_on_save, scope=scope)
        post_save.connect(on_save, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(on_save, sender=model, weak=False, dispatch_uid=uid)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            on_m2m = partial(_bump_on_m2m, scope=scope)
            m2m_changed.connect(on_m2m, sender=through, weak=False, dispatch_uid=uid)


def content_versions(scopes):
    """Return the (token, time) of each scope, making a version where none is stored yet."""
    keys = [VERSION_KEY.format(scope=scope) for scope in scopes]
    found = _read_versions(keys)
    if len(found) < len(keys):
        add = getattr(cache, "add_watched", cache.add)
        for key in set(keys) - set(found):
            add(key, _new_version(), timeout=None)
        found = _read_versions(keys)
    if len(found) < len(keys):
        raise CacheUnavailable("the content versions could not be stored")
    return [found[key] for key in keys]


def _warn_once(request, error):
    if not getattr(request, "_page_cache_warned", False):
        request._page_cache_warned = True
        logger.warning(
            "Page cache unavailable (%s: %s); serving %s uncached.",
            type(error).__name__,
            error,
            request.path,
        )


def _may_serve_cached(request):
    """Return whether this request may get, and fill, the shared copy of a page."""
    if request.method not in {"GET", "HEAD"}:
        return False
    # The header shows a signed-in person's name; messages belong to one visitor.
    return not request.user.is_authenticated and not len(get_messages(request))


def _may_store(request, response):
    """Return whether a rendered answer is the same for every anonymous visitor."""
    session = getattr(request, "session", None)
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # a CSRF token was used
        and not (session is not None and session.modified)
        and not len(get_messages(request))  # shown, or added for the next page
        and "private" not in cache_control
        and "no-store" not in cache_control
    )


def _page_key(request, variant):
    # The absolute address covers scheme and host (get_host refuses hosts not allowed); the
    # variant covers the session's choices. build_absolute_uri would also turn an IRI into a
    # URI: not needed for a key, and a tenth of a hit's time.
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    text = f"{address}|{variant}"
    return PAGE_KEY.format(digest=hashlib.sha256(text.encode()).hexdigest())


def _tokens(versions):
    return [token for token, _made in versions]


def _entry_of(response, scopes, versions, seconds, *, stored):
    """Return what is kept of a rendered page: its bodies and headers.

    A stored page lists the encodings it may be sent in; each compressed copy is made once, when
    a client first takes that encoding (``_answer``), so the request that renders a page after a
    change compresses it once, not once per encoding. A page that is not stored is left to
    CompressionMiddleware, which compresses only the encoding the client takes.
    """
    headers = [(k, v) for k, v in response.items() if k.lower() not in PER_ANSWER_HEADERS]
    content = response.content
    compressible = stored and is_compressible(response.get("Content-Type", ""), len(content))
    return {
        "expires": time.time() + seconds,
        "scopes": list(scopes),
        "tokens": _tokens(versions),
        "bodies": {IDENTITY: content},
        "encodings": ENCODINGS if compressible else (),
        "headers": headers,
        "digest": hashlib.sha256(content).hexdigest()[:40],
        "last_modified": int(max(made for _token, made in versions)) if versions else None,
    }


def _etag(entry, encoding):
    # Each encoding is another representation with bytes of its own, so another strong ETag.
    suffix = "" if encoding == IDENTITY else f"-{encoding}"
    return f'"{entry["digest"]}{suffix}"'


def _answer(request, entry, *, key, varies_on_session, rendered=None):
    """Answer with a page in the best encoding the client accepts, and its validators.

    304 when the client's copy of that encoding is current. ``rendered`` is the view's own
    response when the page was just rendered; otherwise the answer is rebuilt from ``entry``.
    """
    accepted = request.META.get("HTTP_ACCEPT_ENCODING", "")
    encodings = entry.get("encodings", [name for name in entry["bodies"] if name != IDENTITY])
    encoding = choose_encoding(accepted, encodings) or IDENTITY
    etag = _etag(entry, encoding)
    response = None
    if any(header in request.META for header in CONDITIONAL_HEADERS):
        last_modified = entry["last_modified"]
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = rendered or _response_of(entry)
        response.content = _body(entry, encoding, key)
        if encoding != IDENTITY:
            response["Content-Encoding"] = encoding
    # Shared caches may keep a page only when it does not depend on the visitor's session.
    session = getattr(request, "session", None)
    private = varies_on_session and session is not None and session.session_key is not None
    if rendered is None:  # rebuilt from the entry, whose headers hold none of these
        response["Vary"] = "Accept-Encoding, Cookie" if encodings else "Cookie"
        response["Cache-Control"] = PRIVATE if private else PUBLIC
    else:
        if encodings:
            patch_vary_headers(response, ["Accept-Encoding"])
        visibility = {"private": True} if private else {"public": True}
        patch_cache_control(response, **visibility, max_age=0, must_revalidate=True)
        # Answers differ by cookie (session, messages) even when this one did not.
        patch_vary_headers(response, ["Cookie"])
    response["ETag"] = etag
    if entry["last_modified"] is not None:
        response["Last-Modified"] = _http_date(entry["last_modified"])
    return response


@lru_cache(maxsize=64)
def _http_date(timestamp):
    return http_date(timestamp)


def _body(entry, encoding, key):
    """Return the page's body in ``encoding``, compressing and storing it on its first use.

    The entry is copied, not changed, since other threads may be reading it. Another worker may
    store the same copy meanwhile, or a newer page at ``key``; either way a later request finds
    a page current for its versions, or renders it afresh.
    """
    bodies = entry["bodies"]
    if encoding in bodies:
        return bodies[encoding]
    body = compress(bodies[IDENTITY], encoding)
    if key is None:  # being stored by the caller, with this copy
        bodies[encoding] = body
        return body
    try:
        updated = entry | {"bodies": bodies | {encoding: body}}
        cache.set(key, updated, timeout=max(1, int(entry["expires"] - time.time())))
        local_pages.put(key, updated)
    except Exception:  # kept the next time; the answer is right either way
        logger.warning("Could not store a compressed copy of a page.", exc_info=True)
    return body


def _response_of(entry):
    response = HttpResponse()
    for name, value in entry["headers"]:
        response[name] = value
    return response


def _never_cached(response):
    if "Cache-Control" not in response:
        add_never_cache_headers(response)
    return response


def _stored_page(request, scopes, variant, seconds):
    """Return (key, versions, current stored entry or None); (None, [], None) if the cache fails."""
    try:
        key = _page_key(request, variant)
        versions = content_versions(scopes)
        entry = _current_page(key, dict(zip(scopes, versions, strict=True))) if seconds else None
    except Exception as error:  # any backend error: render uncached
        _warn_once(request, error)
        return None, [], None
    return key, versions, entry


def _current_page(key, versions_by_scope):
    """Return the page stored at ``key`` if rendered under the current versions and not expired.

    This process's copy is used when it is current, so that a hit reads only the versions
    from Redis (a few bytes) rather than the page (up to a megabyte for the exports).
    """
    now = time.time()
    entry = local_pages.get(key)
    if entry is None or not _is_current(entry, versions_by_scope, now):
        entry = cache.get(key)
        if entry is None or not _is_current(entry, versions_by_scope, now):
            return None
        local_pages.put(key, entry)
    return entry


def _is_current(entry, versions_by_scope, now):
    current = [versions_by_scope.get(scope) for scope in entry["scopes"]]
    return (
        None not in current
        and entry["tokens"] == _tokens(current)
        and entry.get("expires", 0) > now
    )


class LocalPages:
    """The most recently used stored pages of this process, up to ``max_bytes`` of content."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._pages = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._pages.get(key)
            if entry is not None:
                self._pages.move_to_end(key)
            return entry

    def put(self, key, entry):
        size = _size(entry)
        with self._lock:
            if key in self._pages:
                self._bytes -= _size(self._pages.pop(key))
            if size > self.max_bytes // 4:  # one page must not push out all the others
                return
            self._pages[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                _key, oldest = self._pages.popitem(last=False)
                self._bytes -= _size(oldest)

    def clear(self):
        with self._lock:
            self._pages.clear()
            self._bytes = 0


def _size(entry):
    return sum(len(body) for body in entry["bodies"].values())


local_pages = LocalPages(max_bytes=settings.PUBLIC_PAGE_LOCAL_MB * 2**20)


def _render(view, request, args, kwargs):
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        # Rendering is what uses CSRF tokens and messages: judge the answer after it.
        response.render()
    return response


def store_page_until(response, when):
    """Let no stored copy of ``response`` outlive ``when`` (an aware datetime; None: no bound).

    For what a page shows because of the clock alone, known only once it is rendered: what is
    on now changes when the next slot starts or ends.
    """
    if when is not None:
        response.store_until = when.timestamp()


def _seconds_to_keep(response, seconds):
    until = getattr(response, "store_until", None)
    if until is None:
        return seconds
    return max(0, min(seconds, math.floor(until - time.time())))


def cache_public_page(*, scopes=(CONTENT,), vary=None, timeout=None):
    """Serve a public GET view from the shared cache, with ETag, Last-Modified and 304.

    ``scopes``: the content versions the page shows; ``vary``: a function of the request
    returning what else the page depends on (such as the visitor's chosen time zone, kept in
    the session); ``timeout``: seconds a copy may live, bounding what depends on the clock
    alone (what is on now, a sale window opening); a view that knows the moment only once it
    has rendered bounds its answer with ``store_page_until``. Signed-in visitors, visitors
    with messages, answers that set cookies or use CSRF, and anything but 200 are never stored.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not _may_serve_cached(request):
                return _never_cached(view(request, *args, **kwargs))
            seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
            seconds = seconds if timeout is None else min(timeout, seconds)
            variant = vary(request) if vary else ""
            key, versions, entry = _stored_page(request, scopes, variant, seconds)
            if entry is not None:
                return _answer(request, entry, key=key, varies_on_session=vary is not None)
            response = _render(view, request, args, kwargs)
            if not _may_store(request, response):
                return _never_cached(response)
            seconds = _seconds_to_keep(response, seconds)
            stored = key is not None and bool(seconds)
            entry = _entry_of(response, scopes, versions, seconds, stored=stored)
            # Answered before it is stored, so that the copy this client takes is stored with it.
            answer = _answer(
                request, entry, key=None, varies_on_session=vary is not None, rendered=response
            )
            if stored:
                try:
                    cache.set(key, entry, timeout=seconds)
                    local_pages.put(key, entry)
                except Exception as error:
                    _warn_once(request, error)
            return answer

        wrapper.caches_public_page = True
        return wrapper

    return decorator


class PublicPageMiddleware:
    """Answer cookie-less GETs of stored public pages before the rest of the middleware runs.

    Without a session or messages cookie a visitor is anonymous, has no messages and no session
    choices, so the stored page is theirs; skipping sessions, CSRF, authentication and the view
    is what makes a cached page nearly as cheap as a bare view. Place it after the middleware
    whose headers every answer needs (security, CSP, static files). Everything else, including
    every miss, goes on to the view's ``cache_public_page``.
    """

    # The headers the skipped middleware would add to such an answer (kept equal by a test).
    _frame_options = XFrameOptionsMiddleware(lambda request: None)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key, entry = self._stored(request)
        if entry is None:
            return self._private_when_signed_in(request, self.get_response(request))
        response = _answer(request, entry, key=key, varies_on_session=False)
        response = self._frame_options.process_response(request, response)
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    def _private_when_signed_in(self, request, response):
        # Pages for a signed-in person (account, profile, the admin) stay out of every cache.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

    def _stored(self, request):
        if request.method not in {"GET", "HEAD"} or not settings.PUBLIC_PAGE_CACHE_SECONDS:
            return None, None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
            return None, None
        try:
            key = _page_key(request, "")
        except DisallowedHost:  # answered 400 further on
            return None, None
        version_keys = {scope: VERSION_KEY.format(scope=scope) for scope in (CONTENT, TICKETS)}
        try:
            found = _read_versions(list(version_keys.values()))
            versions = {scope: found[k] for scope, k in version_keys.items() if k in found}
            return key, _current_page(key, versions)
        except Exception as error:  # any backend error: leave it to the view, uncached
            _warn_once(request, error)
            return None, None
