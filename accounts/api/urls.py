from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/otp/", views.OtpRequestView.as_view(), name="auth-otp"),
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.PasswordTokenView.as_view(), name="auth-token"),
    path("auth/token/otp/", views.OtpTokenView.as_view(), name="auth-token-otp"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/phone/", views.MePhoneView.as_view(), name="me-phone"),
    path("me/export/", views.MeExportView.as_view(), name="me-export"),
    path("me/devices/", views.DeviceListView.as_view(), name="me-devices"),
    path("me/devices/<id:pk>/", views.DeviceDetailView.as_view(), name="me-device"),
    path("me/access-log/", views.AccessLogView.as_view(), name="me-access-log"),
]
