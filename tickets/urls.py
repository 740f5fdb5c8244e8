from django.urls import path

from workshop.views import coming_soon

app_name = "tickets"

urlpatterns = [
    path(
        "tickets/",
        coming_soon,
        {"title": "Tickets", "description": "Ticket sales open here soon."},
        name="ticket_list",
    ),
]
