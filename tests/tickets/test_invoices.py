"""Invoices: numbering, snapshot and tax arithmetic, the HTML page, the PDF and who may see them."""

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import connection, transaction
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import (
    OrderFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    VoucherFactory,
    WorkshopFactory,
)
from tests.tickets.conftest import BUYER, people
from tickets.invoice_pdf import pdf_text
from tickets.models import Invoice, InvoiceSequence, Order, TicketType
from tickets.services import lifecycle
from tickets.services.invoices import included_tax, issue_invoice, take_number

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def number(n, prefix="INV"):
    return f"{prefix}-{YEAR}-{n:04d}"


def pdf_of(response):
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def paid_order(workshop, *, quantity=1, price="25.00", **fields):
    """A paid card order with tickets, not invoiced yet (factories skip the services)."""
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular", price=price)
    total = Decimal(price) * quantity
    order = OrderFactory(workshop=workshop, subtotal=total, total=total, **fields)
    TicketFactory.create_batch(quantity, order=order, ticket_type=ticket_type, price=price)
    return order


def invoice_order(
    workshop,
    *,
    billing=None,
    buyer=BUYER,
    invoice_details="Example University\nMain Street 1\n10115 Berlin",
    **kwargs,
):
    ticket_type = TicketTypeFactory(
        workshop=workshop, name="Academic", price="40.00", invoice_allowed=True
    )
    return lifecycle.create_order(
        workshop=workshop,
        ticket_counts={ticket_type.id: 2},
        buyer=buyer,
        attendees=people(2),
        payment_method="invoice",
        invoice_details=invoice_details,
        billing=billing,
        **kwargs,
    )


@pytest.fixture
def invoicing_workshop(workshop):
    workshop.organiser_name = "Workshop Society e.V."
    workshop.organiser_address = "Science Park 5\n14195 Berlin"
    workshop.invoice_note = "IBAN DE02 1001 0010 0123 4567 89"
    workshop.save()
    return workshop


# -- Numbers ---------------------------------------------------------------------------


def test_invoice_numbers_follow_on_without_gaps(workshop):
    orders = [paid_order(workshop) for _ in range(3)]

    numbers = [issue_invoice(order=order).number for order in orders]

    assert numbers == [number(1), number(2), number(3)]
    assert InvoiceSequence.objects.get(prefix="INV", year=YEAR).last_number == 3


def test_invoice_number_given_back_when_its_transaction_fails(workshop):
    first, second = paid_order(workshop), paid_order(workshop)

    with pytest.raises(RuntimeError), transaction.atomic():
        issue_invoice(order=first)
        raise RuntimeError("the payment's transaction fails after the invoice")
    invoice = issue_invoice(order=second)

    assert invoice.number == number(1)
    assert not Invoice.objects.filter(order=first).exists()


def test_each_prefix_and_year_counts_on_its_own(workshop):
    assert take_number("INV", 2030) == "INV-2030-0001"
    assert take_number("INV", 2030) == "INV-2030-0002"
    assert take_number("WS", 2030) == "WS-2030-0001"
    assert take_number("INV", 2031) == "INV-2031-0001"


def test_workshop_prefix_used(workshop):
    workshop.invoice_prefix = "MLSCI"
    workshop.save()

    invoice = issue_invoice(order=paid_order(workshop))

    assert invoice.number == number(1, prefix="MLSCI")


def test_issue_invoice_twice_gives_the_same_invoice(workshop):
    order = paid_order(workshop)

    first = issue_invoice(order=order)
    again = issue_invoice(order=order)

    assert again.pk == first.pk
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last_number == 1


# -- When invoices are issued ----------------------------------------------------------


def test_invoice_order_invoiced_when_placed_and_paid_later(invoicing_workshop, no_stripe):
    order = invoice_order(invoicing_workshop)
    placed = Invoice.objects.get(order=order)

    lifecycle.mark_invoice_paid(order=order)

    assert Invoice.objects.get(order=order).pk == placed.pk
    assert placed.number == number(1)
    assert placed.total == Decimal("80.00")


