"""Render an invoice as an A4 PDF with fpdf2.

The PDF embeds DejaVu Sans (``tickets/fonts/``, see SOURCE.md there), so names and addresses
in Latin, Greek, Cyrillic, Hebrew, Arabic and other alphabets print as given (shaped by
HarfBuzz through uharfbuzz); fpdf2 embeds only the glyphs used, which keeps the file small.
DejaVu has no Chinese, Japanese or Korean, and a font that has weighs tens of MB, so such
characters are drawn as a box and the PDF says that the HTML invoice shows them: no name can
make the PDF fail or silently lose letters.
"""

import functools
import unicodedata
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tickets.money import format_amount

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
# Drawn for a character the fonts lack (the "tofu" box browsers show too).
MISSING = "\u25a1"
MISSING_NOTE = (
    f"{MISSING} marks a character that this PDF's font cannot show; "
    "the invoice web page shows every character."
)
LINE = 5
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


@functools.cache
def covered():
    """Return the code points that both the regular and the bold font can draw."""
    cmaps = [frozenset(TTFont(path, lazy=True).getBestCmap()) for path in FONT_FILES.values()]
    # Line breaks are layout, not glyphs (fpdf2 drops "\r" itself).
    return frozenset.intersection(*cmaps) | {ord("\n"), ord("\r")}


def pdf_text(value):
    """Return ``value`` composed (NFC), each character the fonts lack replaced by a box."""
    text = unicodedata.normalize("NFC", str(value))
    fonts = covered()
    return "".join(shown(char, fonts) for char in text)


def shown(char, fonts):
    if ord(char) in fonts:
        return char
    # A tab or another control character pasted into an address is spacing, not a letter.
    return " " if unicodedata.category(char) == "Cc" else MISSING


def money(amount, currency):
    return format_amount(amount, currency)


class InvoicePDF(FPDF):
    """An A4 page in DejaVu Sans that notes whether any character could not be drawn."""

    def __init__(self):
        super().__init__(format="A4")
        for style, path in FONT_FILES.items():
            self.add_font(FONT, style, path)
        # HarfBuzz joins Arabic letters and lays right-to-left names out right to left.
        self.set_text_shaping(True)
        self.lacks_glyphs = False

    def normalize_text(self, text):
        """Check every text fpdf2 lays out or measures, whatever the call that gives it."""
        shown = pdf_text(text)
        if shown.count(MISSING) > text.count(MISSING):
            self.lacks_glyphs = True
        return super().normalize_text(shown)

    def footer(self):
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, LINE, f"Page {self.page_no()} of {{nb}}", align="C")


def render_pdf(document):
    """Return the invoice in ``document`` (see ``tickets.invoices.invoice_document``) as PDF."""
    invoice = document["invoice"]
    pdf = InvoicePDF()
    # Document properties are not drawn, so they keep every character.
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(invoice.seller_name)
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    write_heading(pdf, invoice, document["order"])
    write_parties(pdf, invoice)
    write_items(pdf, invoice, document["items"])
    write_totals(pdf, invoice, document)
    if pdf.lacks_glyphs:
        pdf.ln(2)
        write_lines(pdf, MISSING_NOTE, size=8)
    return bytes(pdf.output())


def write_lines(pdf, text, *, size=10, style=""):
    pdf.set_font(FONT, style=style, size=size)
    pdf.multi_cell(0, LINE, text, **NEXT_LINE)


def write_heading(pdf, invoice, order):
    write_lines(pdf, f"Invoice {invoice.number}", size=18, style="B")
    pdf.ln(2)
    write_lines(
        pdf,
        f"Issued on {invoice.issued_on.day} {invoice.issued_on:%B %Y}\nOrder {order.code}",
    )
    pdf.ln(4)


def write_parties(pdf, invoice):
    top = pdf.get_y()
    half = (pdf.epw - 6) / 2
    seller = "\n".join(filter(None, [invoice.seller_name, invoice.seller_address]))
    buyer = "\n".join(
        filter(
            None,
            [
                invoice.buyer_name,
                invoice.billing_address,
                invoice.buyer_email,
                invoice.vat_number and f"VAT number: {invoice.vat_number}",
                invoice.po_number and f"Purchase order: {invoice.po_number}",
            ],
        )
    )
    bottoms = []
    for x, title, text in ((pdf.l_margin, "From", seller), (pdf.l_margin + half + 6, "To", buyer)):
        pdf.set_xy(x, top)
        pdf.set_font(FONT, style="B", size=10)
        pdf.cell(half, LINE, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(half, LINE, text, new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 6)


def write_items(pdf, invoice, items):
    pdf.set_font(FONT, size=10)
    with pdf.table(
        col_widths=(90, 20, 32, 32),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=LINE + 1,
    ) as table:
        table.row(["Item", "Quantity", "Unit price", "Amount"])
        for item in items:
            table.row(
                [
                    item["description"],
                    str(item["quantity"]),
                    money(item["unit_price"], invoice.currency),
                    money(item["amount"], invoice.currency),
                ]
            )
    pdf.ln(4)


def total_rows(invoice, document):
    currency = invoice.currency
    rows = [("Subtotal", money(invoice.subtotal, currency))]
    if invoice.discount:
        rows.append(("Discount", f"-{money(invoice.discount, currency)}"))
    rows.append(("Total", money(invoice.total, currency)))
    if invoice.tax_rate:
        rows.append(
            (
                f"Included {invoice.tax_label} {document['tax_percent']}%",
                money(invoice.tax_amount, currency),
            )
        )
        rows.append((f"Total without {invoice.tax_label}", money(invoice.net_total, currency)))
    if document["refunded"]:
        rows.append(("Refunded", f"-{money(document['refunded'], currency)}"))
        rows.append(("Balance paid", money(document["balance"], currency)))
    return rows


def write_totals(pdf, invoice, document):
    for label, amount in total_rows(invoice, document):
        bold = "B" if label == "Total" else ""
        pdf.set_font(FONT, style=bold, size=10)
        pdf.cell(pdf.epw - 40, LINE + 1, label, align="R")
        pdf.cell(40, LINE + 1, amount, align="R", **NEXT_LINE)
    pdf.ln(4)
    write_lines(pdf, document["state"], style="B")
    if invoice.seller_note:
        pdf.ln(2)
        write_lines(pdf, invoice.seller_note, size=9)
