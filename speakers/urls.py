from django.urls import path

from workshop.views import coming_soon

app_name = "speakers"

speakers_soon = {"title": "Speakers", "description": "The speakers will be announced here soon."}

urlpatterns = [
    path("speakers/", coming_soon, speakers_soon, name="list"),
    # The seed site linked to /speaker/; keep that address working.
    path("speaker/", coming_soon, speakers_soon, name="list_legacy"),
    path("speakers/<slug:slug>/", coming_soon, speakers_soon, name="detail"),
]