def test_card_order_invoiced_when_paid(client, workshop, paid_type, standin):
    from tests.tickets.test_stripe import card_order

    order = card_order(workshop, paid_type, quantity=2)
    assert not Invoice.objects.filter(order=order).exists()

    standin.pay(order.stripe_session_id)

    invoice = Invoice.objects.get(order=order)
    assert (invoice.number, invoice.total, invoice.buyer_name) == (
        number(1),
        Decimal("50.00"),
        "Ada Buyer",
    )


def test_free_order_gets_no_invoice(workshop, free_type):
    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={free_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="free",
    )

    assert order.status == Order.Status.PAID
    assert issue_invoice(order=order) is None
    assert not Invoice.objects.exists()


def test_unpaid_card_order_gets_no_invoice(workshop):
    order = paid_order(workshop, status=Order.Status.PENDING)

    assert issue_invoice(order=order) is None


# -- Snapshot and arithmetic ------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "rate", "currency", "tax"),
    [
        ("119.00", "19", "EUR", "19.00"),
        ("25.00", "19", "EUR", "3.99"),  # 3.9916 rounds down
        ("0.12", "60", "EUR", "0.05"),  # exactly 0.045: half up, not to even
        ("1500", "10", "JPY", "136"),  # 136.36 in a currency without cents
        ("45.00", "7.5", "EUR", "3.14"),  # 3.1395 rounds up
        ("80.00", "0", "EUR", "0.00"),
    ],
)
def test_included_tax_rounds_half_up(total, rate, currency, tax):
    assert included_tax(Decimal(total), Decimal(rate), currency) == Decimal(tax)


def test_invoice_snapshot_with_voucher_and_tax(invoicing_workshop):
    invoicing_workshop.tax_rate = Decimal("19")
    invoicing_workshop.save()
    ticket_type = TicketTypeFactory(
        workshop=invoicing_workshop, name="Regular", price="25.00", invoice_allowed=True
    )
    VoucherFactory(workshop=invoicing_workshop, code="TEN", discount="percent", value="10")

    order = lifecycle.create_order(
        workshop=invoicing_workshop,
        ticket_counts={ticket_type.id: 2},
        buyer=BUYER,
        attendees=people(2),
        voucher_code="ten",
        payment_method="invoice",
        invoice_details="Lab 4\nBerlin",
        billing={"billing_name": "Example Lab", "vat_number": "DE123456789", "po_number": "PO-7"},
    )
    invoice = Invoice.objects.get(order=order)

    assert invoice.lines == [
        {
            "description": f"{invoicing_workshop.title}: Regular",
            "quantity": 2,
            "unit_price": "25.00",
            "amount": "50.00",
        }
    ]
    assert (invoice.subtotal, invoice.discount, invoice.total) == (
        Decimal("50.00"),
        Decimal("5.00"),
        Decimal("45.00"),
    )
    # 45.00 includes 19 %: 45 * 19 / 119 = 7.1848...
    assert (invoice.tax_rate, invoice.tax_label, invoice.tax_amount) == (
        Decimal("19.00"),
        "VAT",
        Decimal("7.18"),
    )
    assert invoice.net_total == Decimal("37.82")
    assert (invoice.seller_name, invoice.seller_address) == (
        "Workshop Society e.V.",
        "Science Park 5\n14195 Berlin",
    )
    assert (invoice.buyer_name, invoice.billing_address) == ("Example Lab", "Lab 4\nBerlin")
    assert (invoice.vat_number, invoice.po_number) == ("DE123456789", "PO-7")


def test_invoice_uses_prices_paid_when_list_price_changed(workshop):
    order = paid_order(workshop, quantity=2)
    TicketType.objects.update(price=Decimal("30.00"))

    invoice = issue_invoice(order=order)

    assert [(line["unit_price"], line["amount"]) for line in invoice.lines] == [("25.00", "50.00")]
    assert (invoice.subtotal, invoice.discount, invoice.total) == (
        Decimal("50.00"),
        Decimal("0.00"),
        Decimal("50.00"),
    )


