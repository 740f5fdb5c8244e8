"""Attendee and order exports from the admin: contents, filters, permissions, query counts."""

import codecs
import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory, UserFactory
from tickets.models import Order

pytestmark = pytest.mark.django_db

ATTENDEES_CSV = "/admin/tickets/ticket/export/csv/"
ATTENDEES_XLSX = "/admin/tickets/ticket/export/xlsx/"
ORDERS_CSV = "/admin/tickets/order/export/csv/"
ORDERS_XLSX = "/admin/tickets/order/export/xlsx/"
ATTENDEE_HEADER = [
    "Name",
    "E-mail",
    "Ticket type",
    "Ticket code",
    "Order code",
    "Order status",
    "Checked in",
]
ORDER_HEADER = [
    "Code",
    "Buyer",
    "E-mail",
    "Status",
    "Payment method",
    "Tickets",
    "Subtotal",
    "Discount",
    "Total",
    "Refunded",
    "Currency",
    "Created",
    "Paid",
]
ARRIVED = dt.datetime(2030, 12, 2, 12, 5, tzinfo=dt.UTC)
CREATED = dt.datetime(2030, 11, 1, 9, 30, tzinfo=dt.UTC)


def csv_rows(response):
    assert response.content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response):
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


@pytest.fixture
def sales(workshop):
    """Two paid orders and an unpaid invoice order; times in Berlin (UTC+1 in December)."""
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    student = TicketTypeFactory(workshop=workshop, name="Student", price="10.00")
    paid = OrderFactory(workshop=workshop, code="PAIDAAAA", buyer_name="Ada Buyer")
    TicketFactory(
        order=paid,
        ticket_type=regular,
        attendee_name="Grace Hopper",
        attendee_email="grace@example.org",
        code="GRACE00001",
        checked_in_at=ARRIVED,
    )
    TicketFactory(
        order=paid,
        ticket_type=student,
        attendee_name="Émile Ünal",
        attendee_email="emile@example.org",
        code="EMILE00001",
        price="10.00",
    )
    invoice = OrderFactory(
        workshop=workshop,
        code="INVOBBBB",
        buyer_name="Bob Bursar",
        buyer_email="bob@example.org",
        status=Order.Status.PENDING,
        payment_method=Order.Method.INVOICE,
    )
    TicketFactory(
        order=invoice,
        ticket_type=regular,
        attendee_name="Linus Pending",
        attendee_email="linus@example.org",
        code="LINUS00001",
    )
    Order.objects.update(created_at=CREATED)
    Order.objects.filter(pk=paid.pk).update(paid_at=CREATED + dt.timedelta(minutes=5))
    return {"paid": paid, "invoice": invoice, "regular": regular, "student": student}


def test_attendee_csv_lists_every_ticket_in_the_workshops_zone(organiser_client, workshop, sales):
    response = organiser_client.get(ATTENDEES_CSV)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{workshop.slug}-attendees-{today}.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert csv_rows(response) == [
        ATTENDEE_HEADER,
        [
            "Grace Hopper",
            "grace@example.org",
            "Regular",
            "GRACE00001",
            "PAIDAAAA",
            "Paid",
            "2030-12-02 13:05",
        ],
        ["Émile Ünal", "emile@example.org", "Student", "EMILE00001", "PAIDAAAA", "Paid", ""],
        [
            "Linus Pending",
            "linus@example.org",
            "Regular",
            "LINUS00001",
            "INVOBBBB",
            "Pending payment",
            "",
        ],
    ]


def test_attendee_xlsx_holds_the_same_rows_with_typed_times(organiser_client, workshop, sales):
    response = organiser_client.get(ATTENDEES_XLSX)

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].endswith(f'-attendees-{timezone.localdate()}.xlsx"')
    assert xlsx_rows(response) == [
        ATTENDEE_HEADER,
        [
            "Grace Hopper",
            "grace@example.org",
            "Regular",
            "GRACE00001",
            "PAIDAAAA",
            "Paid",
            dt.datetime(2030, 12, 2, 13, 5),
        ],
        ["Émile Ünal", "emile@example.org", "Student", "EMILE00001", "PAIDAAAA", "Paid", None],
        [
            "Linus Pending",
            "linus@example.org",
            "Regular",
            "LINUS00001",
            "INVOBBBB",
            "Pending payment",
            None,
        ],
    ]


