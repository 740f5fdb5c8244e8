"""Prices in every kind of currency: minor units sent to Stripe, smallest prices, minimum charge."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import TicketTypeFactory, VoucherFactory
from tests.tickets.conftest import BUYER, people
from tickets import money
from tickets.models import Order, TicketType, Voucher
from tickets.services import lifecycle, stripe_checkout

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("currency", "price", "minor"),
    [
        ("JPY", "1500", 1500),  # zero-decimal: whole yen
        ("EUR", "25.50", 2550),  # two decimals: cents
        ("KWD", "12.34", 12340),  # three decimals: fils, last digit 0
        ("ISK", "500", 50000),  # Stripe's special case: two decimals, whole krónur
        ("HUF", "1500", 150000),
    ],
)
def test_card_payment_sends_minor_units_of_the_currency(workshop, standin, currency, price, minor):
    workshop.currency = currency
    workshop.save()
    ticket_type = TicketTypeFactory(workshop=workshop, price=price)
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="stripe",
    )

    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id)

    session = standin.sessions[order.stripe_session_id]
    order.refresh_from_db()
    assert (session["amount_total"], session["currency"]) == (minor, currency.lower())
    assert order.status == Order.Status.PAID


def test_three_decimal_refund_recorded_in_units(workshop, standin):
    workshop.currency = "KWD"
    workshop.save()
    ticket_type = TicketTypeFactory(workshop=workshop, price="12.34")
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="stripe",
    )
    stripe_checkout.start_checkout(order=order)
    order.refresh_from_db()
    standin.pay(order.stripe_session_id)

    standin.refund(standin.charge_for(order.stripe_session_id)["id"], 5000)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("partly_refunded", Decimal("5.00"))


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [("JPY", "1500", "1500 JPY"), ("EUR", "25", "25.00 EUR"), ("KWD", "12.34", "12.340 KWD")],
)
def test_amounts_shown_with_the_currencys_decimals(currency, amount, shown):
    assert money.format_amount(Decimal(amount), currency) == shown


def test_three_decimal_discount_rounded_to_what_stripe_charges(workshop, standin):
    workshop.currency = "KWD"
    workshop.save()
    VoucherFactory(workshop=workshop, code="THIRD", discount="percent", value="33.33")
    ticket_type = TicketTypeFactory(workshop=workshop, price="10.00")

    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        voucher_code="THIRD",
        payment_method="stripe",
    )

    assert order.total == Decimal("6.67")
    assert money.to_minor_units(order.total, "KWD") == 6670


@pytest.mark.parametrize(
    ("currency", "price", "message"),
    [
        ("JPY", "1500.50", "Prices in JPY have no smaller units."),
        ("ISK", "500.50", "Prices in ISK have no smaller units."),
        ("HUF", "1500.50", "Prices in HUF have no smaller units."),
        ("EUR", "0.30", "A price above 0 must be at least 0.50 EUR"),
        ("JPY", "49", "A price above 0 must be at least 50 JPY"),
        ("GBP", "0.29", "A price above 0 must be at least 0.30 GBP"),
    ],
)
def test_ticket_type_price_the_currency_cannot_charge_refused(workshop, currency, price, message):
    workshop.currency = currency
    workshop.save()
    ticket_type = TicketTypeFactory.build(workshop=workshop, price=Decimal(price))

    with pytest.raises(ValidationError) as error:
        ticket_type.full_clean()

    assert error.value.message_dict["price"][0].startswith(message)


@pytest.mark.parametrize(("currency", "price"), [("EUR", "0"), ("EUR", "0.50"), ("KWD", "0.01")])
def test_ticket_type_price_the_currency_can_charge_accepted(workshop, currency, price):
    workshop.currency = currency
    workshop.save()

    TicketTypeFactory.build(workshop=workshop, price=Decimal(price)).full_clean()


def test_voucher_fixed_value_finer_than_the_currency_refused(workshop):
    workshop.currency = "JPY"
    workshop.save()
    voucher = VoucherFactory.build(workshop=workshop, discount="fixed", value=Decimal("100.50"))

    with pytest.raises(ValidationError) as error:
        voucher.full_clean()

    assert error.value.message_dict == {"value": ["Prices in JPY have no smaller units."]}


def test_voucher_leaving_less_than_the_minimum_charge_refused(workshop):
    TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    voucher = VoucherFactory.build(workshop=workshop, discount="fixed", value=Decimal("24.80"))

    with pytest.raises(ValidationError) as error:
        voucher.full_clean()

    assert error.value.message_dict["value"][0].startswith(
        "With this voucher “Regular” would cost 0.20 EUR. A price above 0 must be at least 0.50"
    )


def test_voucher_making_tickets_free_accepted(workshop):
    TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")

    VoucherFactory.build(workshop=workshop, discount="percent", value=Decimal("100")).full_clean()


def test_admin_refuses_voucher_below_minimum_for_the_types_chosen(organiser_client, workshop):
    cheap = TicketTypeFactory(workshop=workshop, name="Student", price="1.00", visible=False)
    TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    data = {
        "workshop": workshop.pk,
        "code": "STUDENT",
        "discount": "fixed",
        "value": "0.70",
        "ticket_types": [cheap.pk],
        "note": "",
    }

    response = organiser_client.post("/admin/tickets/voucher/add/", data)

    assert response.status_code == 200
    assert "With this voucher “Student” would cost 0.30 EUR." in response.content.decode()
    assert Voucher.objects.count() == 0


def test_admin_refuses_ticket_type_below_minimum(organiser_client, workshop):
    data = {
        "workshop": workshop.pk,
        "name": "Cheap",
        "description": "",
        "price": "0.20",
        "min_per_order": 1,
        "max_per_order": 10,
        "visible": "on",
        "position": 0,
    }

    response = organiser_client.post("/admin/tickets/tickettype/add/", data)

    assert response.status_code == 200
    assert "must be at least 0.50 EUR, the smallest amount Stripe can charge" in (
        response.content.decode()
    )
    assert TicketType.objects.count() == 0