def test_invoice_keeps_its_snapshot_when_the_organiser_changes(invoicing_workshop):
    invoice = issue_invoice(order=paid_order(invoicing_workshop))

    invoicing_workshop.organiser_name = "Renamed Society"
    invoicing_workshop.tax_rate = Decimal("19")
    invoicing_workshop.save()
    invoice.refresh_from_db()

    assert (invoice.seller_name, invoice.tax_amount) == ("Workshop Society e.V.", Decimal("0.00"))


# -- The page and the PDF --------------------------------------------------------------


def invoice_url(order, suffix="invoice/"):
    return f"{order.get_absolute_url()}{suffix}"


def test_invoice_page_shows_the_invoice(client, invoicing_workshop, no_stripe):
    invoicing_workshop.tax_rate = Decimal("19")
    invoicing_workshop.save()
    order = invoice_order(invoicing_workshop, billing={"vat_number": "DE123456789"})

    response = client.get(invoice_url(order))

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "strict-origin"
    assert f'<h1 id="invoice-heading">Invoice {number(1)}</h1>' in html
    assert "Workshop Society e.V.<br>Science Park 5<br>14195 Berlin" in html
    assert "Ada Buyer<br>Example University<br>Main Street 1<br>10115 Berlin" in html
    assert "<dt>VAT number</dt><dd>DE123456789</dd>" in html
    assert (
        f'<tr><td>{invoicing_workshop.title}: Academic</td><td class="num">2</td>'
        '<td class="num">40.00 EUR</td><td class="num">80.00 EUR</td></tr>'
    ) in html
    assert 'Total</th><td class="num">80.00 EUR</td>' in html
    # 80 * 19 / 119 = 12.7731...
    assert 'Included VAT 19%</th><td class="num">12.77 EUR</td>' in html
    assert 'Total without VAT</th><td class="num">67.23 EUR</td>' in html
    due = invoicing_workshop.invoice_due_date(order.created_at)
    assert (
        f"Payment due by {due:%-d %B %Y}: please transfer 80.00 EUR, quoting {number(1)}." in html
    )
    assert "IBAN DE02 1001 0010 0123 4567 89" in html
    assert 'href="/static/css/invoice.css"' in html
    assert f'href="{invoice_url(order, f"documents/{number(1)}.pdf")}"' in html


def test_invoice_pdf_holds_number_buyer_items_and_totals(client, invoicing_workshop, no_stripe):
    invoicing_workshop.tax_rate = Decimal("19")
    invoicing_workshop.save()
    order = invoice_order(invoicing_workshop, billing={"po_number": "PO-4711"})
    lifecycle.mark_invoice_paid(order=order)

    response = client.get(invoice_url(order, "invoice.pdf"))

    text = pdf_of(response)
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{number(1)}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert f"Invoice {number(1)}" in text
    assert "Workshop Society e.V." in text
    assert "Ada Buyer\nExample University\nMain Street 1\n10115 Berlin" in text
    assert "Purchase order: PO-4711" in text
    assert "Academic" in text
    assert "2 40.00 EUR 80.00 EUR" in text
    assert "Subtotal 80.00 EUR" in text
    assert "Total 80.00 EUR" in text
    assert "Included VAT 19% 12.77 EUR" in text
    assert "Total without VAT 67.23 EUR" in text
    assert "Paid 80.00 EUR on" in text and "(by bank transfer)" in text


def pdf_fonts(response):
    reader = PdfReader(io.BytesIO(response.content))
    fonts = reader.pages[0]["/Resources"]["/Font"].values()
    return sorted(str(font.get_object()["/BaseFont"]).split("+")[-1] for font in fonts)


