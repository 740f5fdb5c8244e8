from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/checkout/", views.checkout, name="checkout"),
    path("tickets/mine/", views.my_tickets, name="my_tickets"),
    path("tickets/resend/", views.resend_links, name="resend_links"),
    path("tickets/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("orders/<str:code>/<str:secret>/", views.order_detail, name="order_detail"),
]
