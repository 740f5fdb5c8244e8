from django.urls import path

from schedule import views

app_name = "schedule"

urlpatterns = [
    path("talks/", views.talk_list, name="talk_list"),
    path("talks/<slug:slug>/", views.talk_detail, name="talk_detail"),
    path("talks/<slug:slug>/edit/", views.talk_edit, name="talk_edit"),
    path("talks/<slug:slug>.ics", views.talk_ics, name="talk_ics"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule.ics", views.schedule_ics, name="schedule_ics"),
    path("schedule.xml", views.schedule_xml, name="schedule_xml"),
    path("schedule.json", views.schedule_json, name="schedule_json"),
    # The addresses that tools guess from pretalx.
    path("schedule/export/schedule.ics", views.schedule_ics, name="pretalx_ics"),
    path("schedule/export/schedule.xml", views.schedule_xml, name="pretalx_xml"),
    path("schedule/export/schedule.json", views.schedule_json, name="pretalx_json"),
]
