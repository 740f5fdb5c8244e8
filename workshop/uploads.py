"""Refuse oversized uploads while they are received, before the whole file is read.

``UploadLimitMiddleware`` runs before the CSRF check (which reads the body) and gives every
multipart POST an upload handler that stops at ``UPLOAD_MAX_BYTES``; the request is then
answered 413 with templates/413.html. A view that reports oversized files itself (next to
its form field) opts out with ``handles_own_upload_limit``.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render


def handles_own_upload_limit(view):
    """Mark a view that installs its own upload handler, so the middleware leaves it alone."""
    view.handles_own_upload_limit = True
    return view


class TotalSizeLimitHandler(FileUploadHandler):
    """Stop reading the request once its files together pass ``limit`` bytes."""

    def __init__(self, request=None, *, limit):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # Not reading the rest of the body is the point: the client gets 413 at once.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def too_large(request):
    """Answer 413 with a page that names the limit."""
    megabytes = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
    context = {"limit_megabytes": f"{megabytes:g}"}
    response = render(request, "413.html", context, status=413)
    response["Cache-Control"] = "no-store"
    return response


def declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class UploadLimitMiddleware:
    """Refuse a multipart request whose files are over UPLOAD_MAX_BYTES with 413."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.content_type != "multipart/form-data":
            return None
        if getattr(view_func, "handles_own_upload_limit", False):
            return None
        limit = settings.UPLOAD_MAX_BYTES
        # Files plus the form's other fields, which Django limits on its own.
        if declared_length(request) > limit + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large(request)
        handler = TotalSizeLimitHandler(request, limit=limit)
        request.upload_handlers.insert(0, handler)
        try:
            request.POST  # noqa: B018 - parse now, under the limit
        except (MultiPartParserError, OSError):
            # A broken body: the view and the CSRF check answer it as before.
            return None
        return too_large(request) if handler.exceeded else None
