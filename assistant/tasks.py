from __future__ import annotations

from celery import shared_task

from assistant.search_index import search_index_rebuild


@shared_task(name="assistant.rebuild_index", acks_late=True)
def rebuild_index(only_if_stale: bool = True) -> int:
    """Rebuild the search index when the catalog, the FAQ or the communes changed."""
    return search_index_rebuild(only_if_stale=only_if_stale).version


@shared_task(name="assistant.answer_channel_message", acks_late=True)
def answer_channel_message(pk: int) -> str:
    """Answer a chat-channel message and send the reply (idempotent: the row is claimed)."""
    from assistant.channel_flow import channel_message_answer

    return channel_message_answer(pk=pk)


@shared_task(name="assistant.sweep_channel_messages", acks_late=True)
def sweep_channel_messages() -> int:
    """Queue again the chat-channel messages still to answer whose time has come."""
    from assistant.channel_flow import channel_messages_sweep

    return channel_messages_sweep()
