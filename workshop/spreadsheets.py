"""Spreadsheet exports of admin lists: CSV for any spreadsheet program, XLSX for Excel.

An app describes an export as a ``Table`` (its columns and a function from a queryset to
rows) in its own ``exports.py``; ``SpreadsheetExportMixin`` offers it on the admin's list,
as currently searched and filtered, and as actions on the selected rows.
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.text import slugify

from workshop.current import current_workshop

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell that starts like this as a formula (OWASP "CSV injection"), also
# after spaces it may trim. A program that guesses the separator (semicolon, tab, bar) or splits
# lines itself starts a new cell after any of these, so each such piece of a text counts as a
# cell: a quote goes at the start of every piece that could be read as a formula.
FORMULA_CELL = re.compile(r"(^|[,;|\t\r\n])(?=\s*[=+\-@]|[\t\r])")
# Control characters are not allowed in XLSX files and mean nothing in a list of people.
CONTROL_CHARACTERS = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])
TIME_FORMAT = "%Y-%m-%d %H:%M"
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel"}
# The changelist's page number is not a filter: an export holds every matching row.
NOT_FILTERS = ("p",)


@dataclass(frozen=True)
class Table:
    """An export: a name for its file, its column headings and its rows from a queryset."""

    name: str
    header: tuple
    rows: Callable
    formats: tuple = ("csv",)


def clean_text(value):
    """Return the text without control characters, with a quote before each formula start."""
    return FORMULA_CELL.sub(r"\1'", str(value).translate(CONTROL_CHARACTERS))


def csv_cell(value, tzinfo):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, tzinfo).strftime(TIME_FORMAT)
    if isinstance(value, int | Decimal):
        return str(value)
    return clean_text(value)


def xlsx_cell(sheet, value, tzinfo):
    """Return an XLSX cell: numbers and times typed, every text a string, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, dt.datetime):
        local = timezone.localtime(value, tzinfo).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, local)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if value is None or isinstance(value, bool | int | Decimal):
        return WriteOnlyCell(sheet, value)
    cell = WriteOnlyCell(sheet, str(value).translate(CONTROL_CHARACTERS))
    cell.data_type = "s"
    return cell


def csv_content(table, queryset, tzinfo):
    """Return the CSV as bytes in UTF-8 with a byte order mark, which Excel needs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    for row in table.rows(queryset):
        writer.writerow([csv_cell(value, tzinfo) for value in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_content(table, queryset, tzinfo):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name[:31])
    # Write-only sheets take widths and the frozen header row before any row is written.
    for column in range(1, len(table.header) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 22
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in table.header:
        cell = WriteOnlyCell(sheet, title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows(queryset):
        sheet.append([xlsx_cell(sheet, value, tzinfo) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_filename(workshop, name, fmt):
    slug = workshop.slug if workshop else "workshop"
    return f"{slugify(slug)}-{slugify(name)}-{timezone.localdate():%Y-%m-%d}.{fmt}"


def spreadsheet_response(request, table, queryset, fmt):
    """Return the rows of ``queryset`` as a CSV or XLSX download."""
    workshop = current_workshop(request)
    tzinfo = workshop.tzinfo if workshop else dt.UTC
    if fmt == "xlsx":
        response = HttpResponse(xlsx_content(table, queryset, tzinfo), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(csv_content(table, queryset, tzinfo), content_type=CSV_TYPE)
    filename = export_filename(workshop, table.name, fmt)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Lists of people: never kept by a browser or proxy cache.
    add_never_cache_headers(response)
    return response


def changelist_queryset(modeladmin, request):
    """Return the rows the admin's list shows for this request's search, filters and order."""
    request.GET = request.GET.copy()
    for name in NOT_FILTERS:
        request.GET.pop(name, None)
    changelist = modeladmin.get_changelist_instance(request)
    # Built by changelist.get_queryset(request) already; calling it again would query the
    # filters' choices again.
    return changelist.queryset


def bad_filters_response():
    return HttpResponseBadRequest(
        "The list's filters are not valid; open the list again and choose them anew.",
        content_type="text/plain; charset=utf-8",
    )


def filter_query(request):
    query = request.GET.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    return f"?{query.urlencode()}" if query else ""


@admin.action(description="Export the selected rows as CSV", permissions=["view"])
def export_selected_csv(modeladmin, request, queryset):
    return spreadsheet_response(request, modeladmin.export_table, queryset, "csv")


@admin.action(description="Export the selected rows as Excel", permissions=["view"])
def export_selected_xlsx(modeladmin, request, queryset):
    return spreadsheet_response(request, modeladmin.export_table, queryset, "xlsx")


class SpreadsheetExportMixin:
    """Offer a ModelAdmin's list, as searched and filtered, as a spreadsheet download.

    Set ``export_table``; list ``export_selected_csv`` (and ``export_selected_xlsx``) in
    ``actions`` for the selected rows; show ``spreadsheet_links`` in the list's template.
    """

    export_table = None

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        view = self.admin_site.admin_view(self.export_view)
        return [path("export/<str:fmt>/", view, name=name), *super().get_urls()]

    def export_view(self, request, fmt):
        """Download the list as the admin shows it with the same query string."""
        if fmt not in self.export_table.formats:
            raise Http404("No such export format.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = changelist_queryset(self, request)
        except IncorrectLookupParameters:
            return bad_filters_response()
        return spreadsheet_response(request, self.export_table, queryset, fmt)

    def spreadsheet_links(self, request):
        """Return (label, URL) of each export of the list as currently filtered."""
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_export"
        query = filter_query(request)
        return [
            (f"Export {FORMAT_LABELS[fmt]}", reverse(name, args=[fmt]) + query)
            for fmt in self.export_table.formats
        ]

    def changelist_view(self, request, extra_context=None):
        links = self.spreadsheet_links(request)
        extra_context = {**(extra_context or {}), "spreadsheet_links": links}
        return super().changelist_view(request, extra_context)
