"""Credit notes: an issued invoice never changes; cancelling or refunding it issues one."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import TicketTypeFactory, UserFactory, WorkshopFactory
from tests.tickets.test_invoices import (
    YEAR,
    at_once,
    invoice_order,
    number,
    on_postgres,
    paid_order,
    pdf_of,
)
from tests.tickets.test_stripe import card_order
from tickets.models import (
    CreditNote,
    Invoice,
    InvoiceSequence,
    IssuedDocumentChanged,
    Order,
    OrderEvent,
)
from tickets.services import lifecycle, refunds
from tickets.services.credit_notes import (
    CreditRefused,
    credit_rest,
    fee_line,
    issue_credit_note,
    ticket_lines,
)
from tickets.services.invoices import issue_invoice

pytestmark = pytest.mark.django_db


def cn(n, prefix="CN"):
    return f"{prefix}-{YEAR}-{n:04d}"


def frozen(invoice):
    """Return every stored value of the invoice, to show it did not change."""
    return Invoice.objects.filter(pk=invoice.pk).values().get()


@pytest.fixture
def taxed(workshop):
    workshop.tax_rate = Decimal("19")
    workshop.organiser_name = "Workshop Society e.V."
    workshop.save()
    return workshop


# -- An issued invoice is never changed -----------------------------------------------------


def test_issued_invoice_refuses_save(workshop):
    invoice = issue_invoice(order=paid_order(workshop))
    invoice.total = Decimal("1.00")

    with pytest.raises(IssuedDocumentChanged, match=f"{number(1)} was issued"):
        invoice.save()

    assert Invoice.objects.get().total == Decimal("25.00")


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: qs.update(total=Decimal("1.00")),
        lambda qs: Invoice.objects.bulk_update(
            [setattr(i, "total", Decimal("1.00")) or i for i in qs], ["total"]
        ),
        lambda qs: qs.delete(),
        lambda qs: qs.get().delete(),
    ],
    ids=["update", "bulk_update", "queryset delete", "delete"],
)
def test_issued_invoice_refuses_every_change(workshop, change):
    issue_invoice(order=paid_order(workshop))

    with pytest.raises(IssuedDocumentChanged), transaction.atomic():
        change(Invoice.objects.all())

    assert Invoice.objects.get().total == Decimal("25.00")


def test_credit_note_refuses_change(workshop):
    order = paid_order(workshop)
    issue_invoice(order=order)
    note = credit_rest(order=order, reason="Test.")

    with pytest.raises(IssuedDocumentChanged):
        CreditNote.objects.filter(pk=note.pk).update(total=Decimal("1.00"))
    with pytest.raises(IssuedDocumentChanged):
        note.save()


# -- Cancelling and refunding through today's paths ------------------------------------------


def test_cancelled_invoice_order_gets_a_full_credit_note(taxed, no_stripe, organiser):
    order = invoice_order(taxed)
    invoice = order.invoice
    before = frozen(invoice)

    lifecycle.cancel_order(order=order, actor=organiser)

    note = CreditNote.objects.get()
    assert (note.number, note.invoice, note.order) == (cn(1), invoice, order)
    assert note.lines == invoice.lines
    assert (note.subtotal, note.discount, note.total) == (
        Decimal("80.00"),
        Decimal("0.00"),
        Decimal("80.00"),
    )
    assert (note.tax_rate, note.tax_amount) == (invoice.tax_rate, invoice.tax_amount)
    assert (note.seller_name, note.buyer_name, note.billing_address) == (
        "Workshop Society e.V.",
        "Ada Buyer",
        "Example University\nMain Street 1\n10115 Berlin",
    )
    assert note.settlement == CreditNote.Settlement.NOTHING_DUE
    assert note.reason == "Order cancelled."
    assert frozen(invoice) == before
    event = OrderEvent.objects.filter(order=order).last()
    assert event.note == (
        f"Credit note {cn(1)} issued for 80.00 EUR against invoice {number(1)}: Order cancelled."
    )
    assert event.actor == organiser


def test_cancelled_paid_invoice_order_credit_returns_money_by_transfer(workshop, no_stripe):
    order = invoice_order(workshop)
    lifecycle.mark_invoice_paid(order=order)

    lifecycle.cancel_order(order=order)

    assert CreditNote.objects.get().settlement == CreditNote.Settlement.BANK_TRANSFER


def test_cancelled_card_order_without_invoice_gets_no_credit_note(workshop, paid_type, standin):
    order = card_order(workshop, paid_type)

    lifecycle.cancel_order(order=order)

    assert not CreditNote.objects.exists()


def test_card_refund_credits_the_invoice(workshop, paid_type, standin, organiser):
    order = card_order(workshop, paid_type, quantity=2)
    standin.pay(order.stripe_session_id)
    invoice = Invoice.objects.get(order=order)
    before = frozen(invoice)

    refunds.refund_order(order=order, actor=organiser)

    note = CreditNote.objects.get()
    assert (note.number, note.total, note.settlement) == (
        cn(1),
        Decimal("50.00"),
        CreditNote.Settlement.CARD,
    )
    assert note.reason == "Refunded in full by an organiser."
    assert frozen(invoice) == before


def test_late_payment_refund_without_invoice_gets_no_credit_note(workshop, standin):
    ticket_type = TicketTypeFactory(workshop=workshop, capacity=1)
    late = card_order(workshop, ticket_type)
    Order.objects.filter(pk=late.pk).update(reserved_until=timezone.now() - dt.timedelta(minutes=1))
    card_order(workshop, ticket_type)

    standin.pay(late.stripe_session_id)

    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    assert not CreditNote.objects.exists()


def test_partial_refunds_in_stripe_credit_what_each_refunds(taxed, standin):
    ticket_type = TicketTypeFactory(workshop=taxed, price="25.00")
    order = card_order(taxed, ticket_type, quantity=2)
    standin.pay(order.stripe_session_id)
    charge_id = standin.charge_for(order.stripe_session_id)["id"]

    standin.refund(charge_id, 1000)
    standin.refund(charge_id, 1500)
    standin.refund(charge_id)

    invoice = Invoice.objects.get(order=order)
    notes = list(CreditNote.objects.order_by("number"))
    assert [(n.number, n.total, n.tax_amount) for n in notes] == [
        (cn(1), Decimal("10.00"), Decimal("1.60")),
        (cn(2), Decimal("15.00"), Decimal("2.39")),
        # The last one takes the rest of the tax, so the notes reverse the invoice's exactly.
        (cn(3), Decimal("25.00"), invoice.tax_amount - Decimal("3.99")),
    ]
    assert [n.lines[0]["description"] for n in notes] == [
        f"Part of invoice {number(1)}",
        f"Part of invoice {number(1)}",
        f"Rest of invoice {number(1)}",
    ]
    assert sum(n.tax_amount for n in notes) == invoice.tax_amount == Decimal("7.98")


# -- issue_credit_note: amounts, lines and refusals ------------------------------------------


def test_credit_note_for_some_tickets_minus_a_fee(taxed):
    order = paid_order(taxed, quantity=3, price="40.00")
    issue_invoice(order=order)
    tickets = list(order.tickets.all())[:2]

    lines = [*ticket_lines(order=order, tickets=tickets), fee_line(order=order, fee="5.00")]
    note = issue_credit_note(order=order, amount=Decimal("75.00"), lines=lines, reason="Two off.")

    assert note.lines == [
        {
            "description": f"{taxed.title}: Regular",
            "quantity": 2,
            "unit_price": "40.00",
            "amount": "80.00",
        },
        {
            "description": "Cancellation fee kept",
            "quantity": 1,
            "unit_price": "-5.00",
            "amount": "-5.00",
        },
    ]
    # 75 * 19 / 119 = 11.97...
    assert (note.subtotal, note.total, note.tax_amount) == (
        Decimal("75.00"),
        Decimal("75.00"),
        Decimal("11.97"),
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "must be more than zero"),
        ("-5.00", "must be more than zero"),
        ("NaN", "must be more than zero"),
        ("abc", "must be a number"),
        ("1.005", "Amounts in EUR have no smaller units."),
        ("25.01", f"Invoice {number(1)} has 25.00 EUR left to credit, less than 25.01 EUR."),
    ],
)
def test_credit_note_refused_for_a_bad_amount(workshop, amount, message):
    order = paid_order(workshop)
    issue_invoice(order=order)

    with pytest.raises(CreditRefused, match=message):
        issue_credit_note(order=order, amount=amount, reason="Refund.")

    assert not CreditNote.objects.exists()
    assert not InvoiceSequence.objects.filter(series="credit_note").exists()


def test_credit_note_refused_above_what_is_left(workshop):
    order = paid_order(workshop)
    issue_invoice(order=order)
    issue_credit_note(order=order, amount="20.00", reason="Most of it.")

    with pytest.raises(CreditRefused, match="has 5.00 EUR left to credit, less than 6.00 EUR"):
        issue_credit_note(order=order, amount="6.00", reason="Too much.")

    assert CreditNote.objects.count() == 1


def test_credit_note_refused_when_lines_do_not_add_up(workshop):
    order = paid_order(workshop, quantity=2)
    issue_invoice(order=order)
    lines = ticket_lines(order=order, tickets=order.tickets.all()[:1])

    with pytest.raises(CreditRefused, match="The lines add up to 25.00, not 30.00 EUR."):
        issue_credit_note(order=order, amount="30.00", lines=lines, reason="Refund.")

    assert not CreditNote.objects.exists()


def test_credit_rest_of_fully_credited_invoice_issues_nothing(workshop):
    order = paid_order(workshop)
    issue_invoice(order=order)
    credit_rest(order=order, reason="All.")

    assert credit_rest(order=order, reason="Again.") is None
    assert CreditNote.objects.count() == 1


def test_order_without_invoice_gets_no_credit_note(workshop):
    order = paid_order(workshop)

    assert issue_credit_note(order=order, amount="5.00", reason="Refund.") is None
    assert credit_rest(order=order, reason="Refund.") is None


# -- Numbers -------------------------------------------------------------------------------


def test_credit_notes_count_apart_from_invoices(workshop):
    orders = [paid_order(workshop) for _ in range(3)]
    for order in orders:
        issue_invoice(order=order)

    numbers = [credit_rest(order=order, reason="Refund.").number for order in orders[:2]]

    assert numbers == [cn(1), cn(2)]
    assert issue_invoice(order=paid_order(workshop)).number == number(4)


def test_credit_note_prefix_from_the_workshop(workshop):
    workshop.credit_note_prefix = "STORNO"
    workshop.save()
    order = paid_order(workshop)
    issue_invoice(order=order)

    assert credit_rest(order=order, reason="Refund.").number == cn(1, prefix="STORNO")


def test_credit_note_prefix_must_differ_from_the_invoices(workshop):
    from django.core.exceptions import ValidationError

    workshop.credit_note_prefix = workshop.invoice_prefix

    with pytest.raises(ValidationError, match="Use a prefix other than the invoices' own."):
        workshop.full_clean()


def test_credit_note_number_given_back_when_its_transaction_fails(workshop):
    first, second = paid_order(workshop), paid_order(workshop)
    issue_invoice(order=first)
    issue_invoice(order=second)

    with pytest.raises(RuntimeError), transaction.atomic():
        credit_rest(order=first, reason="Refund.")
        raise RuntimeError("the refund's transaction fails after the credit note")

    assert credit_rest(order=second, reason="Refund.").number == cn(1)


def test_paid_after_its_invoice_was_cancelled_gets_a_new_invoice(workshop, no_stripe):
    order = invoice_order(workshop)
    credit_rest(order=order, reason="Expired unpaid.")

    lifecycle.mark_invoice_paid(order=order)

    assert [i.number for i in Invoice.objects.order_by("id")] == [number(1), number(2)]
    assert order.invoice.number == number(2)


# -- Pages and PDF -------------------------------------------------------------------------


def document_url(order, document, suffix="/"):
    return f"{order.get_absolute_url()}documents/{document}{suffix}"


def test_credit_note_page_shows_what_is_credited(client, taxed, no_stripe):
    order = invoice_order(taxed, billing={"vat_number": "DE123456789"})
    lifecycle.cancel_order(order=order)

    response = client.get(document_url(order, cn(1)))

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert f'<h1 id="invoice-heading">Credit note {cn(1)}</h1>' in html
    assert f"<dt>Cancels</dt><dd>Invoice {number(1)} of " in html
    assert "<dt>Reason</dt><dd>Order cancelled.</dd>" in html
    assert "Ada Buyer<br>Example University<br>Main Street 1<br>10115 Berlin" in html
    assert "<dt>VAT number</dt><dd>DE123456789</dd>" in html
    assert (
        f'<tr><td>{taxed.title}: Academic</td><td class="num">2</td>'
        '<td class="num">−40.00 EUR</td><td class="num">−80.00 EUR</td></tr>'
    ) in html
    assert 'Total credited</th><td class="num">−80.00 EUR</td>' in html
    assert 'Included VAT 19%</th><td class="num">−12.77 EUR</td>' in html
    assert f"Invoice {number(1)} is cancelled: nothing is due." in html
    assert f'href="{document_url(order, cn(1), ".pdf")}"' in html


def test_credit_note_pdf_reads_back(client, taxed, paid_type, standin):
    order = card_order(taxed, paid_type, quantity=2)
    standin.pay(order.stripe_session_id)
    refunds.refund_order(order=order)

    response = client.get(document_url(order, cn(1), ".pdf"))

    text = pdf_of(response)
    assert response["Content-Disposition"] == f'attachment; filename="credit-note-{cn(1)}.pdf"'
    assert f"Credit note {cn(1)}" in text
    assert f"Cancels Invoice {number(1)} of" in text
    assert "Reason Refunded in full by an organiser." in text
    assert "2 −25.00 EUR −50.00 EUR" in text
    assert "Total credited −50.00 EUR" in text
    assert "Included VAT 19% −7.98 EUR" in text
    assert "50.00 EUR refunded to the card used for payment." in text


def test_invoice_pdf_is_the_same_after_a_refund_but_its_status(
    client, workshop, paid_type, standin
):
    order = card_order(workshop, paid_type)
    standin.pay(order.stripe_session_id)
    before = pdf_of(client.get(document_url(order, number(1), ".pdf")))

    refunds.refund_order(order=order)

    after = pdf_of(client.get(document_url(order, number(1), ".pdf")))
    html = client.get(document_url(order, number(1))).content.decode()
    assert "Refunded" not in after and "Balance" not in after
    assert after.split("Paid 25.00 EUR")[0] == before.split("Paid 25.00 EUR")[0]
    assert f"Credited since by credit note {cn(1)}: 25.00 EUR." in after.replace("\n", " ")
    assert f"Credited since by credit note {cn(1)}: 25.00 EUR." in html


def test_invoice_of_cancelled_order_names_its_credit_note(client, workshop, no_stripe):
    order = invoice_order(workshop)
    lifecycle.cancel_order(order=order)

    html = client.get(f"{order.get_absolute_url()}invoice/").content.decode()

    assert f"Cancelled by credit note {cn(1)}: nothing is due on this invoice." in html
    assert "void" not in html


def test_order_page_lists_invoice_and_credit_notes(client, workshop, no_stripe):
    order = invoice_order(workshop)
    lifecycle.cancel_order(order=order)

    html = client.get(order.get_absolute_url()).content.decode()

    assert (
        f"Credit note {cn(1)} (80.00 EUR of invoice {number(1)}): "
        f'<a href="{document_url(order, cn(1))}" rel="noreferrer">view and print</a> · '
        f'<a href="{document_url(order, cn(1), ".pdf")}" rel="noreferrer">download PDF</a>'
    ) in html
    assert f'<a href="{document_url(order, number(1))}" rel="noreferrer">' in html


def test_my_tickets_lists_credit_notes(client, workshop, no_stripe):
    user = UserFactory()
    order = invoice_order(workshop, user=user)
    lifecycle.cancel_order(order=order)
    client.force_login(user)

    html = client.get("/tickets/mine/").content.decode()
    page = client.get(f"/tickets/mine/{order.code}/documents/{cn(1)}/")
    pdf = client.get(f"/tickets/mine/{order.code}/documents/{cn(1)}.pdf")

    assert (
        f'<a href="/tickets/mine/{order.code}/documents/{cn(1)}/">credit note {cn(1)}</a>' in html
    )
    assert f"Credit note {cn(1)}" in page.content.decode()
    assert f"Credit note {cn(1)}" in pdf_of(pdf)


def test_other_users_credit_note_not_found(client, workshop, no_stripe):
    order = invoice_order(workshop, user=UserFactory())
    lifecycle.cancel_order(order=order)
    client.force_login(UserFactory())

    response = client.get(f"/tickets/mine/{order.code}/documents/{cn(1)}/")

    assert response.status_code == 404
    assert f"Credit note {cn(1)}" not in response.content.decode()


@pytest.mark.parametrize("document", [cn(2), "NOPE", "CN%00"])
def test_unknown_document_not_found(client, workshop, no_stripe, document):
    order = invoice_order(workshop)
    lifecycle.cancel_order(order=order)

    assert client.get(document_url(order, document)).status_code == 404


def test_credit_note_of_another_order_not_found(client, workshop, no_stripe):
    cancelled, other = invoice_order(workshop), invoice_order(workshop)
    lifecycle.cancel_order(order=cancelled)

    assert client.get(document_url(other, cn(1))).status_code == 404


def test_staff_see_credit_notes_in_order_admin(organiser_client, workshop, no_stripe):
    order = invoice_order(workshop)
    lifecycle.cancel_order(order=order)

    change = organiser_client.get(f"/admin/tickets/order/{order.pk}/change/").content.decode()
    page = organiser_client.get(f"/admin/tickets/order/{order.pk}/documents/{cn(1)}/")
    pdf = organiser_client.get(f"/admin/tickets/order/{order.pk}/documents/{cn(1)}.pdf")
    listing = organiser_client.get("/admin/tickets/creditnote/").content.decode()

    documents = f"/admin/tickets/order/{order.pk}/documents/{cn(1)}"
    assert (
        f'Credit note <a href="{documents}/">{cn(1)}</a> (<a href="{documents}.pdf">PDF</a>): '
        f"80.00 EUR of invoice {number(1)} (Nothing was paid: nothing is due; Order cancelled.)"
    ) in change
    assert f"Credit note {cn(1)}" in page.content.decode()
    assert page["Cache-Control"].startswith("private, no-store")
    assert f"Credit note {cn(1)}" in pdf_of(pdf)
    assert cn(1) in listing


def test_credit_note_admin_is_read_only(organiser_client, workshop, no_stripe):
    order = invoice_order(workshop)
    lifecycle.cancel_order(order=order)
    note = CreditNote.objects.get()

    response = organiser_client.post(
        f"/admin/tickets/creditnote/{note.pk}/change/", {"total": "1.00", "reason": "x"}
    )
    deleted = organiser_client.post(f"/admin/tickets/creditnote/{note.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert deleted.status_code == 403
    assert CreditNote.objects.get().total == Decimal("80.00")


@pytest.mark.parametrize("size", [1, 6])
def test_my_tickets_with_credit_notes_query_count_constant(
    client, workshop, no_stripe, django_assert_num_queries, size
):
    user = UserFactory()
    for _ in range(size):
        lifecycle.cancel_order(order=invoice_order(workshop, user=user))
    client.force_login(user)

    # Session, user, orders, invoices, credit notes, tickets with their types, footer pages,
    # the workshop, the header's speaker profile link.
    with django_assert_num_queries(9):
        response = client.get("/tickets/mine/")

    assert response.content.decode().count(">credit note CN-") == size


@pytest.mark.parametrize("size", [1, 6])
def test_admin_credit_note_list_query_count_constant(
    organiser_client, workshop, no_stripe, django_assert_num_queries, size
):
    for _ in range(size):
        lifecycle.cancel_order(order=invoice_order(workshop))

    with django_assert_num_queries(9):
        response = organiser_client.get("/admin/tickets/creditnote/")

    assert response.content.decode().count(f"CN-{YEAR}-") == size


# -- Concurrency (PostgreSQL) ----------------------------------------------------------------


@on_postgres
def test_concurrent_credit_notes_numbered_without_gaps_or_repeats():
    # Two workshops of one organiser share the prefix, so only the sequence row orders them.
    workshops = [WorkshopFactory(), WorkshopFactory(is_current=False)]
    orders = [paid_order(workshops[n % 2]) for n in range(20)]
    for order in orders:
        issue_invoice(order=order)

    notes, errors = at_once(lambda order: credit_rest(order=order, reason="Refund.").number, orders)

    assert errors == []
    assert sorted(notes) == [cn(n) for n in range(1, 21)]
    sequence = InvoiceSequence.objects.get(series=InvoiceSequence.Series.CREDIT_NOTE)
    assert sequence.last_number == 20
    assert InvoiceSequence.objects.get(series=InvoiceSequence.Series.INVOICE).last_number == 20


@on_postgres
def test_concurrent_credits_of_one_invoice_never_exceed_it():
    order = paid_order(WorkshopFactory(), quantity=4)
    issue_invoice(order=order)

    def credit(_):
        try:
            return issue_credit_note(order=order, amount="30.00", reason="Refund.").number
        except CreditRefused:
            return "refused"

    results, errors = at_once(credit, range(8))

    assert errors == []
    # 100.00 invoiced: three credits of 30.00 fit, the other five are refused.
    assert sorted(results) == [cn(1), cn(2), cn(3), *["refused"] * 5]
    assert sum(n.total for n in CreditNote.objects.all()) == Decimal("90.00")
