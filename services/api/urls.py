from __future__ import annotations

from django.urls import path

from services.api import views

urlpatterns = [
    path("procedures/", views.ProcedureListView.as_view(), name="procedure-list"),
    path("procedures/<str:code>/", views.ProcedureDetailView.as_view(), name="procedure-detail"),
    path("dossiers/", views.DossierListView.as_view(), name="dossier-list"),
    path("dossiers/<str:code>/", views.DossierDetailView.as_view(), name="dossier-detail"),
    path("track/<str:code>/", views.DossierTrackView.as_view(), name="dossier-track"),
]
