"""A bare Django view that returns a fixed string: the ceiling the site's pages are compared to.

Served by gunicorn with the same options as the site (``bench.bare_wsgi:application``); no
apps, no middleware, no database, no templates. Production code is untouched.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-bare-view-key-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    USE_TZ=True,
)


def hello(request):
    """Answer every request with the same few bytes."""
    return HttpResponse("Hello from a bare Django view.\n", content_type="text/plain")


urlpatterns = [path("", hello)]

application = get_wsgi_application()
