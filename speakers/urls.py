from django.urls import path

from speakers import views

app_name = "speakers"

urlpatterns = [
    path("speakers/", views.SpeakerListView.as_view(), name="list"),
    # The seed site linked to /speaker/; keep it working (its canonical link is /speakers/).
    path("speaker/", views.SpeakerListView.as_view(), name="list_legacy"),
    path("speakers/me/", views.my_profile, name="my_profile"),
    path("speakers/invitation/", views.invitation_pending, name="invitation_pending"),
    path("speakers/invitation/<str:token>/", views.invitation, name="invitation"),
    path("speakers/<slug:slug>/", views.SpeakerDetailView.as_view(), name="detail"),
    path("speakers/<slug:slug>/edit/", views.edit_by_slug, name="edit"),
]