@pytest.mark.parametrize(
    "name, address",
    [
        ("Łukasz Żółć", "ul. Świętokrzyska 12\n00-001 Warszawa"),
        ("Ελένη Παπαδοπούλου", "Οδός Ερμού 25\n105 63 Αθήνα"),
        ("Юлия Иванова", "ул. Льва Толстого 16\n119021 Москва"),
        # Right to left; pypdf reads a line mixing digits into it in drawn (visual) order.
        ("محمد عبد الله", "شارع التحرير\nالقاهرة"),
        ("שרה כהן", "רחוב הרצל\nתל אביב"),
    ],
)
def test_invoice_pdf_shows_names_as_given(client, invoicing_workshop, no_stripe, name, address):
    invoicing_workshop.organiser_name = "Łódź Machine Learning Society"
    invoicing_workshop.save()
    buyer = {"name": name, "email": "buyer@example.org"}
    order = invoice_order(invoicing_workshop, buyer=buyer, invoice_details=address)

    response = client.get(invoice_url(order, "invoice.pdf"))

    text = pdf_of(response)
    assert f"{name}\n{address}\nbuyer@example.org" in text
    assert "Łódź Machine Learning Society" in text
    assert "Page 1 of 1" in text
    assert "□" not in text
    assert pdf_fonts(response) == ["DejaVuSansBold", "DejaVuSansBook"]


def test_invoice_pdf_of_cjk_name_boxes_what_the_font_lacks(client, invoicing_workshop, no_stripe):
    buyer = {"name": "Zoë Łukasiewicz 李小龍", "email": "zoe@example.org"}
    order = invoice_order(invoicing_workshop, buyer=buyer, invoice_details="東京都千代田区 1")

    html = client.get(invoice_url(order)).content.decode()
    response = client.get(invoice_url(order, "invoice.pdf"))

    text = pdf_of(response)
    assert response.status_code == 200
    assert "Zoë Łukasiewicz 李小龍<br>東京都千代田区 1" in html
    assert "Zoë Łukasiewicz □□□\n□□□□□□□ 1" in text
    assert (
        "□ marks a character that this PDF's font cannot show; "
        "the invoice web page shows every character." in text
    )


def test_invoice_pdf_of_many_scripts_stays_small(client, invoicing_workshop, no_stripe):
    # Every distinct letter adds its glyph to the embedded font subsets.
    name = "Łukasz Żółć, Ελένη Παπαδοπούλου, Юлия Иванова, Nguyễn Thị Đặng, 山田太郎, 김민준 😀"
    address = "\n".join(
        [
            "ÀÁÂÃÄÅĀĂĄÇĆĈĊČĎĐÈÉÊËĒĔĖĘĚĜĞĠĢĤĦÌÍÎÏĨĪĬĮİĴĶĹĻĽĿŁÑŃŅŇŊÒÓÔÕÖØŌŎŐŒŔŖŘŚŜŞŠŢŤŦÙÚÛÜŨŪŬŮŰŲŴŶŸŹŻŽ",
            "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρστυφχψωάέήίόύώ",
            "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюяёЁЇїЄєІіЎў",
        ]
    )
    buyer = {"name": name, "email": "x@example.org"}
    order = invoice_order(invoicing_workshop, buyer=buyer, invoice_details=address)

    response = client.get(invoice_url(order, "invoice.pdf"))

    assert response.status_code == 200
    assert len(response.content) < 200_000
    text = pdf_of(response)
    assert "Nguyễn Thị Đặng" in text
    assert "□□□□, □□□ 😀" in text


def test_pdf_text_composes_and_boxes_what_the_font_lacks():
    assert pdf_text("Müller – “Straße” 5 €") == "Müller – “Straße” 5 €"
    assert pdf_text("Dvor\u030cák, Łukasz, Ørsted, Ἀθῆναι") == "Dvořák, Łukasz, Ørsted, Ἀθῆναι"
    assert pdf_text("山田 太郎\nनमस्ते") == "□□ □□\n□□□□□□"
    assert pdf_text("Main St.\t5\r\nBerlin") == "Main St. 5\r\nBerlin"


def test_order_page_links_the_invoice(client, workshop, no_stripe):
    order = invoice_order(workshop)

    html = client.get(order.get_absolute_url()).content.decode()

    documents = invoice_url(order, f"documents/{number(1)}")
    assert f"Please pay invoice {number(1)} for 80.00 EUR by bank transfer" in html
    assert f'href="{documents}/" rel="noreferrer">view and print</a>' in html
    assert f'href="{documents}.pdf" rel="noreferrer">download PDF</a>' in html


