from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.permissions import IsOfficial
from accounts.events import PersonRead, record_data_reads
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from accounts.selectors import official_ward_codes
from config.openapi import ERROR_RESPONSE as ERROR
from digital_address.models import Ward
from notifications.actions import (
    notification_preferences_update,
    notification_read,
    notifications_read_all,
)
from notifications.actions.broadcasts import (
    broadcast_approve,
    broadcast_cancel,
    broadcast_create,
    check_in_record,
)
from notifications.actions.deliveries import delivery_receipt_apply
from notifications.api import serializers as s
from notifications.errors import (
    BroadcastNotFound,
    BroadcastRefused,
    InvalidSignature,
    UnknownReceiptProvider,
)
from notifications.models import Broadcast, Notification
from notifications.selectors import (
    active_broadcasts,
    broadcast_progress,
    broadcasts_visible_to,
    check_in_report,
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


# --- broadcasts -------------------------------------------------------------------------------


class CanSeeBroadcasts(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("notifications.view_broadcast")


def _require(request: Request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied()


def _visible(request: Request):
    return (
        broadcasts_visible_to(official=request.user)
        .select_related("created_by", "approved_by")
        .prefetch_related("wards")
    )


class BroadcastPagination(CursorPagination):
    page_size = 50
    ordering = ("-id",)


class OfficialBroadcastListView(generics.ListAPIView):
    permission_classes = [IsOfficial, CanSeeBroadcasts]
    serializer_class = s.BroadcastSerializer
    pagination_class = BroadcastPagination
    queryset = Broadcast.objects.none()  # for the schema

    def get_queryset(self):
        return _visible(self.request)

    @extend_schema(summary="Broadcasts of my units, newest first")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.BroadcastCreateSerializer,
        responses={201: s.BroadcastSerializer, 400: ERROR, 403: ERROR},
        summary="Send a notice to wards I manage, or to the province",
    )
    def post(self, request: Request) -> Response:
        _require(request, "notifications.send_broadcast")
        serializer = s.BroadcastCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        broadcast = broadcast_create(
            official=request.user,
            title=data["title"],
            body=data["body"],
            kind=data["kind"],
            ward_codes=data.get("wards", []),
            whole_province=data["whole_province"],
            send_sms=data["send_sms"],
            scheduled_at=data.get("scheduled_at"),
            expires_at=data.get("expires_at"),
        )
        broadcast = _visible(request).get(pk=broadcast.pk)
        return Response(s.BroadcastSerializer(broadcast).data, status=201)


def _detail(request: Request, pk: int) -> Response:
    broadcast = _visible(request).filter(pk=pk).first()
    if broadcast is None:
        raise BroadcastNotFound()
    data = s.BroadcastSerializer(broadcast).data
    data["progress"] = s.BroadcastProgressSerializer(broadcast_progress(broadcast)).data
    return Response(data)


class OfficialBroadcastDetailView(APIView):
    permission_classes = [IsOfficial, CanSeeBroadcasts]

    @extend_schema(
        responses={200: s.BroadcastDetailSerializer, 404: ERROR},
        summary="A broadcast with its progress",
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class OfficialBroadcastApproveView(APIView):
    permission_classes = [IsOfficial, CanSeeBroadcasts]

    @extend_schema(
        request=None,
        responses={200: s.BroadcastDetailSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Approve another official's emergency broadcast",
    )
    def post(self, request: Request, pk: int) -> Response:
        _require(request, "notifications.approve_broadcast")
        broadcast_approve(official=request.user, broadcast_id=pk)
        return _detail(request, pk)


class OfficialBroadcastCancelView(APIView):
    permission_classes = [IsOfficial, CanSeeBroadcasts]

    @extend_schema(
        request=None,
        responses={200: s.BroadcastDetailSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Cancel a broadcast before it is sent",
    )
    def post(self, request: Request, pk: int) -> Response:
        _require(request, "notifications.send_broadcast")
        broadcast_cancel(official=request.user, broadcast_id=pk)
        return _detail(request, pk)


class OfficialCheckInReportView(APIView):
    permission_classes = [IsOfficial, CanSeeBroadcasts]

    @extend_schema(
        parameters=[
            OpenApiParameter("ward", int, required=False, description="Only this ward's lists.")
        ],
        responses={200: s.CheckInReportSerializer, 400: ERROR, 404: ERROR},
        summary="Who is safe, who needs help, which vulnerable people nobody answered for",
    )
    def get(self, request: Request, pk: int) -> Response:
        broadcast = _visible(request).filter(pk=pk).first()
        if broadcast is None:
            raise BroadcastNotFound()
        ward = request.query_params.get("ward")
        # str.isdigit() also takes "²" and other digits int() refuses.
        if ward is not None and not (ward.isascii() and ward.isdigit()):
            raise BroadcastRefused(fields={"ward": [_("A ward code is a number.")]})
        report = check_in_report(
            broadcast,
            ward=int(ward) if ward else None,
            visible=official_ward_codes(user=request.user),
        )
        # Names, places and notes of people: every one shown is a logged read.
        record_data_reads(
            official=request.user,
            reads=[
                PersonRead(subject_id=row["user"], resource=AccessResource.CHECK_IN, object_id=pk)
                for row in report["need_help"]
            ]
            + [
                PersonRead(
                    subject_id=row["user_id"],
                    resource=AccessResource.HOUSEHOLD_MEMBER,
                    object_id=row["member"],
                )
                for row in report["vulnerable_not_responded"]
            ],
            purpose=AccessPurpose.EMERGENCY_RESPONSE,
            channel=AccessChannel.API,
        )
        return Response(s.CheckInReportSerializer(report).data)


class ActiveBroadcastsView(APIView):
    """Public, no login: the alerts in force for an area."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(
        parameters=[OpenApiParameter("ward", int, required=True, description="A ward's code.")],
        responses={200: s.ActiveBroadcastSerializer(many=True), 400: ERROR},
        summary="Broadcasts in force for a ward (and its whole province)",
        auth=[],
    )
    def get(self, request: Request) -> Response:
        ward_code = request.query_params.get("ward", "")
        is_code = ward_code.isascii() and ward_code.isdigit()
        ward = Ward.objects.filter(code=int(ward_code)).first() if is_code else None
        if ward is None:
            message = _("Give a ward's code.") if not ward_code else _("Unknown ward.")
            raise BroadcastRefused(fields={"ward": [message]})
        broadcasts = active_broadcasts(ward=ward)[:50]
        return Response(s.ActiveBroadcastSerializer(broadcasts, many=True).data)


class CheckInView(APIView):
    @extend_schema(
        request=s.CheckInInputSerializer,
        responses={200: s.CheckInSerializer, 400: ERROR, 404: ERROR},
        summary="Answer an emergency: safe, or need help",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = s.CheckInInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        check_in = check_in_record(
            user=request.user,
            broadcast_id=pk,
            status=data["status"],
            note=data["note"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
        )
        return Response(s.CheckInSerializer(check_in).data)
