"""Photos of field reports, and the evidence of their fixes.

A photo is read by Pillow, never trusted by its name or declared type: only JPEG and PNG
images that decode are kept. Each is re-encoded before it is stored, which drops what the
phone wrote into it (GPS position, device, owner: an anonymous report must not carry them),
turns it upright, and scales it to at most ``MAX_SIDE`` pixels (what a phone on a weak
connection downloads for the public map). Evidence of a fix may also be a PDF document.
"""

from __future__ import annotations

import io
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from services.attachments import sniff
from services.errors import InvalidForm

MAX_SIDE = 2048
# A decompression bomb: a small file that decodes to billions of pixels.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85
MAX_PHOTOS = 5


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    extension: str


def _too_large(field: str) -> InvalidForm:
    message = _("A photo may be at most %(mb)d MB.") % {
        "mb": settings.REPORT_PHOTO_MAX_BYTES // (1024 * 1024)
    }
    return InvalidForm(fields={field: [message]})


def clean_image(upload: UploadedFile, field: str = "photos") -> CleanFile:
    """The image re-encoded without metadata, or a per-field 400."""
    if upload.size > settings.REPORT_PHOTO_MAX_BYTES:
        raise _too_large(field)
    not_image = InvalidForm(fields={field: [_("Only JPEG and PNG photos are accepted.")]})
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in ("JPEG", "PNG"):
                raise not_image
            if image.width * image.height > MAX_PIXELS:
                raise InvalidForm(fields={field: [_("This photo has too many pixels.")]})
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            if image.format == "PNG":
                upright.save(out, format="PNG", optimize=True)
                kind = ("image/png", "png")
            else:
                upright.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
                kind = ("image/jpeg", "jpg")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_image from None
    finally:
        upload.seek(0)
    return CleanFile(out.getvalue(), *kind)


def clean_evidence(upload: UploadedFile, field: str = "files") -> CleanFile:
    """A photo (re-encoded as above) or a PDF document (kept as it is)."""
    if upload.size > settings.REPORT_PHOTO_MAX_BYTES:
        raise _too_large(field)
    upload.seek(0)
    kind = sniff(upload.read(16))
    upload.seek(0)
    if kind is not None and kind[0] == "application/pdf":
        return CleanFile(upload.read(), *kind)
    try:
        return clean_image(upload, field)
    except InvalidForm:
        raise InvalidForm(
            fields={field: [_("Only JPEG and PNG photos or PDF documents are accepted.")]}
        ) from None


def photos_check(uploads: list[UploadedFile], *, field: str, minimum: int) -> None:
    if len(uploads) < minimum:
        message = (
            _("Add at least one photo.")
            if field == "photos"
            else _("Add at least one photo or document of the fix.")
        )
        raise InvalidForm(fields={field: [message]})
    if len(uploads) > MAX_PHOTOS:
        message = _("At most %(n)d files.") % {"n": MAX_PHOTOS}
        raise InvalidForm(fields={field: [message]})


@contextmanager
def stored_files(files: list[CleanFile]):
    """Write the files under names of the server's choosing; if what follows fails (the
    transaction that records them), delete them again."""
    names: list[str] = []
    try:
        for clean in files:
            name = f"reports/{uuid.uuid4().hex}.{clean.extension}"
            names.append(default_storage.save(name, ContentFile(clean.content)))
        yield names
    except BaseException:
        for name in names:
            default_storage.delete(name)
        raise