def test_attendee_xlsx_has_a_bold_frozen_header(organiser_client, sales):
    book = openpyxl.load_workbook(io.BytesIO(organiser_client.get(ATTENDEES_XLSX).content))

    sheet = book.active
    assert sheet.title == "attendees"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet["G2"].number_format == "yyyy-mm-dd hh:mm"


def test_attendee_export_honours_search(organiser_client, sales):
    response = organiser_client.get(ATTENDEES_CSV, {"q": "grace"})

    assert [row[0] for row in csv_rows(response)] == ["Name", "Grace Hopper"]


def test_attendee_export_honours_list_filters(organiser_client, sales):
    query = {"ticket_type__id__exact": sales["regular"].pk, "order__status__exact": "paid"}

    response = organiser_client.get(ATTENDEES_XLSX, query)

    assert [row[0] for row in xlsx_rows(response)] == ["Name", "Grace Hopper"]


def test_attendee_export_honours_checked_in_filter_and_ignores_page(organiser_client, sales):
    response = organiser_client.get(ATTENDEES_CSV, {"checked_in_at__isempty": "1", "p": "7"})

    assert [row[0] for row in csv_rows(response)] == ["Name", "Émile Ünal", "Linus Pending"]


def test_attendee_export_with_no_rows_is_header_only(organiser_client, sales):
    csv_response = organiser_client.get(ATTENDEES_CSV, {"q": "nobody"})
    xlsx_response = organiser_client.get(ATTENDEES_XLSX, {"q": "nobody"})

    assert csv_response.content == codecs.BOM_UTF8 + (",".join(ATTENDEE_HEADER) + "\r\n").encode()
    assert xlsx_rows(xlsx_response) == [ATTENDEE_HEADER]


def test_export_with_a_broken_filter_says_so(organiser_client, sales):
    response = organiser_client.get(ATTENDEES_CSV, {"order__status__exact": "paid", "bogus": "1"})

    assert response.status_code == 400
    assert b"filters are not valid" in response.content


def test_export_of_an_unknown_format_is_not_found(organiser_client, sales):
    assert organiser_client.get("/admin/tickets/ticket/export/pdf/").status_code == 404
    assert organiser_client.get("/admin/tickets/order/export/ods/").status_code == 404


def test_export_refuses_formula_injection(organiser_client, workshop):
    order = OrderFactory(workshop=workshop, code="EVILCCCC", buyer_name="@SUM(1+1)")
    names = ['=HYPERLINK("http://x")', "+1", "-2+3", "@cmd", "\tTAB", "Ada = fine"]
    for n, name in enumerate(names):
        TicketFactory(order=order, attendee_name=name, attendee_email=f"e{n}@example.org")

    rows = csv_rows(organiser_client.get(ATTENDEES_CSV))
    sheet = xlsx_rows(organiser_client.get(ATTENDEES_XLSX))
    orders = csv_rows(organiser_client.get(ORDERS_CSV))

    assert [row[0] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2+3",
        "'@cmd",
        "'\tTAB",
        "Ada = fine",
    ]
    # In the Excel file every text is a string cell, never a formula.
    assert [row[0] for row in sheet[1:]] == names
    book = openpyxl.load_workbook(io.BytesIO(organiser_client.get(ATTENDEES_XLSX).content))
    assert {row[0].data_type for row in book.active.iter_rows(min_row=2)} == {"s"}
    assert orders[1][1] == "'@SUM(1+1)"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("x;=1+1", "x;'=1+1"),
        ("x\t=1+1", "x\t'=1+1"),
        ("x|@SUM(A1)", "x|'@SUM(A1)"),
        (" =1+1", "' =1+1"),
        ("x; \t-2+3", "x;' \t'-2+3"),
        ("x\r\n+1\n=2", "x\r'\n'+1\n'=2"),
        ("a,=b;=c", "a,'=b;'=c"),
        ("Ada-Lovelace; Bo Ek", "Ada-Lovelace; Bo Ek"),
        ("https://scholar.social/@ada", "https://scholar.social/@ada"),
    ],
)
def test_export_neutralises_formulas_after_any_separator(organiser_client, workshop, text, written):
    TicketFactory(order=OrderFactory(workshop=workshop), attendee_name=text)

    content = organiser_client.get(ATTENDEES_CSV).content.decode("utf-8-sig")

    assert csv_rows(organiser_client.get(ATTENDEES_CSV))[1][0] == written
    # Read as a spreadsheet guessing another separator would, quotes ignored: no cell is a formula.
    for separator in [",", ";", "\t", "|", "\n"]:
        cells = content.replace('"', "").replace("\r", "\n").split(separator)
        formulas = [cell for cell in cells if cell.lstrip().startswith(("=", "+", "-", "@"))]
        assert formulas == []


