from __future__ import annotations

from django.urls import path

from notifications.api import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/unread-count/",
        views.UnreadCountView.as_view(),
        name="notifications-unread-count",
    ),
    path(
        "notifications/<id:pk>/read/",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("notifications/read-all/", views.ReadAllView.as_view(), name="notifications-read-all"),
    path(
        "notification-preferences/",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("broadcasts/active/", views.ActiveBroadcastsView.as_view(), name="broadcasts-active"),
    path("broadcasts/<id:pk>/check-in/", views.CheckInView.as_view(), name="broadcast-check-in"),
    path(
        "official/broadcasts/",
        views.OfficialBroadcastListView.as_view(),
        name="official-broadcast-list",
    ),
    path(
        "official/broadcasts/<id:pk>/",
        views.OfficialBroadcastDetailView.as_view(),
        name="official-broadcast-detail",
    ),
    path(
        "official/broadcasts/<id:pk>/approve/",
        views.OfficialBroadcastApproveView.as_view(),
        name="official-broadcast-approve",
    ),
    path(
        "official/broadcasts/<id:pk>/cancel/",
        views.OfficialBroadcastCancelView.as_view(),
        name="official-broadcast-cancel",
    ),
    path(
        "official/broadcasts/<id:pk>/check-ins/",
        views.OfficialCheckInReportView.as_view(),
        name="official-broadcast-check-ins",
    ),
    path(
        "webhooks/delivery-receipts/<slug:provider>/",
        views.DeliveryReceiptView.as_view(),
        name="delivery-receipts",
    ),
]
