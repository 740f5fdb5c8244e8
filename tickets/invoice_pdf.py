"""Render an invoice as an A4 PDF with fpdf2.

fpdf2 is pure Python (it needs only Pillow, fontTools and defusedxml) and ships no
Unicode font, so the PDF uses the built-in Helvetica in the Windows-1252 encoding.
Text outside that encoding is transliterated (accents dropped, a few letters spelled
out) and anything left becomes "?", so no name can make the PDF fail; the HTML page
always shows names exactly as given.
"""

import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tickets.payments import quantize

ENCODING = "windows-1252"
# Letters that do not decompose into a base letter and an accent.
SPELLED = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "ħ": "h",
        "Ħ": "H",
        "ŋ": "ng",
        "ŧ": "t",
        "ĸ": "k",
        "ſ": "s",
    }
)
LINE = 5
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def pdf_text(value):
    """Return text that Helvetica in Windows-1252 can show, transliterating what it cannot."""
    out = []
    for char in str(value).translate(SPELLED):
        if fits(char):
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if fits(c))
        base = "".join(c for c in base if not unicodedata.combining(c))
        out.append(base or "?")
    return "".join(out)


def fits(char):
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def money(amount, currency):
    return f"{quantize(amount, currency)} {currency}"


class InvoicePDF(FPDF):
    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, LINE, f"Page {self.page_no()} of {{nb}}", align="C")


def render_pdf(document):
    """Return the invoice in ``document`` (see ``tickets.invoices.invoice_document``) as PDF."""
    invoice = document["invoice"]
    pdf = InvoicePDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_title(pdf_text(f"Invoice {invoice.number}"))
    pdf.set_author(pdf_text(invoice.seller_name))
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    write_heading(pdf, invoice, document["order"])
    write_parties(pdf, invoice)
    write_items(pdf, invoice, document["items"])
    write_totals(pdf, invoice, document)
    return bytes(pdf.output())


def write_lines(pdf, text, *, size=10, style=""):
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.multi_cell(0, LINE, pdf_text(text), **NEXT_LINE)


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
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(half, LINE, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(half, LINE, pdf_text(text), new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 6)


def write_items(pdf, invoice, items):
    pdf.set_font("Helvetica", size=10)
    with pdf.table(
        col_widths=(90, 20, 32, 32),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=LINE + 1,
    ) as table:
        table.row(["Item", "Quantity", "Unit price", "Amount"])
        for item in items:
            table.row(
                [
                    pdf_text(item["description"]),
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
        pdf.set_font("Helvetica", style=bold, size=10)
        pdf.cell(pdf.epw - 40, LINE + 1, pdf_text(label), align="R")
        pdf.cell(40, LINE + 1, amount, align="R", **NEXT_LINE)
    pdf.ln(4)
    write_lines(pdf, document["state"], style="B")
    if invoice.seller_note:
        pdf.ln(2)
        write_lines(pdf, invoice.seller_note, size=9)
