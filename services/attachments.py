"""Files of a dossier: the citizen's papers and the result document.

The type is read from the content (the first bytes), never from the name or the declared type:
a file named ``.pdf`` that is not a PDF is refused. Only PDF, JPEG and PNG are accepted, within
a size limit per file and a count limit per dossier; the stored name is the server's own.
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from accounts.models import User
from services.errors import InvalidForm
from services.models import AttachmentKind, Dossier, DossierAttachment

_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes, or None."""
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def display_name(name: str) -> str:
    """The uploader's file name, for display only: no path, no control characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:200] or "file"


def attachment_check(upload: UploadedFile, field: str = "file") -> tuple[str, str]:
    """(content type, extension), or a per-field 400: too large, or not a PDF, JPEG or PNG."""
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        message = _("A file may be at most %(mb)d MB.") % {
            "mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        }
        raise InvalidForm(fields={field: [message]})
    upload.seek(0)
    kind = sniff(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise InvalidForm(fields={field: [_("Only PDF, JPEG and PNG files are accepted.")]})
    return kind


@contextmanager
def stored_file(upload: UploadedFile, *, dossier: Dossier, extension: str):
    """Write the file under a name of the server's choosing; if what follows fails (the
    transaction that records it), delete it again: no orphan file, no row without its file."""
    name = default_storage.save(f"dossiers/{dossier.pk}/{uuid.uuid4().hex}.{extension}", upload)
    try:
        yield name
    except BaseException:
        default_storage.delete(name)
        raise


def attachment_record(
    *,
    dossier: Dossier,
    name: str,
    upload: UploadedFile,
    kind: str,
    content_type: str,
    actor: User,
) -> DossierAttachment:
    """The row of a stored file, on a dossier locked by the caller. The citizen's papers are
    limited in number; the result document is not (it must never be refused for their sake)."""
    papers = DossierAttachment.objects.filter(dossier=dossier, kind=AttachmentKind.CITIZEN)
    if kind == AttachmentKind.CITIZEN and papers.count() >= settings.ATTACHMENT_MAX_COUNT:
        message = _("A dossier has at most %(n)d files.") % {"n": settings.ATTACHMENT_MAX_COUNT}
        raise InvalidForm(fields={"file": [message]})
    return DossierAttachment.objects.create(
        dossier=dossier,
        kind=kind,
        file=name,
        original_name=display_name(upload.name),
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )


def file_inline(file, content_type: str, filename: str = "") -> FileResponse:
    """A stored file shown in the browser (an official's preview): its checked type, never
    sniffed, never cached, and sandboxed (a PDF's scripts get no access to the site)."""
    # Not as an attachment: Content-Disposition "inline", with the name when there is one.
    response = FileResponse(file.open("rb"), content_type=content_type, filename=filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
