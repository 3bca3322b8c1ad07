from __future__ import annotations

from celery import shared_task

from assistant.search_index import search_index_rebuild


@shared_task(name="assistant.rebuild_index", acks_late=True)
def rebuild_index(only_if_stale: bool = True) -> int:
    """Rebuild the search index when the catalog, the FAQ or the communes changed."""
    return search_index_rebuild(only_if_stale=only_if_stale).version
