from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Language
from digital_address.api.serializers import CoordinateField
from notifications.actions.deliveries import RECEIPT_STATUSES
from notifications.events import MANDATORY_CATEGORIES
from notifications.models import (
    Broadcast,
    BroadcastKind,
    CheckIn,
    CheckInStatus,
    Notification,
)


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


# --- broadcasts -------------------------------------------------------------------------------


class BroadcastCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=2000)
    kind = serializers.ChoiceField(choices=BroadcastKind.choices)
    wards = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=99999),
        required=False,
        max_length=500,
        help_text="Ward codes (`admin-units/wards/`); or `whole_province`.",
    )
    whole_province = serializers.BooleanField(
        required=False, default=False, help_text="A province administrator's whole province."
    )
    send_sms = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Emergencies only: also an SMS to recipients without the app.",
    )
    scheduled_at = serializers.DateTimeField(
        required=False, help_text="When it goes; now if left out."
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="When it stops being active; a day after sending if left out."
    )


class DeliveryCountsSerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="Sent or delivered.")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    waiting = serializers.IntegerField()


class BroadcastProgressSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    inbox_written = serializers.IntegerField()
    push = DeliveryCountsSerializer()
    sms = DeliveryCountsSerializer()


class BroadcastSerializer(serializers.ModelSerializer):
    wards = serializers.SerializerMethodField()
    whole_province = serializers.IntegerField(
        source="province_id", allow_null=True, help_text="The province's code, if province-wide."
    )
    created_by = serializers.CharField(source="created_by.full_name")
    approved_by = serializers.CharField(source="approved_by.full_name", allow_null=True)

    class Meta:
        model = Broadcast
        fields = [
            "id",
            "title",
            "body",
            "kind",
            "status",
            "wards",
            "whole_province",
            "send_sms",
            "scheduled_at",
            "expires_at",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "cancelled_at",
            "started_at",
            "sent_at",
            "recipients",
            "inbox_written",
        ]

    def get_wards(self, broadcast: Broadcast) -> list[int]:
        return sorted(w.code for w in broadcast.wards.all())


class BroadcastDetailSerializer(BroadcastSerializer):
    progress = BroadcastProgressSerializer(source="*", read_only=True)

    class Meta(BroadcastSerializer.Meta):
        fields = [*BroadcastSerializer.Meta.fields, "progress"]


class ActiveBroadcastSerializer(serializers.ModelSerializer):
    class Meta:
        model = Broadcast
        fields = ["id", "kind", "title", "body", "sent_at", "expires_at"]


class CheckInInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CheckInStatus.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    latitude = CoordinateField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = CoordinateField(required=False, allow_null=True, min_value=-180, max_value=180)

    def validate(self, attrs: dict) -> dict:
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            missing = "longitude" if attrs.get("longitude") is None else "latitude"
            raise serializers.ValidationError(
                {missing: [_("Give both the latitude and the longitude, or neither.")]}
            )
        return attrs


class CheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        fields = ["broadcast", "status", "note", "latitude", "longitude", "updated_at"]


class WardCheckInsSerializer(serializers.Serializer):
    ward = serializers.IntegerField()
    name = serializers.CharField()
    safe = serializers.IntegerField()
    need_help = serializers.IntegerField()


class PlaceSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The household's digital address code.")
    address = serializers.CharField()
    ward = serializers.IntegerField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)


class NeedHelpSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    full_name = serializers.CharField()
    phone = serializers.CharField(help_text="Masked.")
    note = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    household = PlaceSerializer(allow_null=True)
    updated_at = serializers.DateTimeField()


class VulnerableMemberSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    full_name = serializers.CharField()
    age = serializers.IntegerField(allow_null=True)
    needs_assistance = serializers.BooleanField()
    household = PlaceSerializer()


class CheckInReportSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    wards = WardCheckInsSerializer(many=True, help_text="Answers per ward of the target.")
    need_help = NeedHelpSerializer(many=True, help_text="At most 500, the latest first.")
    need_help_total = serializers.IntegerField()
    vulnerable_not_responded = VulnerableMemberSerializer(
        many=True,
        help_text="Elderly (60+), children (under 16) and members flagged as needing "
        "assistance, of households where nobody answered; at most 500.",
    )
    vulnerable_not_responded_total = serializers.IntegerField()
