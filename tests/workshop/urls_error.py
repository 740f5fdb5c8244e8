from django.urls import path

from workshop.urls import urlpatterns as site_patterns


def boom(request):
    return 1 / 0


urlpatterns = [path("boom/", boom), *site_patterns]
