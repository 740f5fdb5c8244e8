from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from workshop import email_views, organisers, privacy, views

workshop_patterns = [
    path("", views.home, name="home"),
    path("workshop.ics", views.ics, name="ics"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", views.sitemap_xml, name="sitemap"),
    # Pages are matched last so that every app's own URLs win.
    path("<slug:slug>/", views.page_detail, name="page"),
]

privacy_patterns = [
    path("", privacy.data_overview, name="data"),
    path("export/", privacy.data_export, name="data_export"),
    path("delete/", privacy.data_delete, name="data_delete"),
]

organiser_patterns = [
    path("", organisers.dashboard, name="dashboard"),
    path("emails/failed/", email_views.failed_emails, name="failed_emails"),
    path("emails/retry/", email_views.retry_emails, name="retry_emails"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("organisers/", include((organiser_patterns, "organisers"))),
    path("accounts/data/", include((privacy_patterns, "privacy"))),
    path("accounts/", include("allauth.urls")),
    path("", include("speakers.urls")),
    path("", include("schedule.urls")),
    path("", include("tickets.urls")),
    path("", include((workshop_patterns, "workshop"))),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
