"""QR codes for printable house plates."""

from __future__ import annotations

import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

# Level M (15 % of the symbol recoverable): a plate outdoors gets dirty and scratched.
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def _qr(data: str, box_size: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=_ERROR_CORRECTION, box_size=box_size, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def qr_svg(data: str) -> bytes:
    """A scalable QR code: what a print shop needs for a plate of any size."""
    image = _qr(data, box_size=10).make_image(image_factory=SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_png(data: str, box_size: int = 10) -> bytes:
    image = _qr(data, box_size=box_size).make_image(image_factory=PyPNGImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
