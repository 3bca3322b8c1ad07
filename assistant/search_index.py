"""The assistant's search index: the active procedures, the active FAQ entries and the
communes of the deployment's province, normalised once (``assistant.language``) and stored in
the database by a task (``assistant.tasks``); each process builds its engine from the stored
version, and again when the version changes."""

from __future__ import annotations

import hashlib
import threading

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from assistant.engine import Engine, ward_names
from assistant.language import spell_out
from assistant.models import FaqEntry, SearchIndex
from digital_address.models import Ward
from services.models import Procedure

_lock = threading.Lock()
_loaded: tuple[tuple, Engine] | None = None


def _documents() -> list[dict]:
    procedures = Procedure.objects.active().prefetch_related("documents").order_by("code")
    documents = [
        {
            "kind": "procedure",
            "key": p.code,
            "title": p.name,
            # The name counts twice: it says what the procedure is; its papers only help.
            "text": spell_out(
                " ".join([p.name, p.name, p.field, *(d.name for d in p.documents.all())])
            ),
        }
        for p in procedures
    ]
    documents += [
        {
            "kind": "faq",
            "key": str(entry.pk),
            "title": entry.variants[0],
            # Its ways of asking, and its answer: the words citizens use may be in either.
            "text": spell_out(" ".join([*entry.variants, entry.answer])),
        }
        for entry in FaqEntry.objects.filter(active=True).order_by("id")
        if entry.variants
    ]
    wards = Ward.objects.filter(province_id=settings.DEPLOYMENT_PROVINCE_CODE).order_by("code")
    documents += [
        {"kind": "ward", "key": str(w.code), "title": w.name, "names": ward_names(w.name)}
        for w in wards
    ]
    return documents


def source_stamp() -> str:
    """What the index is built from, in one string: it changes when the catalog, the FAQ or
    the communes do."""
    procedures = Procedure.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    faq = FaqEntry.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    # The communes have no time of change: their names, hashed (a rename changes it).
    names = Ward.objects.filter(province_id=settings.DEPLOYMENT_PROVINCE_CODE).order_by("code")
    wards = hashlib.sha256(
        "\n".join(f"{c}:{n}" for c, n in names.values_list("code", "name")).encode()
    ).hexdigest()[:16]
    return f"{procedures['n']}:{procedures['last']}:{faq['n']}:{faq['last']}:{wards}"


def search_index_rebuild(*, only_if_stale: bool = False) -> SearchIndex:
    """Build the documents and store them as a new version. Safe to run twice at once: the
    row is locked, and an unchanged source is not built again when ``only_if_stale``."""
    stamp = source_stamp()
    with transaction.atomic():
        index, _created = SearchIndex.objects.select_for_update().get_or_create(pk=1)
        if only_if_stale and index.version and index.source == stamp:
            return index
        index.documents = _documents()
        index.source = stamp
        index.version += 1
        index.built_at = timezone.now()
        index.save()
    return index


def current_engine() -> Engine:
    """The engine of the stored index, built in this process once per version (one small
    query a question). With no index yet (a new deployment), it is built now."""
    global _loaded
    # The version and when it was built: a row made again starts at version 1 again.
    stored = SearchIndex.objects.filter(pk=1).values_list("version", "built_at").first()
    if stored is None:
        index = search_index_rebuild()
        stored = (index.version, index.built_at)
    if _loaded is not None and _loaded[0] == stored:
        return _loaded[1]
    with _lock:
        if _loaded is None or _loaded[0] != stored:
            index = SearchIndex.objects.get(pk=1)
            _loaded = ((index.version, index.built_at), Engine(index.documents))
        return _loaded[1]
