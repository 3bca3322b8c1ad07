from __future__ import annotations

from django.urls import path

from digital_address.api import views

urlpatterns = [
    path("admin-units/provinces/", views.ProvinceListView.as_view(), name="province-list"),
    path("admin-units/wards/", views.WardListView.as_view(), name="ward-list"),
]
