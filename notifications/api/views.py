from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSE as ERROR
from notifications.actions import notification_read, notifications_read_all
from notifications.api import serializers as s
from notifications.models import Notification
from notifications.selectors import notifications_of, unread_count


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
