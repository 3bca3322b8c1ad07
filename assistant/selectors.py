"""Reads of the assistant's log."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from assistant.models import Turn


def conversations_export(*, user: User) -> list[dict]:
    """What the citizen asked the assistant while logged in, and its answers (``me/export/``)."""
    turns = Turn.objects.filter(conversation__user=user).order_by("created_at", "id")
    return [
        {
            "conversation": str(turn.conversation_id),
            "question": turn.question,
            "answer": turn.answer,
            "intent": turn.intent,
            "feedback": turn.feedback,
            "at": timezone.localtime(turn.created_at).isoformat(),
        }
        for turn in turns
    ]