def test_order_page_of_free_order_has_no_invoice_link(client, workshop):
    order = paid_order(workshop, price="0.00")

    html = client.get(order.get_absolute_url()).content.decode()

    assert "download PDF" not in html
    assert client.get(invoice_url(order)).status_code == 404


# -- Who may see an invoice -------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["invoice/", "invoice.pdf"])
def test_invoice_with_wrong_secret_not_found(client, workshop, suffix):
    order = paid_order(workshop)
    issue_invoice(order=order)

    response = client.get(f"/orders/{order.code}/{'x' * 43}/{suffix}")
    unknown = client.get(f"/orders/NOSUCHOR/{order.secret}/{suffix}")

    assert response.status_code == 404
    assert unknown.status_code == 404


@pytest.mark.parametrize("suffix", ["invoice/", "invoice.pdf"])
def test_signed_in_buyer_gets_own_invoice(client, workshop, suffix):
    user = UserFactory()
    order = paid_order(workshop, user=user)
    issue_invoice(order=order)
    client.force_login(user)

    response = client.get(f"/tickets/mine/{order.code}/{suffix}")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert number(1) in (pdf_of(response) if suffix.endswith("pdf") else response.content.decode())


def test_invoice_of_order_bought_with_verified_address_needs_a_claim(client, workshop):
    user = UserFactory()
    EmailAddress.objects.create(user=user, email="ada@example.org", verified=True)
    order = paid_order(workshop)
    issue_invoice(order=order)
    client.force_login(user)

    before = client.get(f"/tickets/mine/{order.code}/invoice/")
    Order.objects.filter(pk=order.pk).update(user=user)  # as claiming it does
    after = client.get(f"/tickets/mine/{order.code}/invoice/")

    assert (before.status_code, after.status_code) == (404, 200)


@pytest.mark.parametrize("suffix", ["invoice/", "invoice.pdf"])
def test_other_users_invoice_refused(client, workshop, suffix):
    owner, other = UserFactory(), UserFactory()
    order = paid_order(workshop, user=owner)
    issue_invoice(order=order)
    client.force_login(other)

    response = client.get(f"/tickets/mine/{order.code}/{suffix}")

    assert response.status_code == 404
    assert number(1).encode() not in response.content


