import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from tests.factories import (
    OrderFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    VoucherFactory,
)
from tests.tickets.test_stripe import checkout_data
from tickets.models import Order, TicketType, Voucher

pytestmark = pytest.mark.django_db


def html_of(response):
    return response.content.decode()


def test_ticket_list_shows_availability(client, workshop, standin):
    small = TicketTypeFactory(workshop=workshop, name="Small", capacity=3, position=1)
    TicketFactory(ticket_type=small, order=OrderFactory(workshop=workshop))
    full = TicketTypeFactory(workshop=workshop, name="Full", capacity=1, position=2)
    TicketFactory(ticket_type=full, order=OrderFactory(workshop=workshop))
    TicketTypeFactory(
        workshop=workshop,
        name="Later",
        position=3,
        sale_starts_at=dt.datetime(2030, 3, 1, 10, 0, tzinfo=dt.UTC),
    )
    TicketTypeFactory(workshop=workshop, name="Secret", visible=False)

    html = html_of(client.get("/tickets/"))

    assert "<h1>Tickets</h1>" in html
    assert '<p class="ticket-availability">2 left</p>' in html
    assert '<p class="ticket-availability sold-out">Sold out</p>' in html
    assert "Sales open on 1 March 2030, 10:00 UTC." in html
    assert "Secret" not in html
    assert f'<select name="qty_{small.id}" id="id_qty_{small.id}">' in html
    assert f'name="qty_{full.id}"' not in html


def test_ticket_list_voucher_unlocks_hidden_type(client, workshop):
    hidden = TicketTypeFactory(workshop=workshop, name="Speaker ticket", visible=False)
    VoucherFactory(workshop=workshop, code="SPEAKER").ticket_types.set([hidden])

    html = html_of(client.get("/tickets/?voucher=speaker"))

    assert "Speaker ticket" in html
    assert "Voucher SPEAKER applied." in html
    assert '<input type="hidden" name="voucher" value="SPEAKER">' in html


def test_ticket_list_invalid_voucher_message(client, workshop):
    html = html_of(client.get("/tickets/?voucher=nope"))

    assert "This voucher code is not valid." in html


@pytest.mark.parametrize("size", [1, 12])
def test_ticket_list_query_count_constant(client, workshop, django_assert_num_queries, size):
    for _ in range(size):
        ticket_type = TicketTypeFactory(workshop=workshop, capacity=50)
        TicketFactory.create_batch(
            2, ticket_type=ticket_type, order=OrderFactory(workshop=workshop)
        )

    with django_assert_num_queries(3):
        response = client.get("/tickets/")

    assert html_of(response).count("48 left") == size


def test_checkout_form_asks_for_each_attendee(client, workshop, paid_type, standin):
    html = html_of(client.get(f"/tickets/checkout/?qty_{paid_type.id}=2"))

    assert '<label for="id_attendee_2_email">Attendee 2: e-mail address:</label>' in html
    assert 'href="/code-of-conduct/"' in html and 'href="/privacy/"' in html
    assert "50.00 EUR" in html
    assert "Order and pay by card" in html


def test_checkout_without_code_of_conduct_refused(client, workshop, paid_type, standin):
    data = checkout_data(paid_type)
    del data["accept_code_of_conduct"]

    response = client.post("/tickets/checkout/", data)

    assert response.status_code == 200
    assert "Please accept the code of conduct to continue." in html_of(response)
    assert Order.objects.count() == 0


def test_checkout_bad_quantity_redirects_with_message(client, workshop, paid_type, standin):
    response = client.get(f"/tickets/checkout/?qty_{paid_type.id}=11", follow=True)

    assert response.redirect_chain == [("/tickets/", 302)]
    assert "Choose between 1 and 10 “Regular” tickets per order." in html_of(response)


