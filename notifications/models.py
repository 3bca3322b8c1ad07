from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    # GOV.UK Notify's delivery states.
    CREATED = "created", _("Created")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    TEMPORARY_FAILURE = "temporary-failure", _("Temporary failure")
    PERMANENT_FAILURE = "permanent-failure", _("Permanent failure")
    TECHNICAL_FAILURE = "technical-failure", _("Technical failure")


# After these the text is never sent again, so a secret in it is wiped.
LEFT_STATUSES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.PERMANENT_FAILURE,
        DeliveryStatus.TECHNICAL_FAILURE,
    }
)

# Allowed transitions, declared as data; notifications.actions._transition is the one guard.
SMS_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.CREATED: frozenset({DeliveryStatus.SENDING, DeliveryStatus.TECHNICAL_FAILURE}),
    DeliveryStatus.SENDING: frozenset(
        {
            DeliveryStatus.SENT,
            DeliveryStatus.DELIVERED,
            DeliveryStatus.TEMPORARY_FAILURE,
            DeliveryStatus.PERMANENT_FAILURE,
            DeliveryStatus.TECHNICAL_FAILURE,
        }
    ),
    DeliveryStatus.TEMPORARY_FAILURE: frozenset(
        {DeliveryStatus.SENDING, DeliveryStatus.TECHNICAL_FAILURE}
    ),
    DeliveryStatus.SENT: frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.PERMANENT_FAILURE}),
    DeliveryStatus.DELIVERED: frozenset(),
    DeliveryStatus.PERMANENT_FAILURE: frozenset(),
    DeliveryStatus.TECHNICAL_FAILURE: frozenset(),
}


class SmsMessage(models.Model):
    """One SMS, persisted before anything is sent. Its id is our reference at the provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = models.CharField(_("phone"), max_length=20)
    body = models.TextField(_("text"))
    # A secret (an OTP) is wiped from the row once the message has left or can no longer leave.
    sensitive = models.BooleanField(default=False)
    purpose = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.CREATED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    provider = models.CharField(max_length=40, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="sms_status_updated_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="sms_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"SMS {self.id} ({self.status})"


class Category(models.TextChoices):
    ACCOUNT = "account", _("Account")
    DOSSIER = "dossier", _("Dossier")
    REPORT = "report", _("Field report")
    HOUSEHOLD = "household", _("Household")
    BROADCAST = "broadcast", _("Notice")
    EMERGENCY = "emergency", _("Emergency")


class Notification(models.Model):
    """One inbox message for one recipient, written in the transaction of the event it tells
    about (so it is never lost), in the recipient's language. ``key`` names the event: writing
    the same event twice (a task run twice) leaves one message."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications"
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    key = models.CharField(max_length=120)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=2000)
    # Where the app opens it, e.g. {"dossier": "G22.20.01-261126-0001"}.
    data = models.JSONField(_("link data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_event_once"),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="notification_category_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_inbox_idx"),
            # The unread count reads only unread rows, never a user's whole history.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title
