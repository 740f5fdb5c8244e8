from django.urls import path

from workshop.views import coming_soon

app_name = "schedule"

urlpatterns = [
    path(
        "talks/",
        coming_soon,
        {"title": "Talks", "description": "The talks will be announced here soon."},
        name="talk_list",
    ),
    path(
        "schedule/",
        coming_soon,
        {"title": "Schedule", "description": "The programme will be published here soon."},
        name="schedule",
    ),
]
