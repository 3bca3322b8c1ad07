"""The assistant's writes: a question answered and logged, the asker's feedback, the FAQ."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.redaction import redact_numbers
from assistant.answers import Answer, compose
from assistant.engine import DOSSIER_CODE, Reading
from assistant.models import Conversation, Feedback, Turn
from assistant.search_index import current_engine
from config.errors import DomainError

MAX_QUESTION = 1000


class ConversationNotFound(DomainError):
    status_code = 404
    code = "not_found"


@dataclass(frozen=True)
class Asked:
    turn: Turn
    reading: Reading
    answer: Answer


def masked(question: str) -> str:
    """The question with phone and ID numbers hidden (a dossier code is kept: it is what was
    asked about, and it names no one)."""
    codes: list[str] = []

    def keep(match) -> str:
        codes.append(match.group(1))
        return f"\x00{len(codes) - 1}\x00"

    hidden = redact_numbers(DOSSIER_CODE.sub(keep, question))
    for index, code in enumerate(codes):
        hidden = hidden.replace(f"\x00{index}\x00", code)
    return hidden


def assistant_ask(
    *,
    question: str,
    user: User | None,
    conversation_id: uuid.UUID | None = None,
) -> Asked:
    """Answer the question and log it (masked) in its conversation: the one given (which must
    be the asker's own), or a new one."""
    question = " ".join(question.split())[:MAX_QUESTION]
    reading = current_engine().read(question)
    answer = compose(reading, user)
    with transaction.atomic():
        conversation = _conversation(conversation_id, user)
        turn = Turn.objects.create(
            conversation=conversation,
            question=masked(question),
            answer=answer.text,
            intent=answer.intent or reading.intent,
            confidence=reading.confidence,
            procedures=[p["code"] for p in answer.procedures],
        )
    return Asked(turn, reading, answer)


def _conversation(conversation_id: uuid.UUID | None, user: User | None) -> Conversation:
    if conversation_id is None:
        return Conversation.objects.create(user=user)
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    # A logged-in asker's conversation is theirs alone; an anonymous one belongs to whoever
    # holds its id (it was never shown to anyone else).
    if conversation is None or (
        conversation.user_id and conversation.user_id != getattr(user, "pk", None)
    ):
        raise ConversationNotFound(_("Not found."))
    return conversation


def turn_feedback(
    *, turn_id: int, conversation_id: uuid.UUID, user: User | None, helpful: bool
) -> Turn:
    """Thumbs up or down on an answer, by whoever asked it (again to change it)."""
    turn = (
        Turn.objects.select_related("conversation")
        .filter(pk=turn_id, conversation_id=conversation_id)
        .first()
    )
    owner = turn.conversation.user_id if turn else None
    if turn is None or (owner and owner != getattr(user, "pk", None)):
        raise ConversationNotFound(_("Not found."))
    turn.feedback = Feedback.UP if helpful else Feedback.DOWN
    turn.save(update_fields=["feedback"])
    return turn


def conversations_erase(*, user: User) -> int:
    """The citizen's account is erased: what they asked goes with it."""
    deleted, _rows = Conversation.objects.filter(user=user).delete()
    return deleted