def test_checkout_sold_out_refused_with_409(client, workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Small", capacity=1)
    page = client.get(f"/tickets/checkout/?qty_{ticket_type.id}=1")
    TicketFactory(ticket_type=ticket_type, order=OrderFactory(workshop=workshop))

    response = client.post("/tickets/checkout/", checkout_data(ticket_type))

    assert page.status_code == 200
    assert response.status_code == 409
    assert "“Small” is sold out." in html_of(response)


def test_checkout_without_stripe_hides_card(client, workshop, no_stripe):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)
    only_card = TicketTypeFactory(workshop=workshop)

    invoice_html = html_of(client.get(f"/tickets/checkout/?qty_{ticket_type.id}=1"))
    card_html = html_of(client.get(f"/tickets/checkout/?qty_{only_card.id}=1"))

    assert 'value="stripe"' not in invoice_html
    assert '<p class="payment-method">Payment: Invoice / bank transfer</p>' in invoice_html
    assert '<p class="payment-method">Card payment is not available.</p>' in invoice_html
    assert '<button type="submit" class="button">Order and get the invoice</button>' in (
        invoice_html
    )
    assert "by card" not in invoice_html
    assert "cannot be paid online right now" in card_html


def test_checkout_offering_card_and_invoice_asks_which(client, workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)

    html = html_of(client.get(f"/tickets/checkout/?qty_{ticket_type.id}=1"))

    assert "<legend>Payment</legend>" in html
    assert 'value="stripe" id="id_payment_method_0" required checked>' in html
    assert 'for="id_payment_method_0" class="inline">Card (local test payment page: no money ' in (
        html
    )
    assert 'for="id_payment_method_1" class="inline">Invoice / bank transfer</label>' in html
    assert "Card payment is not available" not in html
    assert '<button type="submit" class="button">Order and pay</button>' in html


def test_checkout_with_card_only_says_so_on_the_button(client, workshop, paid_type, settings):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"
    settings.STRIPE_API_BASE = "https://api.stripe.com"

    html = html_of(client.get(f"/tickets/checkout/?qty_{paid_type.id}=1"))

    assert '<p class="payment-method">Payment: Card (secure payment page by Stripe)</p>' in html
    assert "no money moves" not in html
    assert '<button type="submit" class="button">Order and pay by card</button>' in html


def test_checkout_with_the_local_standin_says_no_money_moves(client, workshop, paid_type, standin):
    html = html_of(client.get(f"/tickets/checkout/?qty_{paid_type.id}=1"))

    assert (
        '<p class="payment-method">Payment: Card (local test payment page: no money moves)</p>'
    ) in html
    assert '<button type="submit" class="button">Order and pay by card</button>' in html


def test_checkout_of_free_tickets_says_nothing_is_paid(client, workshop, free_type, no_stripe):
    html = html_of(client.get(f"/tickets/checkout/?qty_{free_type.id}=1"))

    assert '<p class="payment-method">Payment: None: the tickets are free</p>' in html
    assert "Card payment is not available" not in html
    assert '<button type="submit" class="button">Get my tickets</button>' in html


def test_checkout_free_order_goes_to_order_page(client, workshop, free_type, no_stripe):
    response = client.post("/tickets/checkout/", checkout_data(free_type))

    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert order.status == Order.Status.PAID


def test_order_page_private_headers_and_qr(client, workshop):
    order = OrderFactory(workshop=workshop, status="paid")
    ticket = TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=workshop))

    response = client.get(order.get_absolute_url())

    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "strict-origin"
    html = html_of(response)
    assert f'aria-label="QR code of ticket {ticket.code}"' in html
    assert 'id="qr-path"' not in html and "style=" not in html.split("<main", 1)[1]


@pytest.mark.parametrize("path", ["wrong", "short"])
def test_order_page_wrong_secret_404(client, workshop, path):
    order = OrderFactory(workshop=workshop)
    secret = {"wrong": order.secret[:-1] + ("A" if order.secret[-1] != "A" else "B"), "short": "x"}

    response = client.get(f"/orders/{order.code}/{secret[path]}/")

    assert response.status_code == 404


def test_order_page_unknown_code_404(client, workshop):
    assert client.get("/orders/NOPE1234/whatever/").status_code == 404


