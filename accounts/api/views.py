from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from accounts.actions.otp import otp_request
from accounts.actions.users import (
    device_delete,
    device_register,
    token_logout,
    tokens_issue,
    user_authenticate_password,
    user_change_phone,
    user_erase,
    user_login_otp,
    user_register,
    user_reset_password,
    user_update_profile,
)
from accounts.api import serializers as s
from accounts.models import DataAccessLog, Device, User
from accounts.selectors import access_log_for, user_export
from config.client_ip import client_ip
from config.openapi import ERROR_RESPONSE as ERROR


def _tokens(user: User) -> dict[str, str]:
    pair = tokens_issue(user=user)
    return {"access": pair.access, "refresh": pair.refresh}


class AuthView(APIView):
    """Unauthenticated and throttled per client address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def valid(self, serializer_class, request: Request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class OtpRequestView(AuthView):
    throttle_scope = "otp"

    @extend_schema(
        request=s.OtpRequestSerializer,
        responses={202: s.OtpRequestResponseSerializer, 400: ERROR, 429: ERROR},
        summary="Ask for a one-time code by SMS",
        description="Always 202 for valid input, whether or not the number has an account.",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(s.OtpRequestSerializer, request)
        result = otp_request(
            phone=data["phone"],
            purpose=data["purpose"],
            ip=client_ip(request),
            language=request.LANGUAGE_CODE,
        )
        return Response(
            {
                "detail": _("If this number can receive it, a code is on its way by SMS."),
                "resend_after": result.resend_after,
                "expires_in": result.expires_in,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class RegisterView(AuthView):
    @extend_schema(request=s.RegisterSerializer, responses={201: s.TokenPairSerializer, 400: ERROR})
    def post(self, request: Request) -> Response:
        data = self.valid(s.RegisterSerializer, request)
        user = user_register(**data)
        return Response(_tokens(user), status=status.HTTP_201_CREATED)


class PasswordTokenView(AuthView):
    @extend_schema(
        request=s.PasswordLoginSerializer,
        responses={200: s.TokenPairSerializer, 400: ERROR, 401: ERROR},
    )
    def post(self, request: Request) -> Response:
        data = self.valid(s.PasswordLoginSerializer, request)
        return Response(_tokens(user_authenticate_password(**data)))


class OtpTokenView(AuthView):
    @extend_schema(request=s.OtpLoginSerializer, responses={200: s.TokenPairSerializer, 400: ERROR})
    def post(self, request: Request) -> Response:
        data = self.valid(s.OtpLoginSerializer, request)
        return Response(_tokens(user_login_otp(**data)))


class RefreshView(TokenRefreshView):
    serializer_class = s.RefreshTokenSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=s.RefreshSerializer, responses={200: s.TokenPairSerializer, 400: ERROR, 401: ERROR}
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class PasswordResetView(AuthView):
    @extend_schema(request=s.PasswordResetSerializer, responses={204: None, 400: ERROR})
    def post(self, request: Request) -> Response:
        data = self.valid(s.PasswordResetSerializer, request)
        user_reset_password(**data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=s.RefreshSerializer, responses={204: None, 400: ERROR, 401: ERROR})
    def post(self, request: Request) -> Response:
        serializer = s.RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_logout(user=request.user, refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    throttle_scope = "auth"

    def get_throttles(self):
        # Writes (a profile change, an erasure with its password) are throttled like logins;
        # reading one's own profile is not.
        return [] if self.request.method == "GET" else [ScopedRateThrottle()]

    @extend_schema(responses={200: s.ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.ProfileSerializer(request.user).data)

    @extend_schema(request=s.ProfileSerializer, responses={200: s.ProfileSerializer, 400: ERROR})
    def patch(self, request: Request) -> Response:
        serializer = s.ProfileSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, data=serializer.validated_data)
        return Response(s.ProfileSerializer(user).data)

    @extend_schema(
        request=s.EraseSerializer,
        responses={204: None, 400: ERROR},
        summary="Erase my account",
        description="Erases or de-identifies all personal data; confirm with the password.",
    )
    def delete(self, request: Request) -> Response:
        serializer = s.EraseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_erase(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MePhoneView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=s.PhoneChangeSerializer,
        responses={200: s.TokenPairSerializer, 400: ERROR},
        summary="Change my phone number",
        description=(
            "Ask for a code with purpose change_phone for the new number first; confirm with the "
            "current password. Every refresh token is revoked; the answer carries a new pair."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = s.PhoneChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_change_phone(
            user=request.user,
            new_phone=serializer.validated_data["phone"],
            otp=serializer.validated_data["otp"],
            password=serializer.validated_data["password"],
        )
        return Response(_tokens(user))


class MeExportView(APIView):
    @extend_schema(responses={200: dict}, summary="Export all my personal data")
    def get(self, request: Request) -> Response:
        return Response(user_export(user=request.user))


class DeviceListView(generics.ListCreateAPIView):
    serializer_class = s.DeviceSerializer
    pagination_class = None

    queryset = Device.objects.none()

    def get_queryset(self):
        return Device.objects.filter(user=self.request.user).order_by("-updated_at", "-id")

    @extend_schema(responses={201: s.DeviceSerializer, 200: s.DeviceSerializer, 400: ERROR})
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device, created = device_register(user=request.user, **serializer.validated_data)
        return Response(
            s.DeviceSerializer(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DeviceDetailView(APIView):
    @extend_schema(responses={204: None, 404: ERROR})
    def delete(self, request: Request, pk: int) -> Response:
        device_delete(user=request.user, device_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessLogPagination(CursorPagination):
    page_size = 50
    ordering = ("-created_at", "-id")


class AccessLogView(generics.ListAPIView):
    serializer_class = s.AccessLogEntrySerializer
    pagination_class = AccessLogPagination

    queryset = DataAccessLog.objects.none()

    def get_queryset(self):
        return access_log_for(user=self.request.user)
