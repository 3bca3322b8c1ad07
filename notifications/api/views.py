from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSE as ERROR
from notifications.actions import (
    notification_preferences_update,
    notification_read,
    notifications_read_all,
)
from notifications.actions.deliveries import delivery_receipt_apply
from notifications.api import serializers as s
from notifications.errors import InvalidSignature, UnknownReceiptProvider
from notifications.models import Notification
from notifications.selectors import (
    notification_preferences,
    notifications_of,
    unread_count,
)


class InboxPagination(CursorPagination):
    page_size = 20
    ordering = ("-id",)


class NotificationListView(generics.ListAPIView):
    serializer_class = s.NotificationSerializer
    pagination_class = InboxPagination
    queryset = Notification.objects.none()  # for the schema

    def get_queryset(self):
        return notifications_of(user=self.request.user)

    @extend_schema(summary="My inbox, newest first")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class UnreadCountView(APIView):
    @extend_schema(responses={200: s.UnreadCountSerializer}, summary="Unread messages (badge)")
    def get(self, request: Request) -> Response:
        count, more = unread_count(user=request.user)
        return Response({"unread": count, "more": more})


class NotificationReadView(APIView):
    @extend_schema(
        request=None,
        responses={200: s.NotificationSerializer, 404: ERROR},
        summary="Mark one message read",
    )
    def post(self, request: Request, pk: int) -> Response:
        notification = notification_read(user=request.user, notification_id=pk)
        return Response(s.NotificationSerializer(notification).data)


class ReadAllView(APIView):
    @extend_schema(
        request=None, responses={200: s.ReadAllSerializer}, summary="Mark every message read"
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notifications_read_all(user=request.user)})


class NotificationPreferencesView(APIView):
    @extend_schema(responses={200: s.NotificationPreferencesSerializer}, summary="My choices")
    def get(self, request: Request) -> Response:
        data = notification_preferences(user=request.user)
        return Response(s.NotificationPreferencesSerializer(data).data)

    @extend_schema(
        request=s.NotificationPreferencesSerializer,
        responses={200: s.NotificationPreferencesSerializer, 400: ERROR},
        summary="Change my choices (what is left out stays as it is)",
    )
    def put(self, request: Request) -> Response:
        serializer = s.NotificationPreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        notification_preferences_update(
            user=request.user,
            language=data.get("language"),
            quiet_hours=data.get("quiet_hours", ...),
            channels=data.get("channels"),
        )
        data = notification_preferences(user=request.user)
        return Response(s.NotificationPreferencesSerializer(data).data)


class DeliveryReceiptView(APIView):
    """Called by a provider, not by a user: authenticated by an HMAC-SHA256 of the raw body
    with the provider's shared secret (DELIVERY_RECEIPT_SECRETS), hex, in ``X-Signature``
    (optionally prefixed ``sha256=``)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.ReceiptBatchSerializer,
        responses={200: s.ReceiptResultSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Delivery receipts from a provider",
        auth=[],
    )
    def post(self, request: Request, provider: str) -> Response:
        secret = settings.DELIVERY_RECEIPT_SECRETS.get(provider)
        if not secret:
            raise UnknownReceiptProvider()
        # The raw bytes, before parsing: the signature covers exactly what was sent.
        raw = request.body
        given = request.headers.get("X-Signature", "").strip().removeprefix("sha256=")
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.lower().encode(), expected.encode()):
            raise InvalidSignature()
        serializer = s.ReceiptBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        applied = 0
        receipts = serializer.validated_data["receipts"]
        for receipt in receipts:
            applied += delivery_receipt_apply(
                provider=provider,
                reference=receipt["reference"],
                status=receipt["status"],
                error=receipt["error"],
            )
        return Response({"applied": applied, "ignored": len(receipts) - applied})
