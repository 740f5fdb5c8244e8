"""A signed-in person downloads their data as JSON and deletes their account."""

import datetime as dt
import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.cache import cache

from speakers.models import Invitation, Speaker, SpeakerRevision
from tests.factories import (
    OrderFactory,
    SpeakerFactory,
    TalkFactory,
    TicketFactory,
    UserFactory,
)
from tests.security.conftest import PASSWORD, sign_in, verified_user
from tests.security.html_checks import duplicate_ids, inline_code, unlabelled_fields
from tickets.models import Invoice, Order, StripeEvent, Ticket
from workshop import privacy

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ada(workshop):
    return verified_user(username="ada", email="ada@example.org")


@pytest.fixture
def ada_order(ada, workshop):
    """A paid order Ada bought signed in for herself and a colleague, with a Stripe event."""
    order = OrderFactory(
        workshop=workshop,
        code="ADAORDER",
        buyer_name="Ada Lovelace",
        buyer_email="ADA@example.org",
        user=ada,
    )
    TicketFactory(order=order, attendee_name="Ada Lovelace", attendee_email="ada@example.org")
    TicketFactory(order=order, attendee_name="Grace Hopper", attendee_email="grace@example.org")
    StripeEvent.objects.create(
        event_id="evt_1",
        type="checkout.session.completed",
        order=order,
        payload={"data": {"object": {"customer_details": {"email": "ada@example.org"}}}},
    )
    return order


def test_data_page_links_download_and_deletion(client, ada):
    client.force_login(ada)

    response = client.get("/accounts/data/")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert 'href="/accounts/data/export/"' in html
    assert 'action="/accounts/data/delete/"' in html
    assert '<label for="id_password">Your password:</label>' in html


def test_account_pages_link_the_data_page(client, ada):
    client.force_login(ada)

    html = client.get("/accounts/email/").content.decode()

    assert '<a href="/accounts/data/">Your data</a>' in html


