"""The project's URLs plus one rate-limited form, for the rate-limit tests."""

from django.http import HttpResponse
from django.urls import path

from workshop.ratelimit import rate_limited
from workshop.urls import urlpatterns as project_urlpatterns


@rate_limited(
    "resend-link", per_ip="3/m", per_key="2/h", key=lambda request: request.POST.get("email")
)
def resend_link(request):
    """Answer like a form that e-mails a link again."""
    return HttpResponse("sent" if request.method == "POST" else "form")


urlpatterns = [path("resend/", resend_link), *project_urlpatterns]
