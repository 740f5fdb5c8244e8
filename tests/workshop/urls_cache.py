"""A public page that uses CSRF, to prove such pages are never stored in the page cache."""

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

from workshop.cache import cache_public_page
from workshop.urls import urlpatterns as project_urlpatterns

renders = []


@cache_public_page()
def form_page(request):
    renders.append(request.path)
    return HttpResponse(f'<form method="post"><input name="t" value="{get_token(request)}"></form>')


@cache_public_page()
def plain_page(request):
    renders.append(request.path)
    return HttpResponse("plain")


urlpatterns = [
    path("cache-test/form/", form_page),
    path("cache-test/plain/", plain_page),
    *project_urlpatterns,
]