@pytest.mark.parametrize(
    ("status", "workshop_format", "shown"),
    [("paid", "online", True), ("pending", "online", False), ("paid", "in_person", False)],
)
def test_joining_details_only_for_paid_online(client, workshop, status, workshop_format, shown):
    workshop.format = workshop_format
    workshop.joining_details = "Join at **https://meet.example.org/secret-room**"
    workshop.save()
    order = OrderFactory(workshop=workshop, status=status, payment_method="invoice")

    html = html_of(client.get(order.get_absolute_url()))

    assert ("meet.example.org/secret-room" in html) is shown


def test_pending_order_page_shows_no_qr(client, workshop):
    order = OrderFactory(workshop=workshop, status="pending", payment_method="invoice")
    TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=workshop))

    html = html_of(client.get(order.get_absolute_url()))

    assert "QR code of ticket" not in html
    assert "your tickets are valid once it is paid" in html


def test_order_page_attendee_correction(client, workshop):
    order = OrderFactory(workshop=workshop, status="paid")
    ticket = TicketFactory(order=order, ticket_type=TicketTypeFactory(workshop=workshop))
    prefix = f"t{ticket.id}"

    response = client.post(
        order.get_absolute_url(),
        {"ticket": ticket.id, f"{prefix}-name": "Grace", f"{prefix}-email": "grace@example.org"},
        follow=True,
    )

    ticket.refresh_from_db()
    assert (ticket.attendee_name, ticket.attendee_email) == ("Grace", "grace@example.org")
    assert f"Ticket {ticket.code} updated." in html_of(response)


def test_order_page_other_orders_ticket_404(client, workshop):
    order = OrderFactory(workshop=workshop, status="paid")
    other = TicketFactory(order=OrderFactory(workshop=workshop))

    response = client.post(order.get_absolute_url(), {"ticket": other.id})

    assert response.status_code == 404


def test_resend_links_same_answer_either_way(client, workshop, outbox):
    order = OrderFactory(workshop=workshop, buyer_email="known@example.org")

    known = client.post("/tickets/resend/", {"email": "KNOWN@example.org"}, follow=True)
    unknown = client.post("/tickets/resend/", {"email": "nobody@example.org"}, follow=True)

    message = "If there are orders for that address, we have sent their links to it."
    assert message in html_of(known) and message in html_of(unknown)
    assert known.redirect_chain == unknown.redirect_chain == [("/tickets/resend/", 302)]
    assert [m.to for m in outbox] == [["known@example.org"]]
    assert order.get_absolute_url() in outbox[0].body


def test_my_tickets_lists_orders_placed_signed_in_not_those_of_a_verified_address(client, workshop):
    user = UserFactory(email="me@example.org")
    EmailAddress.objects.create(user=user, email="me@example.org", verified=True)
    mine = OrderFactory(workshop=workshop, user=user, buyer_email="x@example.org")
    # Bought without signing in: an address added to an account hands it over to no one.
    by_email = OrderFactory(workshop=workshop, buyer_email="ME@example.org")
    client.force_login(user)

    html = html_of(client.get("/tickets/mine/"))

    assert mine.code in html
    assert by_email.code not in html
    assert 'action="/tickets/mine/claim/"' in html


def test_my_tickets_shows_each_orders_details(client, workshop):
    user = UserFactory()
    paid = OrderFactory(workshop=workshop, user=user, code="PAID0001", total="50.00")
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    TicketFactory(order=paid, ticket_type=regular, attendee_name="Ada Lovelace", code="TCKADA")
    TicketFactory(order=paid, ticket_type=regular, attendee_name="Grace Hopper", code="TCKGRACE")
    pending = OrderFactory(
        workshop=workshop, user=user, code="WAIT0001", status="pending", payment_method="invoice"
    )
    TicketFactory(order=pending, ticket_type=regular, attendee_name="Alan Turing")
    client.force_login(user)

    html = html_of(client.get("/tickets/mine/"))

    # Newest first: the pending order, then the paid one.
    paid_card = html[html.index('id="order-PAID0001"') :]
    assert f'<a href="{paid.get_absolute_url()}" rel="noreferrer">Order PAID0001</a>' in paid_card
    assert '<dd class="order-status order-status-paid">Paid</dd>' in paid_card
    assert "<dt>Total</dt><dd>50.00 EUR</dd>" in paid_card
    assert "<li>Regular: <strong>Ada Lovelace</strong>" in paid_card
    assert "<code>TCKGRACE</code>" in paid_card
    assert "Alan Turing" not in paid_card
    assert '<dd class="order-status order-status-pending">Pending payment</dd>' in html


