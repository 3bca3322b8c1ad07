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


class ChannelMessageStatus(models.TextChoices):
    PENDING = "pending", _("To answer")
    SENT = "sent", _("Answered")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Not answered (channel disabled)")


class ChannelMessage(models.Model):
    """A question that came through a chat platform's official account (assistant.channels),
    saved before anything is queued: the task answers it and sends the reply; the sweeper
    takes up what the broker dropped or what failed for a while. The platform's message id
    makes a redelivered webhook a no-op."""

    channel = models.CharField(_("channel"), max_length=20)
    external_id = models.CharField(_("message id on the channel"), max_length=100)
    # The platform's id of the asker in this official account (not a phone number): where the
    # reply goes. Shown to no one in the admin.
    sender = models.CharField(max_length=100)
    question = models.CharField(_("question"), max_length=1000)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    turn = models.ForeignKey(
        Turn, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ChannelMessageStatus.choices,
        default=ChannelMessageStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Not before this time: the first publish's grace, then the back-off after a failure (and
    # the lease of an attempt under way).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    sent_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("chat-channel message")
        verbose_name_plural = _("chat-channel messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="assistant_channel_message_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="assistant_channel_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["channel", "sender", "-id"], name="assistant_channel_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


class ChannelToken(models.Model):
    """A chat platform's API tokens (Zalo: the OA access token, valid about 25 hours, and the
    refresh token, valid 3 months and used once). An administrator enters the first pair;
    the adapter renews them and stores the new pair at once."""

    channel = models.CharField(_("channel"), max_length=20, unique=True)
    access_token = models.TextField(_("access token"))
    refresh_token = models.TextField(_("refresh token"), blank=True)
    expires_at = models.DateTimeField(_("access token expires"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("chat-channel token")
        verbose_name_plural = _("chat-channel tokens")

    def __str__(self) -> str:
        return self.channel
