from __future__ import annotations

from rest_framework import serializers

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
