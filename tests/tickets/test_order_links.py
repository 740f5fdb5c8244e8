"""Orders and accounts: an address added to an account hands over no order; claiming by e-mail;
a buyer's new secret link, and a new link when the order's address changes."""

import datetime as dt
import json

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from tests.factories import OrderFactory, TicketFactory, UserFactory
from tickets.models import Order, OrderEvent
from tickets.services import order_links
from tickets.services.invoices import issue_invoice

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.org"


@pytest.fixture
def victim_order(workshop):
    """An order bought without signing in, with an invoice to a billing address."""
    order = OrderFactory(
        workshop=workshop,
        code="VICTIM01",
        buyer_name="Vic Tim",
        buyer_email=VICTIM,
        payment_method="invoice",
        invoice_details="Vic Tim\n1 Private Road",
        vat_number="DE123456789",
    )
    TicketFactory(order=order, attendee_name="Vic Tim", attendee_email=VICTIM)
    order.refresh_from_db()
    issue_invoice(order=order)
    return order


def account(email, *also):
    """Return a user whose ``email`` and ``also`` addresses are verified."""
    user = UserFactory(email=email)
    for address in (email, *also):
        EmailAddress.objects.create(user=user, email=address, verified=True)
    return user


def claim_path(outbox):
    """Return the claim link's path from the last e-mail."""
    link = next(line for line in outbox[-1].body.splitlines() if "/tickets/mine/claim/" in line)
    return link[link.index("/tickets/mine/claim/") :]


def test_address_added_to_an_account_shows_none_of_its_orders(client, victim_order):
    # The attacker added the buyer's address; the buyer followed the verification e-mail.
    attacker = account("attacker@example.org", VICTIM)
    client.force_login(attacker)

    tickets = client.get("/tickets/mine/").content.decode()
    invoice = client.get("/tickets/mine/VICTIM01/invoice/")
    export = json.loads(client.get("/accounts/data/export/").content)

    assert "VICTIM01" not in tickets and "Private Road" not in tickets
    assert invoice.status_code == 404
    assert export["tickets"]["orders"] == []
    assert "Private Road" not in json.dumps(export)


def test_claim_link_names_the_account_and_what_it_will_see(client, victim_order, outbox):
    buyer = account("me@example.org", VICTIM)
    client.force_login(buyer)

    response = client.post("/tickets/mine/claim/", follow=True)

    assert response.redirect_chain == [("/tickets/mine/", 302)]
    assert "that address has been sent a link to add them to this account" in (
        response.content.decode()
    )
    assert [m.to for m in outbox] == [[VICTIM]]
    body = outbox[0].body
    assert "the account me@example.org" in body
    assert "- VICTIM01, " in body
    assert "invoices and credit notes (with the billing address and VAT number)" in body
    assert "data download" in body
    assert "If me@example.org is not your account, do not follow the link" in body
    assert Order.objects.get(pk=victim_order.pk).user is None


def test_following_the_claim_link_signed_in_adds_the_order(client, victim_order, outbox):
    buyer = account("me@example.org", VICTIM)
    client.force_login(buyer)
    client.post("/tickets/mine/claim/")
    path = claim_path(outbox)

    page = client.get(path)
    added = client.post(path, follow=True)

    html = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert "You are signed in as <strong>me@example.org</strong>" in html
    assert "Order VICTIM01" in html
    assert "billing address and VAT number" in html
    assert added.redirect_chain == [("/tickets/mine/", 302)]
    assert "Added 1 order(s) to your account." in added.content.decode()
    assert Order.objects.get(pk=victim_order.pk).user == buyer
    assert client.get("/tickets/mine/VICTIM01/invoice/").status_code == 200
    event = OrderEvent.objects.filter(order=victim_order).latest("created_at")
    assert (event.note, event.actor) == ("Added to the buyer's account.", buyer)


def test_claim_link_is_not_found_for_another_account(client, victim_order, outbox):
    buyer = account("me@example.org", VICTIM)
    client.force_login(buyer)
    client.post("/tickets/mine/claim/")
    path = claim_path(outbox)
    client.force_login(account("other@example.org"))

    get = client.get(path)
    post = client.post(path)
    client.logout()
    anonymous = client.post(path)

    assert (get.status_code, post.status_code) == (404, 404)
    assert "VICTIM01" not in get.content.decode()
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert Order.objects.get(pk=victim_order.pk).user is None


def test_claim_link_altered_or_expired_is_refused(client, victim_order, monkeypatch):
    buyer = account("me@example.org", VICTIM)
    token = order_links.claim_token(user=buyer, email=VICTIM, orders=[victim_order])
    client.force_login(buyer)

    altered = client.post(f"/tickets/mine/claim/{token[:-2]}xx/")
    monkeypatch.setattr(order_links, "CLAIM_MAX_AGE", dt.timedelta(seconds=-1))
    expired = client.post(f"/tickets/mine/claim/{token}/")

    assert altered.status_code == 404
    assert "This link is not valid." in altered.content.decode()
    assert expired.status_code == 410
    assert "This link has expired. Ask for a new one on My tickets." in expired.content.decode()
    assert Order.objects.get(pk=victim_order.pk).user is None


