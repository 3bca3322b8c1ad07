from __future__ import annotations

from django.urls import path

from services.api import views

urlpatterns = [
    path("procedures/", views.ProcedureListView.as_view(), name="procedure-list"),
    path("procedures/<str:code>/", views.ProcedureDetailView.as_view(), name="procedure-detail"),
]
