"""QR codes for tickets, made locally: no external service sees ticket codes."""

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe


def checkin_url(code):
    """Return what a ticket's QR code holds: the full address of the ticket's check-in page.

    Any phone camera then opens the ticket for the organiser at the door; staff only may
    see the page, and the code in it is what the ticket shows anyway.
    """
    return settings.SITE_URL + reverse("tickets:checkin_ticket", args=[code])


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
