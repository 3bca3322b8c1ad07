from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from accounts.selectors import official_ward_codes
from digital_address.vietnamese_text import fold
from services.errors import DossierNotFound, IdempotencyKeyReused
from services.models import Dossier, DossierEvent, Procedure, RequiredDocument, SubmissionKey


def procedure_search(
    *, query: str | None, field: str | None = None, level: str | None = None
) -> QuerySet[Procedure]:
    """Active procedures whose code, name or field holds every word, without diacritics."""
    procedures = Procedure.objects.active()
    # No NUL reaches the database (PostgreSQL refuses it in text: a 500 otherwise).
    query, field = (query or "").replace("\x00", ""), (field or "").replace("\x00", "")
    for word in fold(query).split():
        procedures = procedures.filter(search_name__contains=word)
    if field:
        procedures = procedures.filter(field=field)
    if level:
        procedures = procedures.filter(level=level)
    return procedures.order_by("code")


def procedure_detail(*, code: str) -> Procedure | None:
    documents = RequiredDocument.objects.order_by("position", "id")
    return (
        Procedure.objects.active()
        .prefetch_related(Prefetch("documents", queryset=documents))
        .filter(code=code)
        .first()
    )


def dossiers_of(*, user: User) -> QuerySet[Dossier]:
    return Dossier.objects.filter(applicant=user).select_related("procedure", "unit")


def dossier_of(*, user: User, code: str) -> Dossier:
    dossier = (
        dossiers_of(user=user)
        .prefetch_related(
            Prefetch("events", queryset=DossierEvent.objects.order_by("id")), "attachments"
        )
        .filter(code=code)
        .first()
    )
    if dossier is None:
        raise DossierNotFound()
    return dossier


def dossier_tracked(*, code: str) -> Dossier:
    """Any dossier by its code, for the public tracking page (which shows no personal data)."""
    dossier = (
        Dossier.objects.select_related("procedure", "unit")
        .prefetch_related(Prefetch("events", queryset=DossierEvent.objects.order_by("id")))
        .filter(code=code.upper())
        .first()
    )
    if dossier is None:
        raise DossierNotFound()
    return dossier


def submission_replay(*, user: User, key: str | None, request_hash: str) -> Dossier | None:
    """The dossier an ``Idempotency-Key`` already created with this very request; a different
    request with the key is refused (422)."""
    if not key:
        return None
    earlier = SubmissionKey.objects.filter(user=user, key=key).select_related("dossier").first()
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return earlier.dossier


def dossiers_for_official(
    *, official: User, status: int | None = None, procedure: str | None = None
) -> QuerySet[Dossier]:
    """The queue of the official's units (a province administrator: the province's)."""
    codes = official_ward_codes(user=official)
    dossiers = Dossier.objects.select_related("procedure", "unit")
    if codes is not None:
        dossiers = dossiers.filter(unit_id__in=codes)
    if status is not None:
        dossiers = dossiers.filter(status=status)
    if procedure:
        dossiers = dossiers.filter(procedure__code=procedure)
    return dossiers


def dossier_for_official(*, official: User, code: str) -> Dossier:
    dossier = (
        dossiers_for_official(official=official)
        .select_related("applicant")
        .prefetch_related(
            Prefetch("events", queryset=DossierEvent.objects.order_by("id")), "attachments"
        )
        .filter(code=code)
        .first()
    )
    if dossier is None:
        raise DossierNotFound()
    return dossier
