from __future__ import annotations

import uuid

from django.conf import settings
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

    # No index of its own: the unique (user, key) and the inbox's (user, -id) lead with it, and
    # a province-wide broadcast writes 500 000 rows into every index.
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    # The event type (notifications.events), which names its templates and its fallback rule.
    event = models.CharField(_("event"), max_length=60, blank=True)
    key = models.CharField(max_length=120)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=2000)
    # Where the app opens it, e.g. {"dossier": "G22.20.01-261126-0001"}.
    data = models.JSONField(_("link data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Events with an SMS fallback: the SMS, rendered with the message, and when it goes out if
    # the message is still unread (cleared once the fallback is decided or the message read).
    fallback_text = models.CharField(max_length=400, blank=True)
    fallback_due_at = models.DateTimeField(null=True, blank=True)
    # The area broadcast it belongs to (its progress and check-ins are counted through it).
    broadcast = models.ForeignKey(
        "notifications.Broadcast",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )

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
            models.Index(
                fields=["fallback_due_at"],
                condition=Q(fallback_due_at__isnull=False),
                name="notification_fallback_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    PUSH = "push", _("Push")
    SMS = "sms", "SMS"
    EMAIL = "email", _("Email")


# Where a template's text goes: the inbox row, or one of the delivery channels.
class TemplateChannel(models.TextChoices):
    INBOX = "inbox", _("Inbox")
    PUSH = "push", _("Push")
    SMS = "sms", "SMS"
    EMAIL = "email", _("Email")


# Notifications' deliveries go through the OTP SMS's states and guard; a failure may be re-sent
# by hand (the admin's resend action), never by a receipt.
DELIVERY_TRANSITIONS = SMS_TRANSITIONS
RESENDABLE_STATUSES = frozenset(
    {
        DeliveryStatus.TEMPORARY_FAILURE,
        DeliveryStatus.PERMANENT_FAILURE,
        DeliveryStatus.TECHNICAL_FAILURE,
    }
)


class Delivery(models.Model):
    """One channel's delivery of one notification, saved with the notification, before anything
    is sent. Its id is our reference at the provider (receipts name it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (notification, channel) leads with it. Every claim and
    # every outcome rewrites each index entry of the row (a status change is never a HOT update).
    notification = models.ForeignKey(
        "notifications.Notification",
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.CREATED
    )
    # The text as rendered for this channel in the recipient's language when it was created.
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=4000)
    # Sent no earlier than this: quiet hours hold non-urgent messages; a retry waits its backoff.
    due_at = models.DateTimeField(_("due"))
    # An SMS sent because push could not reach the user.
    is_fallback = models.BooleanField(_("fallback"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The batch that claimed the row (status "sending"); outcomes are written only under it.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    # What the provider calls the message (FCM's message name, a gateway's id), if anything.
    provider_message_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at"]
        constraints = [
            # One row per channel per notification: the SMS fallback happens once.
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="delivery_channel_valid"
            ),
        ]
        indexes = [
            # The workers' claim and the sweeper: due rows of a channel, oldest first.
            models.Index(
                fields=["channel", "due_at"],
                condition=Q(status__in=["created", "temporary-failure"]),
                name="delivery_due_idx",
            ),
            models.Index(
                fields=["updated_at"], condition=Q(status="sending"), name="delivery_sending_idx"
            ),
            models.Index(fields=["created_at"], name="delivery_created_idx"),
            # The SMS budget's count: today's SMS sent or to be sent (a few thousand a day), not
            # every delivery of the day (one province-wide broadcast writes 300 000 pushes).
            models.Index(
                fields=["created_at"],
                condition=Q(channel="sms") & ~Q(status="technical-failure", attempts=0),
                name="delivery_sms_counted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.id} ({self.status})"


class NotificationTemplate(models.Model):
    """An administrator's text for one event, language and channel; without one the built-in
    text (notifications.events) is used. Django template syntax: {{ code }}."""

    event = models.CharField(_("event"), max_length=60)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    channel = models.CharField(_("channel"), max_length=10, choices=TemplateChannel.choices)
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("Push title, email subject.")
    )
    body = models.TextField(_("text"), max_length=4000)
    strip_diacritics = models.BooleanField(
        _("send without diacritics"),
        default=False,
        help_text=_("SMS only: unaccented text fits 160 characters a segment instead of 70."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["event", "language", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "language", "channel"], name="notification_template_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.language} · {self.channel}"


class NotificationPreference(models.Model):
    """A user's choices: channels turned off per category, quiet hours (local time)."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="notification_preference"
    )
    # "category:channel" pairs the user turned off, e.g. ["report:sms", "dossier:email"].
    disabled = models.JSONField(default=list, blank=True)
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}"


class BroadcastKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    WARNING = "warning", _("Warning")
    EMERGENCY = "emergency", _("Emergency")


class BroadcastStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Broadcast(models.Model):
    """A notice to everyone of some wards, or of the whole province: an inbox message for each
    person once (members of households there with an account, and users whose profile ward is
    there), a push to their devices, and for emergencies an SMS to those without one."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=2000)
    kind = models.CharField(_("kind"), max_length=12, choices=BroadcastKind.choices)
    # The whole province (a province administrator's), or the wards below.
    province = models.ForeignKey(
        "digital_address.Province",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="broadcasts",
        verbose_name=_("whole province"),
    )
    wards = models.ManyToManyField(
        "digital_address.Ward", related_name="broadcasts", blank=True, verbose_name=_("wards")
    )
    # Push is always sent; "sms" (emergencies only) also texts those without a push device.
    send_sms = models.BooleanField(_("SMS to people without the app"), default=False)
    scheduled_at = models.DateTimeField(_("send at"))
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=BroadcastStatus.choices,
        default=BroadcastStatus.SCHEDULED,
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    approved_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # The fan-out's lanes (BROADCAST_FANOUT_LANES when it started), each with its cursor.
    fanout_lanes = models.PositiveSmallIntegerField(default=1, editable=False)
    # Fan-out progress, added to in the transaction of each chunk.
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    inbox_written = models.PositiveIntegerField(_("inbox messages written"), default=0)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-scheduled_at", "-id"]
        permissions = [
            ("send_broadcast", "Can send broadcasts to the units they manage"),
            ("approve_broadcast", "Can approve another official's emergency broadcast"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=BroadcastKind.values), name="broadcast_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BroadcastStatus.values), name="broadcast_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(send_sms=False) | Q(kind="emergency"),
                name="broadcast_sms_only_emergency",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="broadcast_due_idx"),
            models.Index(fields=["status", "expires_at"], name="broadcast_active_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class BroadcastLane(models.Model):
    """One of a broadcast's parallel fan-out lanes: the audience's users whose id, divided by
    the number of lanes, leaves ``lane``, written in id order. Its cursor commits with each
    chunk: a worker killed in the middle resumes the lane after its last committed chunk."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="lanes")
    lane = models.PositiveSmallIntegerField()
    cursor = models.BigIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "lane"], name="broadcast_lane_once")
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id}/{self.lane}"


class CheckInStatus(models.TextChoices):
    SAFE = "safe", _("Safe")
    NEED_HELP = "need_help", _("Need help")


class CheckIn(models.Model):
    """A recipient's answer to an emergency: safe, or needs help (where, what). One per person
    per broadcast; answering again replaces it. It speaks for the person's household."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="check_ins")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="check_ins")
    household = models.ForeignKey(
        "digital_address.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="check_ins",
    )
    ward = models.ForeignKey(
        "digital_address.Ward", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=CheckInStatus.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "user"], name="check_in_once"),
            models.CheckConstraint(
                condition=Q(status__in=CheckInStatus.values), name="check_in_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id} · {self.user_id} · {self.status}"
