"""The project's URLs plus one page reached by a secret link, for the private-page tests."""

from django.http import HttpResponse
from django.urls import path

from workshop.security import private_page
from workshop.urls import urlpatterns as project_urlpatterns


@private_page
def order_view(request, secret):
    """Answer like an order page reached by a secret link."""
    return HttpResponse(f"order {secret}")


urlpatterns = [path("private/<str:secret>/", order_view), *project_urlpatterns]