def test_data_pages_need_sign_in(client):
    for url in ("/accounts/data/", "/accounts/data/export/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert client.post("/accounts/data/delete/").status_code == 302


def test_export_has_account_orders_tickets_and_speaker_profile(client, ada, ada_order, workshop):
    speaker = SpeakerFactory(name="Ada Lovelace", slug="ada", user=ada, email="ada@uni.example")
    SpeakerRevision.objects.create(
        speaker=speaker,
        previous={"affiliation": "Old Place"},
        changed_fields=["affiliation"],
        created_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    other = OrderFactory(workshop=workshop, code="GIFT", buyer_email="bob@example.org")
    TicketFactory(order=other, attendee_name="Ada L.", attendee_email="ada@example.org")
    OrderFactory(workshop=workshop, code="NOTADA", buyer_email="eve@example.org")
    client.force_login(ada)

    response = client.get("/accounts/data/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="my-workshop-data-')
    assert response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    assert data["account"]["email"] == "ada@example.org"
    assert data["account"]["email_addresses"] == [
        {"email": "ada@example.org", "verified": True, "primary": True}
    ]
    assert [o["code"] for o in data["tickets"]["orders"]] == ["ADAORDER"]
    assert [t["attendee_name"] for t in data["tickets"]["orders"][0]["tickets"]] == [
        "Ada Lovelace",
        "Grace Hopper",
    ]
    assert [t["attendee_name"] for t in data["tickets"]["tickets_bought_for_you"]] == ["Ada L."]
    # Not the code its QR code admits with: that is the buyer's to pass on.
    assert "code" not in data["tickets"]["tickets_bought_for_you"][0]
    profile = data["speakers"]["speaker_profile"]
    assert profile["previous_versions"] == [
        {
            "changed_at": "2030-01-01T00:00:00Z",
            "changed_fields": ["affiliation"],
            "previous": {"affiliation": "Old Place"},
        }
    ]
    assert (profile["name"], profile["contact_email"], profile["slug"]) == (
        speaker.name,
        "ada@uni.example",
        "ada",
    )


def delete(client, **data):
    return client.post("/accounts/data/delete/", {"password": PASSWORD, "confirm": "on", **data})


def test_delete_account_keeps_order_anonymised(client, ada, ada_order):
    client.force_login(ada)

    response = delete(client)

    assert response.status_code == 200
    assert "<h1>Your account is deleted</h1>" in response.content.decode()
    assert not User.objects.filter(pk=ada.pk).exists()
    assert not EmailAddress.objects.filter(email="ada@example.org").exists()
    order = Order.objects.get(code="ADAORDER")
    assert (order.buyer_name, order.buyer_email, order.user) == (
        "(removed)",
        "erased-adaorder@erased.invalid",
        None,
    )
    assert (order.status, str(order.total)) == (Order.Status.PAID, "25.00")
    tickets = {t.attendee_email: t.attendee_name for t in order.tickets.all()}
    mine = next(t for t in order.tickets.all() if t.attendee_name == "(removed)")
    assert tickets == {
        f"erased-{mine.code.lower()}@erased.invalid": "(removed)",
        "grace@example.org": "Grace Hopper",
    }
    assert StripeEvent.objects.get(event_id="evt_1").payload == {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "erased": True,
    }
    # Signed out: the data page now asks to sign in.
    assert client.get("/accounts/data/").status_code == 302


def test_delete_account_keeps_issued_invoice_billing_data(client, ada, workshop):
    order = OrderFactory(
        workshop=workshop,
        code="INV1",
        buyer_email="ada@example.org",
        user=ada,
        payment_method=Order.Method.INVOICE,
        billing_name="Analytical Engines Ltd",
        invoice_details="1 Engine Street, London",
    )
    Invoice.objects.create(
        order=order,
        number="WS-2030-0001",
        issued_on="2030-01-01",
        seller_name="Workshop",
        buyer_name="Ada Lovelace",
        buyer_email="ada@example.org",
        billing_address="1 Engine Street, London",
        currency="EUR",
        subtotal="25.00",
        total="25.00",
    )
    no_invoice = OrderFactory(
        workshop=workshop,
        code="NOINV",
        buyer_email="ada@example.org",
        billing_name="Ada Ltd",
        user=ada,
    )
    client.force_login(ada)

    delete(client)

    order.refresh_from_db()
    no_invoice.refresh_from_db()
    assert order.buyer_email == "erased-inv1@erased.invalid"
    assert (order.billing_name, order.invoice_details) == (
        "Analytical Engines Ltd",
        "1 Engine Street, London",
    )
    assert Invoice.objects.get(number="WS-2030-0001").buyer_name == "Ada Lovelace"
    assert no_invoice.billing_name == ""


def test_delete_account_wrong_password_refused(client, ada, ada_order):
    client.force_login(ada)

    response = delete(client, password="not it")

    assert response.status_code == 400
    assert "This is not your password." in response.content.decode()
    assert User.objects.filter(pk=ada.pk).exists()
    assert Order.objects.get(code="ADAORDER").buyer_name == "Ada Lovelace"


def test_delete_account_needs_confirmation(client, ada):
    client.force_login(ada)

    response = client.post("/accounts/data/delete/", {"password": PASSWORD})

    assert response.status_code == 400
    assert "Tick the box to confirm" in response.content.decode()
    assert User.objects.filter(pk=ada.pk).exists()


def test_delete_account_password_guessing_rate_limited(client, ada):
    client.force_login(ada)
    for _ in range(5):
        delete(client, password="guess")

    response = delete(client)

    assert response.status_code == 429
    assert User.objects.filter(pk=ada.pk).exists()


def test_delete_account_get_not_allowed(client, ada):
    client.force_login(ada)

    assert client.get("/accounts/data/delete/").status_code == 405


def test_delete_account_refused_for_staff(client, workshop):
    staff = verified_user(username="boss", email="boss@example.org", is_staff=True)
    client.force_login(staff)

    response = delete(client)

    assert response.status_code == 403
    assert "Organiser accounts cannot delete themselves here" in response.content.decode()
    assert User.objects.filter(pk=staff.pk).exists()


def test_delete_account_without_password_asks_to_set_one(client, workshop):
    user = UserFactory(username="social", email="social@example.org")
    user.set_unusable_password()
    user.save()
    client.force_login(user)

    page = client.get("/accounts/data/").content.decode()
    response = client.post("/accounts/data/delete/", {"password": "", "confirm": "on"})

    assert 'name="password"' not in page
    assert '<a href="/accounts/password/set/">set a password</a> first' in page
    assert response.status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_account_after_real_sign_in(client, ada, ada_order):
    sign_in(client, ada)

    response = delete(client)

    assert response.status_code == 200
    assert not User.objects.filter(pk=ada.pk).exists()


def test_delete_speaker_with_published_talk_keeps_public_profile_unlinked(client, ada, workshop):
    speaker = SpeakerFactory(name="Ada Lovelace", slug="ada", user=ada, email="ada@uni.example")
    TalkFactory(speakers=[speaker], published=True)
    Invitation.objects.create(
        speaker=speaker,
        email="ada@uni.example",
        token_hash="x" * 64,
        expires_at="2099-01-01T00:00Z",
    )
    client.force_login(ada)

    delete(client)

    speaker.refresh_from_db()
    assert (speaker.user, speaker.email, speaker.published) == (None, "", True)
    assert client.get("/speakers/ada/").status_code == 200
    assert Invitation.objects.get(speaker=speaker).withdrawn_at is not None


def test_delete_speaker_without_published_talk_hides_profile(client, ada, workshop):
    speaker = SpeakerFactory(name="Ada Lovelace", slug="ada", user=ada, email="ada@uni.example")
    TalkFactory(speakers=[speaker], published=False)
    client.force_login(ada)

    delete(client)

    speaker.refresh_from_db()
    assert (speaker.user, speaker.email, speaker.published) == (None, "", False)
    assert client.get("/speakers/ada/").status_code == 404


def test_delete_speaker_removes_the_contact_address_from_invitations(client, ada, workshop):
    speaker = SpeakerFactory(name="Ada Lovelace", slug="ada", user=ada, email="ada@uni.example")
    TalkFactory(speakers=[speaker], published=True)
    Invitation.objects.create(
        speaker=speaker,
        email="ada@uni.example",
        token_hash="y" * 64,
        expires_at="2099-01-01T00:00Z",
        claimed_at="2026-01-01T00:00Z",
        claimed_by=ada,
    )
    client.force_login(ada)

    delete(client)

    assert not Invitation.objects.filter(email__iexact="ada@uni.example").exists()
    assert Invitation.objects.filter(speaker=speaker).count() == 1


def test_export_and_erase_use_the_providers_of_settings():
    assert [(label, module.__name__) for label, module in privacy.providers()] == [
        ("schedule", "schedule.privacy"),
        ("speakers", "speakers.privacy"),
        ("tickets", "tickets.privacy"),
    ]


def test_delete_account_is_all_or_nothing(client, ada, ada_order, monkeypatch):
    def broken(user):
        raise RuntimeError("speakers failed")

    speakers_module = dict(privacy.providers())["speakers"]
    monkeypatch.setattr(speakers_module, "erase_user_data", broken)
    client.raise_request_exception = False
    client.force_login(ada)

    response = delete(client)

    assert response.status_code == 500
    assert User.objects.filter(pk=ada.pk).exists()
    assert Order.objects.get(code="ADAORDER").buyer_name == "Ada Lovelace"
    assert Ticket.objects.filter(attendee_name="Ada Lovelace").count() == 1
    assert Speaker.objects.count() == 0


def test_data_pages_have_labelled_fields_and_no_inline_code(client, ada):
    client.force_login(ada)
    page = client.get("/accounts/data/").content.decode()
    error_page = delete(client, password="wrong").content.decode()
    deleted_page = delete(client).content.decode()

    for html in (page, error_page, deleted_page):
        assert inline_code(html) == []
        assert unlabelled_fields(html) == []
        assert duplicate_ids(html) == []
    assert '<div class="field field-error">' in error_page


@pytest.mark.parametrize("orders", [1, 6])
def test_export_query_count_is_constant(client, ada, workshop, orders, django_assert_num_queries):
    speaker = SpeakerFactory(name="Ada Lovelace", slug="ada", user=ada)
    for n in range(orders):
        order = OrderFactory(workshop=workshop, buyer_email="ada@example.org", user=ada)
        TicketFactory(order=order, attendee_email="ada@example.org")
        TicketFactory(order=order, attendee_email=f"friend{n}@example.org")
        gift = OrderFactory(workshop=workshop, buyer_email=f"friend{n}@example.org")
        TicketFactory(order=gift, attendee_email="ada@example.org")
        TalkFactory(speakers=[speaker])
    client.force_login(ada)

    # One of them reads the verified addresses for tickets held; two the proposals and the
    # reviews written.
    with django_assert_num_queries(15):
        response = client.get("/accounts/data/export/")

    assert len(json.loads(response.content)["tickets"]["orders"]) == orders
