"""QR codes for tickets, made locally: no external service sees ticket codes."""

import io

import qrcode
import qrcode.image.svg
from django.utils.html import escape
from django.utils.safestring import mark_safe


def qr_svg(data, *, label):
    """Return an inline-safe SVG (no ids, no styles) of the QR code for ``data``."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace(' id="qr-path"', "")
    svg = svg.replace("<svg ", f'<svg class="qr" role="img" aria-label="{escape(label)}" ', 1)
    # The path data is made of digits and letters only, so the markup is safe to inline.
    return mark_safe(svg)


def qr_png(data):
    """Return PNG bytes of the QR code for ``data`` (for e-mail attachments)."""
    buffer = io.BytesIO()
    qrcode.make(data, box_size=8, border=4).save(buffer, format="PNG")
    return buffer.getvalue()
