"""Stripe's minimum charge is refused when a ticket type or voucher is saved, never at checkout.

Every currency with a fixed minimum is tried just below it and at it, on the ticket type and on
a voucher; a price lowered under an existing voucher and a voucher's changed choice of types
are judged as the admin saves them.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import TicketTypeFactory, VoucherFactory
from tickets import money
from tickets.models import TicketType, Voucher

pytestmark = pytest.mark.django_db

CURRENCIES = sorted(money.MINIMUM_CHARGE)


def minimum_and_below(code):
    cur = money.currency(code)
    return cur.minimum, cur.minimum - cur.step


def in_currency(workshop, code):
    workshop.currency = code
    workshop.save()
    return workshop


@pytest.mark.parametrize("code", CURRENCIES)
def test_ticket_type_below_the_minimum_charge_refused_in_every_currency(workshop, code):
    minimum, below = minimum_and_below(code)
    ticket_type = TicketTypeFactory.build(workshop=in_currency(workshop, code), price=below)

    with pytest.raises(ValidationError) as error:
        ticket_type.full_clean()

    assert error.value.message_dict["price"] == [
        f"A price above 0 must be at least {money.format_amount(minimum, code)}, the smallest "
        "amount Stripe can charge; use 0 for free tickets."
    ]


@pytest.mark.parametrize("code", CURRENCIES)
def test_ticket_type_at_the_minimum_charge_accepted_in_every_currency(workshop, code):
    minimum, _ = minimum_and_below(code)

    TicketTypeFactory.build(workshop=in_currency(workshop, code), price=minimum).full_clean()


@pytest.mark.parametrize("code", CURRENCIES)
def test_voucher_leaving_less_than_the_minimum_refused_in_every_currency(workshop, code):
    minimum, below = minimum_and_below(code)
    TicketTypeFactory(workshop=in_currency(workshop, code), name="Regular", price=minimum * 10)
    voucher = VoucherFactory.build(workshop=workshop, discount="fixed", value=minimum * 10 - below)

    with pytest.raises(ValidationError) as error:
        voucher.full_clean()

    cost = money.format_amount(below, code)
    assert error.value.message_dict["value"][0].startswith(
        f"With this voucher “Regular” would cost {cost}. A price above 0 must be at least "
        f"{money.format_amount(minimum, code)}"
    )


@pytest.mark.parametrize("code", CURRENCIES)
def test_voucher_leaving_the_minimum_accepted_in_every_currency(workshop, code):
    minimum, _ = minimum_and_below(code)
    TicketTypeFactory(workshop=in_currency(workshop, code), name="Regular", price=minimum * 10)

    VoucherFactory.build(workshop=workshop, discount="fixed", value=minimum * 9).full_clean()


def ticket_type_form(ticket_type, **changes):
    return {
        "workshop": ticket_type.workshop_id,
        "name": ticket_type.name,
        "description": "",
        "price": str(ticket_type.price),
        "capacity": ticket_type.capacity or "",
        "min_per_order": 1,
        "max_per_order": 10,
        "visible": "on" if ticket_type.visible else "",
        "position": 0,
        **changes,
    }


def test_admin_refuses_a_price_an_existing_voucher_brings_below_the_minimum(
    organiser_client, workshop
):
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    VoucherFactory(workshop=workshop, code="TWENTY", discount="fixed", value="20.00")
    url = f"/admin/tickets/tickettype/{ticket_type.pk}/change/"

    response = organiser_client.post(url, ticket_type_form(ticket_type, price="20.30"))

    assert response.status_code == 200
    assert (
        "With the voucher TWENTY this ticket would cost 0.30 EUR. A price above 0 must be at "
        "least 0.50 EUR" in response.content.decode()
    )
    ticket_type.refresh_from_db()
    assert ticket_type.price == Decimal("25.00")


def test_admin_refuses_showing_a_type_an_open_voucher_would_bring_below_the_minimum(
    organiser_client, workshop
):
    hidden = TicketTypeFactory(workshop=workshop, name="Student", price="1.00", visible=False)
    VoucherFactory(workshop=workshop, code="OFF", discount="fixed", value="0.80")
    url = f"/admin/tickets/tickettype/{hidden.pk}/change/"

    response = organiser_client.post(url, ticket_type_form(hidden, visible="on"))

    assert "With the voucher OFF this ticket would cost 0.20 EUR." in response.content.decode()
    assert TicketType.objects.get(pk=hidden.pk).visible is False


def test_ticket_type_a_voucher_does_not_apply_to_is_not_judged_by_it(workshop):
    other = TicketTypeFactory(workshop=workshop, name="Other", price="30.00")
    voucher = VoucherFactory(workshop=workshop, code="ONLY", discount="fixed", value="20.00")
    voucher.ticket_types.set([other])

    TicketTypeFactory.build(workshop=workshop, name="Cheap", price="20.30").full_clean()


def voucher_form(voucher, types, **changes):
    return {
        "workshop": voucher.workshop_id,
        "code": voucher.code,
        "discount": voucher.discount,
        "value": str(voucher.value),
        "ticket_types": [t.pk for t in types],
        "max_uses": "",
        "note": "",
        **changes,
    }


def test_admin_judges_a_voucher_by_the_types_chosen_now_not_those_saved(organiser_client, workshop):
    student = TicketTypeFactory(workshop=workshop, name="Student", price="1.00")
    regular = TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    voucher = VoucherFactory(workshop=workshop, code="STAFF", discount="fixed", value="0.40")
    voucher.ticket_types.set([student])
    url = f"/admin/tickets/voucher/{voucher.pk}/change/"

    # 0.70 off would leave the Student ticket 0.30, below the minimum, but it is no longer chosen.
    response = organiser_client.post(url, voucher_form(voucher, [regular], value="0.70"))

    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.value, list(voucher.ticket_types.all())) == (Decimal("0.70"), [regular])


def test_admin_refuses_a_voucher_for_the_types_chosen_once(organiser_client, workshop):
    student = TicketTypeFactory(workshop=workshop, name="Student", price="1.00")
    regular = TicketTypeFactory(workshop=workshop, name="Regular", price="25.00")
    voucher = VoucherFactory(workshop=workshop, code="STAFF", discount="fixed", value="20.00")
    voucher.ticket_types.set([regular])
    url = f"/admin/tickets/voucher/{voucher.pk}/change/"

    response = organiser_client.post(url, voucher_form(voucher, [student], value="0.70"))

    page = response.content.decode()
    assert page.count("With this voucher “Student” would cost 0.30 EUR.") == 1
    assert list(Voucher.objects.get(pk=voucher.pk).ticket_types.all()) == [regular]