def test_my_invoice_needs_sign_in(client, workshop):
    order = paid_order(workshop)
    issue_invoice(order=order)

    response = client.get(f"/tickets/mine/{order.code}/invoice/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_see_invoice_in_admin(organiser_client, workshop):
    order = paid_order(workshop, buyer_name="Grace Hopper")
    issue_invoice(order=order)

    change = organiser_client.get(f"/admin/tickets/order/{order.pk}/change/").content.decode()
    page = organiser_client.get(f"/admin/tickets/order/{order.pk}/invoice/")
    pdf = organiser_client.get(f"/admin/tickets/order/{order.pk}/invoice.pdf")

    documents = f"/admin/tickets/order/{order.pk}/documents/{number(1)}"
    assert (
        f'Invoice <a href="{documents}/">{number(1)}</a> (<a href="{documents}.pdf">PDF</a>)'
        in change
    )
    assert page.status_code == 200
    assert "Grace Hopper" in page.content.decode()
    assert page["Cache-Control"].startswith("private, no-store")
    assert "Grace Hopper" in pdf_of(pdf)


@pytest.mark.parametrize("path", ["999999/invoice/", "not-a-number/invoice.pdf"])
def test_admin_invoice_of_unknown_order_not_found(organiser_client, workshop, path):
    assert organiser_client.get(f"/admin/tickets/order/{path}").status_code == 404


def test_admin_invoice_of_order_without_one_not_found(organiser_client, workshop):
    order = paid_order(workshop, status=Order.Status.PENDING)

    assert organiser_client.get(f"/admin/tickets/order/{order.pk}/invoice/").status_code == 404


def test_paid_date_shown_in_the_workshop_time_zone(client, workshop):
    workshop.time_zone = "Pacific/Auckland"
    workshop.save()
    order = paid_order(workshop, paid_at=dt.datetime(2030, 6, 1, 20, 0, tzinfo=dt.UTC))
    issue_invoice(order=order)

    html = client.get(invoice_url(order)).content.decode()

    assert "Paid 25.00 EUR on 2 June 2030 (by card)." in html


def test_admin_invoice_refused_to_non_staff(client, workshop):
    order = paid_order(workshop)
    issue_invoice(order=order)
    client.force_login(UserFactory())

    response = client.get(f"/admin/tickets/order/{order.pk}/invoice/")

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_admin_action_issues_invoices(organiser_client, workshop):
    paid, pending = paid_order(workshop), paid_order(workshop, status=Order.Status.PENDING)

    response = organiser_client.post(
        "/admin/tickets/order/",
        {"action": "issue_invoice", "_selected_action": [paid.pk, pending.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert f"Order {paid.code} has invoice {number(1)}." in html
    assert f"Order {pending.code} gets no invoice" in html
    assert list(Invoice.objects.values_list("order__code", flat=True)) == [paid.code]
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.get_change_message()) == (
        str(paid.pk),
        f"Invoice {number(1)} issued.",
    )


def test_admin_action_again_keeps_the_invoice(organiser_client, workshop):
    order = paid_order(workshop)
    issue_invoice(order=order)

    response = organiser_client.post(
        "/admin/tickets/order/",
        {"action": "issue_invoice", "_selected_action": [order.pk]},
        follow=True,
    )

    assert f"Order {order.code} has invoice {number(1)}." in response.content.decode()
    assert Invoice.objects.count() == 1
    assert not LogEntry.objects.exists()


# -- Billing details at checkout --------------------------------------------------------


def billing_checkout(ticket_type, **fields):
    from tests.tickets.test_stripe import checkout_data

    return {**checkout_data(ticket_type), "payment_method": "invoice", **fields}


def test_checkout_takes_billing_details(client, invoicing_workshop, no_stripe):
    ticket_type = TicketTypeFactory(workshop=invoicing_workshop, invoice_allowed=True)
    data = billing_checkout(
        ticket_type,
        billing_name="Example University",
        invoice_details="Main Street 1\n10115 Berlin",
        vat_number="de 123 456 789",
        po_number="PO 4711",
    )

    form = client.get(f"/tickets/checkout/?qty_{ticket_type.id}=1").content.decode()
    response = client.post("/tickets/checkout/", data)

    assert "<legend>Invoice details</legend>" in form
    assert '<label for="id_vat_number">VAT number (optional):</label>' in form
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert (order.billing_name, order.vat_number, order.po_number) == (
        "Example University",
        "DE123456789",
        "PO 4711",
    )
    invoice = order.invoice
    assert (invoice.buyer_name, invoice.billing_address, invoice.vat_number) == (
        "Example University",
        "Main Street 1\n10115 Berlin",
        "DE123456789",
    )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"invoice_details": "Main St 1", "vat_number": "DE 12<script>"}, "Enter the VAT number"),
        ({"invoice_details": "Main St 1", "po_number": "x" * 51}, "at most 50 characters"),
        ({"invoice_details": ""}, "Give the invoice address for payment by invoice."),
    ],
)
def test_checkout_refuses_bad_billing_details(client, workshop, no_stripe, fields, error):
    ticket_type = TicketTypeFactory(workshop=workshop, invoice_allowed=True)

    response = client.post("/tickets/checkout/", billing_checkout(ticket_type, **fields))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Order.objects.exists()


def test_card_checkout_billing_name_needs_an_address(client, workshop, paid_type, standin):
    from tests.tickets.test_stripe import checkout_data

    data = {**checkout_data(paid_type), "billing_name": "Example Lab"}

    refused = client.post("/tickets/checkout/", data)
    accepted = client.post("/tickets/checkout/", {**data, "invoice_details": "Lab 4, Berlin"})

    assert "Give the billing address for your invoice." in refused.content.decode()
    assert accepted.status_code == 302
    order = Order.objects.get()
    assert (order.billing_name, order.invoice_details) == ("Example Lab", "Lab 4, Berlin")


