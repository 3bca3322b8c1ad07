from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from digital_address.vietnamese_text import fold
from services.models import Procedure, RequiredDocument


def procedure_search(
    *, query: str | None, field: str | None = None, level: str | None = None
) -> QuerySet[Procedure]:
    """Active procedures whose code, name or field holds every word, without diacritics."""
    procedures = Procedure.objects.active()
    for word in fold(query or "").split():
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
