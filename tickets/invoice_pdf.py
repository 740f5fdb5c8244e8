"""Render an invoice or a credit note as an A4 PDF with fpdf2.

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
    """Return the amount with its currency; a negative one with a minus sign (−25.00 EUR)."""
    shown = format_amount(abs(amount), currency)
    return f"\u2212{shown}" if amount < 0 else shown


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
    """Return the invoice or credit note ``document`` (see ``tickets.invoices``) as a PDF."""
    issued = document["document"]
    pdf = InvoicePDF()
    # Document properties are not drawn, so they keep every character.
    pdf.set_title(f"{document['kind']} {issued.number}")
    pdf.set_author(issued.seller_name)
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    write_heading(pdf, document)
    write_parties(pdf, issued)
    write_items(pdf, issued.currency, document["items"])
    write_totals(pdf, document)
    if pdf.lacks_glyphs:
        pdf.ln(2)
        write_lines(pdf, MISSING_NOTE, size=8)
    return bytes(pdf.output())


def write_lines(pdf, text, *, size=10, style=""):
    pdf.set_font(FONT, style=style, size=size)
    pdf.multi_cell(0, LINE, text, **NEXT_LINE)


def write_heading(pdf, document):
    issued = document["document"]
    write_lines(pdf, f"{document['kind']} {issued.number}", size=18, style="B")
    pdf.ln(2)
    day = issued.issued_on
    meta = [f"Issued on {day.day} {day:%B %Y}", *(f"{k} {v}" for k, v in document["meta"])]
    write_lines(pdf, "\n".join(meta))
    pdf.ln(4)


def write_parties(pdf, issued):
    top = pdf.get_y()
    half = (pdf.epw - 6) / 2
    seller = "\n".join(filter(None, [issued.seller_name, issued.seller_address]))
    buyer = "\n".join(
        filter(
            None,
            [
                issued.buyer_name,
                issued.billing_address,
                issued.buyer_email,
                issued.vat_number and f"VAT number: {issued.vat_number}",
                issued.po_number and f"Purchase order: {issued.po_number}",
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


def write_items(pdf, currency, items):
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
                    money(item["unit_price"], currency),
                    money(item["amount"], currency),
                ]
            )
    pdf.ln(4)


def write_totals(pdf, document):
    issued = document["document"]
    for label, amount, is_total in document["totals"]:
        pdf.set_font(FONT, style="B" if is_total else "", size=10)
        pdf.cell(pdf.epw - 40, LINE + 1, label, align="R")
        pdf.cell(40, LINE + 1, money(amount, issued.currency), align="R", **NEXT_LINE)
    pdf.ln(4)
    write_lines(pdf, document["state"], style="B")
    if document["bank_details"]:
        pdf.ln(2)
        write_lines(pdf, "Bank details", style="B")
        write_lines(pdf, document["bank_details"])
    if issued.seller_note:
        pdf.ln(2)
        write_lines(pdf, issued.seller_note, size=9)