def test_free_order_reads_confirmed_not_paid(client, workshop, outbox):
    user = UserFactory(email="free@example.org")
    order = OrderFactory(
        workshop=workshop,
        user=user,
        payment_method="free",
        total="0.00",
        subtotal="0.00",
        buyer_email="free@example.org",
    )
    client.force_login(user)

    mine = html_of(client.get("/tickets/mine/"))
    page = html_of(client.get(order.get_absolute_url()))
    client.post("/tickets/resend/", {"email": "free@example.org"})

    assert '<dd class="order-status order-status-paid">Confirmed</dd>' in mine
    assert "Status: <strong>Confirmed</strong>" in page
    assert f"{order.code} (Confirmed, " in outbox[-1].body
    assert "Paid" not in mine[mine.index("<h1>") :] and "Paid" not in page[page.index("<h1>") :]


def test_my_tickets_needs_sign_in(client, workshop):
    response = client.get("/tickets/mine/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_says_card_payment_off(organiser_client, workshop, no_stripe):
    html = html_of(organiser_client.get("/admin/tickets/order/"))

    assert "Card payment is off" in html


def test_admin_marks_invoice_order_paid(
    organiser_client, workshop, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(workshop=workshop, status="pending", payment_method="invoice")

    with django_capture_on_commit_callbacks(execute=True):
        organiser_client.post(
            "/admin/tickets/order/",
            {"action": "mark_paid", "_selected_action": [order.pk]},
        )

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert outbox[0].subject.startswith("Your tickets for")


def test_admin_order_page_shows_stripe_events(organiser_client, workshop):
    from tickets.models import StripeEvent

    order = OrderFactory(workshop=workshop)
    StripeEvent.objects.create(
        event_id="evt_test_1", type="checkout.session.completed", order=order, result="paid"
    )

    html = html_of(organiser_client.get(f"/admin/tickets/order/{order.pk}/change/"))

    assert "Stripe events received" in html and "evt_test_1" in html


def test_demo_load_twice_changes_nothing(client):
    call_command("load_demo", stdout=open("/dev/null", "w"))
    before = list(TicketType.objects.values().order_by("id"))
    call_command("load_demo", stdout=open("/dev/null", "w"))

    assert list(TicketType.objects.values().order_by("id")) == before
    assert TicketType.objects.filter(visible=False).count() == 1
    voucher = Voucher.objects.get(code="SPEAKER2022")
    assert [t.name for t in voucher.ticket_types.all()] == ["Speaker or financial-aid ticket"]
    html = html_of(client.get("/tickets/?voucher=SPEAKER2022"))
    assert "Community ticket" in html and "Supporter ticket" in html
    assert "Speaker or financial-aid ticket" in html


def test_resend_links_rate_limited_per_address(client, workshop, outbox):
    OrderFactory(workshop=workshop, buyer_email="known@example.org")

    statuses = [
        client.post("/tickets/resend/", {"email": "known@example.org"}).status_code
        for _ in range(4)
    ]

    assert statuses == [302, 302, 302, 429]
    assert len(outbox) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tickets/tickettype/",
        "/admin/tickets/voucher/",
        "/admin/tickets/order/",
        "/admin/tickets/stripeevent/",
        "/admin/tickets/order/?q=ada&status__exact=paid",
    ],
)
def test_admin_lists_answer(organiser_client, workshop, path):
    TicketFactory(order=OrderFactory(workshop=workshop), ticket_type=TicketTypeFactory())

    assert organiser_client.get(path).status_code == 200


