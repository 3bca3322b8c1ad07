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
        "notifications/<int:pk>/read/",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("notifications/read-all/", views.ReadAllView.as_view(), name="notifications-read-all"),
    path(
        "notification-preferences/",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path(
        "webhooks/delivery-receipts/<slug:provider>/",
        views.DeliveryReceiptView.as_view(),
        name="delivery-receipts",
    ),
]