def test_export_drops_control_characters(organiser_client, workshop):
    TicketFactory(order=OrderFactory(workshop=workshop), attendee_name="Ada\x0bLovelace\x01")

    assert csv_rows(organiser_client.get(ATTENDEES_CSV))[1][0] == "AdaLovelace"
    assert xlsx_rows(organiser_client.get(ATTENDEES_XLSX))[1][0] == "AdaLovelace"


def test_order_csv_lists_money_and_dates(organiser_client, workshop, sales):
    Order.objects.filter(pk=sales["paid"].pk).update(
        subtotal="35.00", total="35.00", refunded_amount="10.00"
    )

    response = organiser_client.get(ORDERS_CSV, {"o": "1"})

    assert response["Content-Disposition"] == (
        f'attachment; filename="{workshop.slug}-orders-{timezone.localdate()}.csv"'
    )
    assert csv_rows(response) == [
        ORDER_HEADER,
        [
            "INVOBBBB",
            "Bob Bursar",
            "bob@example.org",
            "Pending payment",
            "Invoice / bank transfer",
            "1",
            "25.00",
            "0.00",
            "25.00",
            "0.00",
            "EUR",
            "2030-11-01 10:30",
            "",
        ],
        [
            "PAIDAAAA",
            "Ada Buyer",
            "ada@example.org",
            "Paid",
            "Card (Stripe)",
            "2",
            "35.00",
            "0.00",
            "35.00",
            "10.00",
            "EUR",
            "2030-11-01 10:30",
            "2030-11-01 10:35",
        ],
    ]


def test_order_xlsx_has_numbers_as_numbers(organiser_client, sales):
    rows = xlsx_rows(organiser_client.get(ORDERS_XLSX, {"status__exact": "paid"}))

    assert rows == [
        ORDER_HEADER,
        [
            "PAIDAAAA",
            "Ada Buyer",
            "ada@example.org",
            "Paid",
            "Card (Stripe)",
            2,
            25,
            0,
            25,
            0,
            "EUR",
            dt.datetime(2030, 11, 1, 10, 30),
            dt.datetime(2030, 11, 1, 10, 35),
        ],
    ]


def test_order_export_search_by_attendee_lists_each_order_once(organiser_client, sales):
    rows = csv_rows(organiser_client.get(ORDERS_CSV, {"q": "example.org"}))

    assert sorted(row[0] for row in rows[1:]) == ["INVOBBBB", "PAIDAAAA"]
    assert [row[5] for row in rows[1:] if row[0] == "PAIDAAAA"] == ["2"]


def test_order_export_honours_list_filter(organiser_client, sales):
    rows = csv_rows(organiser_client.get(ORDERS_CSV, {"payment_method__exact": "invoice"}))

    assert [row[0] for row in rows] == ["Code", "INVOBBBB"]


