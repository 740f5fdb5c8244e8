"""Compress answers with brotli or gzip, never those that carry a secret (BREACH).

BREACH recovers a secret from a compressed page by reflecting guesses into the same page and
watching its size. Compressed are therefore only answers without secrets: public pages and
exports. Never compressed: anything for a signed-in person (their data, the sign-out form's
CSRF token), any page that put a CSRF token in its forms, and pages marked ``private`` or
``no-store`` (order pages reached by their secret link, invitations, the admin).

Stored public pages keep their compressed copies (workshop/cache.py, made once when stored);
``CompressionMiddleware`` compresses the other answers as they go out.
"""

import gzip

import brotli
from django.conf import settings
from django.utils.cache import has_vary_header, patch_vary_headers

# Fast settings: a page is compressed in the request that renders it. Brotli quality 5 and gzip
# level 5 give within about 10 % of their best sizes for a tenth of the time or less; above
# LARGE_BYTES (the big exports) brotli 2 and gzip 1 take a third of that time for 5-15 % more.
BROTLI_QUALITY = 5
GZIP_LEVEL = 5
LARGE_BYTES = 256 * 1024
LARGE_BROTLI_QUALITY = 2
LARGE_GZIP_LEVEL = 1
ENCODINGS = ("br", "gzip")  # in the server's order of preference
MIN_BYTES = 512  # smaller answers fit in a packet either way
COMPRESSIBLE_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "image/svg+xml",
)
CSRF_FIELD = b'name="csrfmiddlewaretoken"'


def is_compressible(content_type, size):
    """Return whether a body of this type and size is worth compressing."""
    return size >= MIN_BYTES and content_type.startswith(COMPRESSIBLE_TYPES)


def compress(content, encoding):
    """Return ``content`` compressed with ``encoding`` ("br" or "gzip")."""
    large = len(content) > LARGE_BYTES
    if encoding == "br":
        return brotli.compress(content, quality=LARGE_BROTLI_QUALITY if large else BROTLI_QUALITY)
    return gzip.compress(content, compresslevel=LARGE_GZIP_LEVEL if large else GZIP_LEVEL, mtime=0)


def choose_encoding(accept_encoding, available=ENCODINGS):
    """Return the best of ``available`` that the Accept-Encoding header allows, or None."""
    weights = {}
    for part in accept_encoding.split(","):
        name, _, parameters = part.partition(";")
        weight = 1.0
        key, _, value = parameters.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    for encoding in ENCODINGS:
        if encoding in available and weights.get(encoding, weights.get("*", 0.0)) > 0:
            return encoding
    return None


def carries_secret(request, response):
    """Return whether the answer may hold a secret that compression would leak."""
    user = getattr(request, "user", None)
    cache_control = response.get("Cache-Control", "")
    return (
        (user is not None and user.is_authenticated)
        or settings.CSRF_COOKIE_NAME in response.cookies  # a CSRF token was put in the page
        or "private" in cache_control
        or "no-store" in cache_control
        or CSRF_FIELD in response.content
    )


class CompressionMiddleware:
    """Compress uncached answers that carry no secret, as GZipMiddleware would the rest.

    Place it after the page cache's middleware (whose stored answers are compressed already)
    and before sessions, CSRF and authentication, so that it sees their cookies and headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.streaming
            or response.has_header("Content-Encoding")
            or has_vary_header(response, "Accept-Encoding")  # chosen already (stored pages)
            or not is_compressible(response.get("Content-Type", ""), len(response.content))
            or carries_secret(request, response)
        ):
            return response
        patch_vary_headers(response, ["Accept-Encoding"])
        encoding = choose_encoding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if encoding is None:
            return response
        response.content = compress(response.content, encoding)
        response["Content-Encoding"] = encoding
        response["Content-Length"] = str(len(response.content))
        etag = response.get("ETag", "")
        if etag.startswith('"'):
            # The bytes differ from the uncompressed answer's; equal meaning is a weak match.
            response["ETag"] = f"W/{etag}"
        return response
