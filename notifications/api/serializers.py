from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Language
from notifications.actions.deliveries import RECEIPT_STATUSES
from notifications.events import MANDATORY_CATEGORIES
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "category", "title", "body", "data", "created_at", "read", "read_at"]

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="Unread messages, at most 99.")
    more = serializers.BooleanField(help_text="True when there are more than 99 (show 99+).")


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many messages were unread.")


class QuietHoursSerializer(serializers.Serializer):
    start = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])
    end = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])

    def validate(self, attrs: dict) -> dict:
        if attrs["start"] == attrs["end"]:
            raise serializers.ValidationError(
                {"end": [_("Quiet hours must end at another time than they start.")]}
            )
        return attrs


class ChannelSwitchesSerializer(serializers.Serializer):
    push = serializers.BooleanField(required=False)
    sms = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)


class ChannelsSerializer(serializers.Serializer):
    """On or off per category and channel; security and emergency messages stay on."""

    account = ChannelSwitchesSerializer(required=False)
    dossier = ChannelSwitchesSerializer(required=False)
    report = ChannelSwitchesSerializer(required=False)
    household = ChannelSwitchesSerializer(required=False)
    broadcast = ChannelSwitchesSerializer(required=False)
    emergency = ChannelSwitchesSerializer(required=False)

    def validate(self, attrs: dict) -> dict:
        errors = {}
        for category in sorted(MANDATORY_CATEGORIES):
            off = [ch for ch, on in attrs.get(category, {}).items() if not on]
            if off:
                errors[category] = {
                    ch: [_("Security and emergency messages cannot be turned off.")] for ch in off
                }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class NotificationPreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    quiet_hours = QuietHoursSerializer(
        required=False,
        allow_null=True,
        help_text="Local time (Asia/Ho_Chi_Minh); push and SMS that are not urgent wait until "
        "they end. null: none.",
    )
    channels = ChannelsSerializer(required=False)
    mandatory = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Categories that cannot be turned off.",
    )


class ReceiptSerializer(serializers.Serializer):
    reference = serializers.UUIDField(help_text="Our delivery id, sent as the reference.")
    status = serializers.ChoiceField(choices=sorted(RECEIPT_STATUSES))
    error = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ReceiptBatchSerializer(serializers.Serializer):
    receipts = serializers.ListField(child=ReceiptSerializer(), min_length=1, max_length=1000)


class ReceiptResultSerializer(serializers.Serializer):
    applied = serializers.IntegerField(help_text="Receipts that moved a message forward.")
    ignored = serializers.IntegerField(help_text="Replays, late or unknown references.")