def test_claim_link_offers_no_order_whose_address_changed_or_that_was_claimed(
    client, victim_order, workshop
):
    other = OrderFactory(workshop=workshop, code="VICTIM02", buyer_email=VICTIM)
    buyer = account("me@example.org", VICTIM)
    token = order_links.claim_token(user=buyer, email=VICTIM, orders=[victim_order, other])
    Order.objects.filter(pk=victim_order.pk).update(buyer_email="new@example.org")
    Order.objects.filter(pk=other.pk).update(user=UserFactory())
    client.force_login(buyer)

    page = client.get(f"/tickets/mine/claim/{token}/")
    client.post(f"/tickets/mine/claim/{token}/")

    assert "The orders of this link are in an account already" in page.content.decode()
    assert Order.objects.get(pk=victim_order.pk).user is None
    assert Order.objects.get(pk=other.pk).user != buyer


def test_claim_links_go_to_verified_addresses_with_orders_only(client, workshop, outbox):
    buyer = account("me@example.org")
    EmailAddress.objects.create(user=buyer, email="unverified@example.org", verified=False)
    OrderFactory(workshop=workshop, buyer_email="unverified@example.org")
    client.force_login(buyer)

    response = client.post("/tickets/mine/claim/")

    assert response.status_code == 302
    assert outbox == []


def test_claim_requests_are_rate_limited(client, victim_order, outbox):
    client.force_login(account("me@example.org", VICTIM))

    statuses = [client.post("/tickets/mine/claim/").status_code for _ in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert len(outbox) == 3


def test_buyer_gets_a_new_link_and_the_old_one_dies(client, victim_order, outbox):
    old = victim_order.get_absolute_url()

    response = client.post(f"{old}new-link/")

    victim_order.refresh_from_db()
    new = victim_order.get_absolute_url()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert f"We have e-mailed the order's new link to {VICTIM}." in response.content.decode()
    assert new != old
    assert [m.to for m in outbox] == [[VICTIM]]
    assert new in outbox[0].body and old not in outbox[0].body
    assert outbox[0].subject == "New link to your order VICTIM01"
    assert client.get(old).status_code == 404
    assert client.get(f"{old}invoice/").status_code == 404
    assert client.post(f"{old}new-link/").status_code == 404
    assert client.get(new).status_code == 200
    event = OrderEvent.objects.filter(order=victim_order).latest("created_at")
    assert event.note == "New order link: asked for on the order page."


def test_order_page_offers_a_new_link(client, victim_order):
    url = victim_order.get_absolute_url()

    html = client.get(url).content.decode()

    assert f'<form method="post" action="{url}new-link/">' in html
    assert "E-mail me a new link</button>" in html
    assert client.get(f"{url}new-link/").status_code == 405


def test_new_order_link_is_rate_limited(client, victim_order, outbox):
    statuses = []
    for _ in range(11):
        victim_order.refresh_from_db()
        statuses.append(client.post(f"{victim_order.get_absolute_url()}new-link/").status_code)

    assert statuses == [200] * 10 + [429]
    assert len(outbox) == 10


def change_form_data(organiser_client, order, buyer_email):
    """Return the order admin's POST data with ``buyer_email``, the inlines as they are."""
    data = {
        "buyer_name": order.buyer_name,
        "buyer_email": buyer_email,
        "billing_name": "",
        "invoice_details": order.invoice_details,
        "vat_number": order.vat_number,
        "po_number": "",
    }
    page = organiser_client.get(f"/admin/tickets/order/{order.pk}/change/")
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for form in formset.formset.initial_forms:
            data[form.add_prefix("id")] = form.instance.pk
            for name in form.fields:
                if name != "id" and form[name].value() is not None:
                    data.setdefault(form.add_prefix(name), form[name].value())
    return data


def test_admin_changing_the_buyer_address_sends_a_new_link_there(
    organiser_client, victim_order, outbox
):
    old = victim_order.get_absolute_url()
    data = change_form_data(organiser_client, victim_order, "right@example.org")

    response = organiser_client.post(f"/admin/tickets/order/{victim_order.pk}/change/", data)

    victim_order.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:3000]
    assert victim_order.buyer_email == "right@example.org"
    assert victim_order.get_absolute_url() != old
    organiser_client.logout()
    assert organiser_client.get(old).status_code == 404
    assert [m.to for m in outbox] == [["right@example.org"]]
    assert victim_order.get_absolute_url() in outbox[0].body


@pytest.mark.parametrize(
    ("new_address", "stays"), [("friend@example.org", False), ("vic.work@example.org", True)]
)
def test_an_order_given_to_another_address_leaves_the_account_that_claimed_it(
    organiser_client, victim_order, outbox, new_address, stays
):
    holder = account(VICTIM, "vic.work@example.org")
    Order.objects.filter(pk=victim_order.pk).update(user=holder)
    data = change_form_data(organiser_client, victim_order, new_address)

    response = organiser_client.post(f"/admin/tickets/order/{victim_order.pk}/change/", data)

    assert response.status_code == 302
    victim_order.refresh_from_db()
    assert (victim_order.user == holder) is stays
    holders_browser = Client()  # not the organiser's: its admin message names the order
    holders_browser.force_login(holder)
    page = holders_browser.get("/tickets/mine/").content.decode()
    assert ("VICTIM01" in page) is stays