def test_admin_refund_action(organiser_client, workshop, paid_type, standin):
    from tests.tickets.test_stripe import card_order

    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)

    response = organiser_client.post(
        "/admin/tickets/order/", {"action": "refund", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert f"Order {order.code} refunded." in html_of(response)
    assert len(standin.refunds) == 1


def test_admin_cancel_paid_card_order_refused(organiser_client, workshop):
    order = OrderFactory(workshop=workshop, status="paid", payment_method="stripe")

    response = organiser_client.post(
        "/admin/tickets/order/", {"action": "cancel", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert f"Order {order.code} is paid." in html_of(response)


def test_order_creation_rate_limited_per_buyer(client, workshop, free_type, no_stripe):
    free_type.capacity = 50
    free_type.save()

    statuses = [
        client.post("/tickets/checkout/", checkout_data(free_type)).status_code for _ in range(11)
    ]

    assert statuses == [302] * 10 + [429]
    assert Order.objects.count() == 10


def test_zero_decimal_currency_shown_without_decimals(client, workshop, standin):
    workshop.currency = "JPY"
    workshop.save()
    ticket_type = TicketTypeFactory(workshop=workshop, price="1500")

    list_html = html_of(client.get("/tickets/"))
    checkout_html = html_of(client.get(f"/tickets/checkout/?qty_{ticket_type.id}=2"))

    assert '<p class="ticket-price">1500 JPY</p>' in list_html
    assert '<td class="order-total">3000 JPY</td>' in checkout_html


def test_checkout_invoice_asks_for_address(client, workshop, no_stripe):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)
    data = {**checkout_data(ticket_type), "payment_method": "invoice"}

    refused = client.post("/tickets/checkout/", data)
    accepted = client.post("/tickets/checkout/", {**data, "invoice_details": "Uni, PO 7"})

    assert "Give the invoice address for payment by invoice." in html_of(refused)
    order = Order.objects.get()
    assert accepted["Location"] == order.get_absolute_url()
    assert (order.payment_method, order.invoice_details) == ("invoice", "Uni, PO 7")


def test_admin_checks_in_paid_tickets_only(organiser_client, workshop):
    paid = TicketFactory(order=OrderFactory(workshop=workshop, status="paid"))
    unpaid = TicketFactory(order=OrderFactory(workshop=workshop, status="pending"))

    response = organiser_client.post(
        "/admin/tickets/ticket/",
        {"action": "check_in", "_selected_action": [paid.pk, unpaid.pk]},
        follow=True,
    )

    paid.refresh_from_db()
    unpaid.refresh_from_db()
    assert paid.checked_in_at is not None
    assert unpaid.checked_in_at is None
    assert f"belongs to an unpaid order ({unpaid.order.code})" in html_of(response)
    assert organiser_client.get(f"/admin/tickets/ticket/?q={paid.code}").status_code == 200


@pytest.mark.parametrize("size", [1, 8])
def test_order_page_query_count_constant(client, workshop, django_assert_num_queries, size):
    order = OrderFactory(workshop=workshop, status="paid")
    TicketFactory.create_batch(size, order=order, ticket_type=TicketTypeFactory(workshop=workshop))

    # The order, workshop, invoices, credit notes, refunds, tickets with types, footer pages,
    # and for holders of an online workshop the stages' streams.
    with django_assert_num_queries(8):
        response = client.get(order.get_absolute_url())

    assert html_of(response).count('class="qr"') == size


@pytest.mark.parametrize("size", [1, 6])
def test_my_tickets_query_count_constant(client, workshop, django_assert_num_queries, size):
    user = UserFactory()
    OrderFactory.create_batch(size, workshop=workshop, user=user)
    client.force_login(user)

    # Session, user, orders, invoices, credit notes, tickets with their types, footer pages,
    # the workshop, the header's speaker profile link.
    with django_assert_num_queries(9):
        response = client.get("/tickets/mine/")

    assert html_of(response).count('rel="noreferrer">Order ') == size


def test_sales_open_shown_in_workshop_time_zone(client, workshop):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    TicketTypeFactory(
        workshop=workshop, sale_starts_at=dt.datetime(2030, 3, 1, 10, 0, tzinfo=dt.UTC)
    )

    html = html_of(client.get("/tickets/"))

    assert "Sales open on 1 March 2030, 11:00 CET." in html
