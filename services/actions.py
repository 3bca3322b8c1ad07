"""Writes of the public-services app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from services.models import Procedure, RequiredDocument


@dataclass(frozen=True)
class CatalogLoadSummary:
    created: int
    updated: int


def procedures_load(*, entries: Iterable[dict[str, Any]]) -> CatalogLoadSummary:
    """Create or update procedures by code, with their documents (replaced). Idempotent."""
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            fields = {k: v for k, v in entry.items() if k not in {"code", "documents"}}
            procedure = Procedure.objects.filter(code=entry["code"]).first()
            if procedure is None:
                procedure = Procedure(code=entry["code"])
                created += 1
            else:
                updated += 1
            for name, value in fields.items():
                setattr(procedure, name, value)
            procedure.full_clean()
            procedure.save()
            procedure.documents.all().delete()
            RequiredDocument.objects.bulk_create(
                RequiredDocument(procedure=procedure, name=name, mandatory=mandatory, position=i)
                for i, (name, mandatory) in enumerate(entry.get("documents", []), start=1)
            )
    return CatalogLoadSummary(created=created, updated=updated)