def test_free_checkout_asks_no_billing_details(client, workshop, free_type):
    html = client.get(f"/tickets/checkout/?qty_{free_type.id}=1").content.decode()

    assert "Invoice details" not in html
    assert "id_vat_number" not in html


# -- Query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 6])
def test_my_tickets_with_invoices_query_count_constant(
    client, workshop, django_assert_num_queries, size
):
    user = UserFactory()
    for _ in range(size):
        issue_invoice(order=paid_order(workshop, user=user))
    client.force_login(user)

    # Session, user, orders, invoices, credit notes, tickets with their types, footer pages,
    # the workshop, the header's speaker profile link.
    with django_assert_num_queries(9):
        response = client.get("/tickets/mine/")

    assert response.content.decode().count('(<a href="/tickets/mine/') == size


@pytest.mark.parametrize("size", [1, 6])
def test_admin_invoice_list_query_count_constant(
    organiser_client, workshop, django_assert_num_queries, size
):
    for _ in range(size):
        issue_invoice(order=paid_order(workshop))

    with django_assert_num_queries(9):
        response = organiser_client.get("/admin/tickets/invoice/")

    assert response.content.decode().count(f"INV-{YEAR}-") == size


# -- Concurrency (PostgreSQL) -------------------------------------------------------------


def on_postgres(test):
    """Mark a test that needs real concurrent transactions: PostgreSQL, committed data."""
    for mark in (
        pytest.mark.postgres,
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
        ),
        pytest.mark.django_db(transaction=True),
    ):
        test = mark(test)
    return test


def at_once(target, args_list):
    """Run ``target`` once per argument in its own thread and connection, all released together."""
    start, results, errors = threading.Barrier(len(args_list)), [], []

    def run(arg):
        try:
            start.wait()
            results.append(target(arg))
        except Exception as error:  # noqa: BLE001 - reported by the test's assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@on_postgres
def test_concurrent_invoices_numbered_without_gaps_or_repeats():
    # Two workshops of one organiser share the prefix, so only the sequence row orders them.
    workshops = [WorkshopFactory(), WorkshopFactory(is_current=False)]
    orders = [paid_order(workshops[n % 2]) for n in range(20)]

    invoices, errors = at_once(lambda order: issue_invoice(order=order).number, orders)

    assert errors == []
    assert sorted(invoices) == [number(n) for n in range(1, 21)]
    assert InvoiceSequence.objects.get().last_number == 20
    assert Invoice.objects.count() == 20


@on_postgres
def test_concurrent_issue_for_one_order_makes_one_invoice():
    order = paid_order(WorkshopFactory())

    invoices, errors = at_once(lambda _: issue_invoice(order=order).number, range(8))

    assert errors == []
    assert invoices == [number(1)] * 8
    assert Invoice.objects.count() == 1


# -- E-mail ------------------------------------------------------------------------------


def test_invoice_order_email_names_the_invoice(
    workshop, no_stripe, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = invoice_order(workshop)

    body = mailoutbox[0].body
    due = workshop.invoice_due_date(order.created_at)
    assert (
        f"Please pay invoice {number(1)} for 80.00 EUR by bank transfer by {due:%-d %B %Y}, "
        f"quoting {number(1)}; your tickets are valid once it is paid."
    ) in body
    assert f"Your invoice {number(1)} is attached; to print it or download it again:\n" in body
    assert f"{settings.SITE_URL}{order.get_absolute_url()}invoice/\n" in body


def test_free_order_email_mentions_no_invoice(
    workshop, free_type, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.create_order(
            workshop=workshop,
            ticket_counts={free_type.id: 1},
            buyer=BUYER,
            attendees=people(1),
            payment_method="free",
        )

    assert "invoice" not in mailoutbox[0].body.lower()


def test_pdf_library_is_not_loaded_until_a_pdf_is_asked_for():
    # fpdf2 with fontTools and HarfBuzz costs a process about 50 MB: workers load it on demand.
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup();"
        "from django.urls import resolve; resolve('/');"
        "import tickets.admin, tickets.invoices;"
        "print('fpdf' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "False"
