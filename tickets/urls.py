from django.urls import path

from tickets import checkin_views, invoices, link_views, message_views, views, waitlist_views

app_name = "tickets"

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/checkout/", views.checkout, name="checkout"),
    path("tickets/mine/", views.my_tickets, name="my_tickets"),
    path("tickets/mine/claim/", link_views.request_claim_links, name="claim_request"),
    path("tickets/mine/claim/<str:token>/", link_views.claim, name="claim_orders"),
    path("tickets/resend/", views.resend_links, name="resend_links"),
    path("tickets/waiting-list/<int:type_id>/", waitlist_views.join, name="waitlist_join"),
    path(
        "tickets/waiting-list/confirm/<str:token>/",
        waitlist_views.confirm,
        name="waitlist_confirm",
    ),
    path("tickets/waiting-list/offer/<str:token>/", waitlist_views.offer, name="waitlist_offer"),
    path("tickets/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("orders/<str:code>/<str:secret>/", views.order_detail, name="order_detail"),
    path("orders/<str:code>/<str:secret>/cancel/", views.cancel_order, name="order_cancel"),
    path("orders/<str:code>/<str:secret>/new-link/", link_views.new_link, name="order_new_link"),
    path("orders/<str:code>/<str:secret>/invoice/", invoices.invoice_page, name="invoice"),
    path(
        "orders/<str:code>/<str:secret>/invoice.pdf",
        invoices.invoice_page,
        {"pdf": True},
        name="invoice_pdf",
    ),
    path(
        "orders/<str:code>/<str:secret>/documents/<str:number>/",
        invoices.invoice_page,
        name="document",
    ),
    path(
        "orders/<str:code>/<str:secret>/documents/<str:number>.pdf",
        invoices.invoice_page,
        {"pdf": True},
        name="document_pdf",
    ),
    path("tickets/mine/<str:code>/invoice/", invoices.my_invoice, name="my_invoice"),
    path(
        "tickets/mine/<str:code>/invoice.pdf",
        invoices.my_invoice,
        {"pdf": True},
        name="my_invoice_pdf",
    ),
    path(
        "tickets/mine/<str:code>/documents/<str:number>/",
        invoices.my_invoice,
        name="my_document",
    ),
    path(
        "tickets/mine/<str:code>/documents/<str:number>.pdf",
        invoices.my_invoice,
        {"pdf": True},
        name="my_document_pdf",
    ),
    path("organisers/check-in/", checkin_views.search, name="checkin"),
    path("organisers/check-in/<str:code>/", checkin_views.ticket_page, name="checkin_ticket"),
    path("organisers/check-in/<str:code>/check-in/", checkin_views.check_in, name="checkin_do"),
    path("organisers/check-in/<str:code>/undo/", checkin_views.undo, name="checkin_undo"),
    path("organisers/messages/", message_views.message_list, name="message_list"),
    path("organisers/messages/new/", message_views.message_new, name="message_new"),
    path("organisers/messages/<int:pk>/", message_views.message_detail, name="message_detail"),
    path("organisers/messages/<int:pk>/edit/", message_views.message_edit, name="message_edit"),
    path(
        "organisers/messages/<int:pk>/preview/",
        message_views.message_preview,
        name="message_preview",
    ),
    path("organisers/messages/<int:pk>/test/", message_views.message_test, name="message_test"),
    path("organisers/messages/<int:pk>/send/", message_views.message_send, name="message_send"),
    path("organisers/messages/<int:pk>/retry/", message_views.message_retry, name="message_retry"),
]
