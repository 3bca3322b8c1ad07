"""The assistant's answers officials maintain (FAQ), its search index, and the log of what
citizens asked and how it answered."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FaqEntry(models.Model):
    """A question officials answer once: its ways of asking (one per line) and the answer."""

    questions = models.TextField(
        _("questions"), help_text=_("Ways citizens ask it, one per line (with or without accents).")
    )
    answer = models.TextField(_("answer"), max_length=2000)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.variants[0] if self.variants else f"#{self.pk}"

    @property
    def variants(self) -> list[str]:
        return [line.strip() for line in self.questions.splitlines() if line.strip()]


class SearchIndex(models.Model):
    """The documents the assistant searches (the active procedures and FAQ entries, their
    text already normalised), rebuilt by a task when either changes. Each process keeps the
    version it loaded and loads again when it changes."""

    version = models.PositiveIntegerField(default=0)
    documents = models.JSONField(default=list)
    # What it was built from (assistant.search_index.source_stamp).
    source = models.CharField(max_length=200, blank=True)
    built_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"v{self.version}"


class Intent(models.TextChoices):
    PROCEDURE = "procedure", _("Procedure")
    DOSSIER_STATUS = "dossier_status", _("Status of a dossier")
    MY_ADDRESS = "my_address", _("My digital address")
    WARD_DESK = "ward_desk", _("One-stop desk of a commune")
    FAQ = "faq", _("Frequently asked question")
    NONE = "none", _("Not answered")


class Conversation(models.Model):
    """Questions asked one after another; its id is the asker's key to it (no login needed)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assistant_conversations",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.id)


class Feedback(models.TextChoices):
    UP = "up", _("Helpful")
    DOWN = "down", _("Not helpful")


class Turn(models.Model):
    """One question and its answer. Phone and ID numbers in the question are masked before it
    is stored."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    question = models.CharField(_("question"), max_length=1000)
    answer = models.TextField(_("answer"))
    intent = models.CharField(_("intent"), max_length=20, choices=Intent.choices)
    confidence = models.FloatField(_("confidence"))
    procedures = models.JSONField(_("procedures offered"), default=list)
    feedback = models.CharField(_("feedback"), max_length=4, choices=Feedback.choices, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("assistant question")
        verbose_name_plural = _("assistant questions")
        indexes = [
            models.Index(fields=["intent", "-created_at"], name="assistant_turn_intent_idx"),
            models.Index(fields=["feedback", "-created_at"], name="assistant_turn_feedback_idx"),
        ]

    def __str__(self) -> str:
        return self.question[:80]