def test_order_export_with_no_rows_is_header_only(organiser_client, workshop):
    rows = csv_rows(organiser_client.get(ORDERS_CSV))

    assert rows == [ORDER_HEADER]


def test_export_actions_export_only_the_selected_rows(organiser_client, sales):
    emile = sales["paid"].tickets.get(code="EMILE00001")

    response = organiser_client.post(
        "/admin/tickets/ticket/",
        {"action": "export_selected_xlsx", "_selected_action": [emile.pk]},
    )
    orders = organiser_client.post(
        "/admin/tickets/order/",
        {"action": "export_selected_csv", "_selected_action": [sales["invoice"].pk]},
    )

    assert [row[0] for row in xlsx_rows(response)] == ["Name", "Émile Ünal"]
    assert [row[0] for row in csv_rows(orders)] == ["Code", "INVOBBBB"]


def test_changelists_link_to_exports_with_their_current_filters(organiser_client, sales):
    tickets = organiser_client.get("/admin/tickets/ticket/", {"q": "grace", "p": "0"})
    orders = organiser_client.get("/admin/tickets/order/", {"status__exact": "paid"})

    tickets_html, orders_html = tickets.content.decode(), orders.content.decode()
    assert f'<a href="{ATTENDEES_CSV}?q=grace">Export CSV</a>' in tickets_html
    assert f'<a href="{ATTENDEES_XLSX}?q=grace">Export Excel</a>' in tickets_html
    assert '<a href="/admin/tickets/ticket/badges/?q=grace">Name badges</a>' in tickets_html
    assert f'<a href="{ORDERS_CSV}?status__exact=paid">Export CSV</a>' in orders_html
    assert f'<a href="{ORDERS_XLSX}?status__exact=paid">Export Excel</a>' in orders_html


@pytest.mark.parametrize("url", [ATTENDEES_CSV, ATTENDEES_XLSX, ORDERS_CSV])
def test_export_sends_anonymous_visitors_to_sign_in(client, sales, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/tickets/")
    assert "Content-Disposition" not in response


@pytest.mark.parametrize("url", [ATTENDEES_CSV, ORDERS_CSV])
def test_export_refuses_signed_in_non_staff(client, sales, url):
    client.force_login(UserFactory(username="buyer"))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "Content-Disposition" not in response


@pytest.mark.parametrize("url", [ATTENDEES_CSV, ATTENDEES_XLSX, ORDERS_CSV, ORDERS_XLSX])
def test_export_is_forbidden_to_staff_without_view_permission(client, sales, url):
    client.force_login(UserFactory(username="helper", is_staff=True))

    assert client.get(url).status_code == 403


def test_export_needs_the_view_permission_of_its_own_model(client, sales):
    helper = UserFactory(username="helper", is_staff=True)
    helper.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(helper)

    assert client.get(ATTENDEES_CSV).status_code == 200
    assert client.get(ORDERS_CSV).status_code == 403


def make_sales(workshop, count):
    ticket_type = TicketTypeFactory(workshop=workshop)
    for _ in range(count):
        order = OrderFactory(workshop=workshop)
        TicketFactory.create_batch(2, order=order, ticket_type=ticket_type)


@pytest.mark.parametrize("count", [1, 12])
@pytest.mark.parametrize("url", [ATTENDEES_CSV, ATTENDEES_XLSX])
def test_attendee_export_query_count_is_constant(
    organiser_client, workshop, django_assert_num_queries, count, url
):
    make_sales(workshop, count)

    # Session, user, filter choices, two counts (the list's own), the current workshop, rows.
    with django_assert_num_queries(7):
        response = organiser_client.get(url, {"order__status__exact": "paid"})

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 12])
def test_order_export_query_count_is_constant(
    organiser_client, workshop, django_assert_num_queries, count
):
    make_sales(workshop, count)

    with django_assert_num_queries(7):
        response = organiser_client.get(ORDERS_CSV, {"q": "example.org"})

    assert len(csv_rows(response)) == count + 1
    assert csv_rows(response)[1][8] == str(Decimal("25.00"))
