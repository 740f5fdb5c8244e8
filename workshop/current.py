from workshop.models import Workshop


def current_workshop(request):
    """Return the workshop the site shows, loaded once per request."""
    if not hasattr(request, "_current_workshop"):
        request._current_workshop = Workshop.objects.current()
    return request._current_workshop
