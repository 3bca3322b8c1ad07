from __future__ import annotations

from django.urls import path

from services.api import views

urlpatterns = [
    path("procedures/", views.ProcedureListView.as_view(), name="procedure-list"),
    path("procedures/<str:code>/", views.ProcedureDetailView.as_view(), name="procedure-detail"),
    path("dossiers/", views.DossierListView.as_view(), name="dossier-list"),
    path("dossiers/<str:code>/", views.DossierDetailView.as_view(), name="dossier-detail"),
    path(
        "dossiers/<str:code>/supplement/",
        views.DossierSupplementView.as_view(),
        name="dossier-supplement",
    ),
    path(
        "dossiers/<str:code>/withdraw/",
        views.DossierWithdrawView.as_view(),
        name="dossier-withdraw",
    ),
    path("dossiers/<str:code>/pay/", views.DossierPayView.as_view(), name="dossier-pay"),
    path(
        "dossiers/<str:code>/attachments/",
        views.DossierAttachmentListView.as_view(),
        name="dossier-attachments",
    ),
    path(
        "dossiers/<str:code>/attachments/<int:attachment_id>/",
        views.DossierAttachmentView.as_view(),
        name="dossier-attachment",
    ),
    path("track/<str:code>/", views.DossierTrackView.as_view(), name="dossier-track"),
    path(
        "official/dossiers/", views.OfficialDossierListView.as_view(), name="official-dossier-list"
    ),
    path(
        "official/dossiers/<str:code>/",
        views.OfficialDossierDetailView.as_view(),
        name="official-dossier-detail",
    ),
    path(
        "official/dossiers/<str:code>/receive/",
        views.OfficialDossierReceiveView.as_view(),
        name="official-dossier-receive",
    ),
    path(
        "official/dossiers/<str:code>/refuse/",
        views.OfficialDossierRefuseView.as_view(),
        name="official-dossier-refuse",
    ),
    path(
        "official/dossiers/<str:code>/request-supplement/",
        views.OfficialDossierSupplementView.as_view(),
        name="official-dossier-request-supplement",
    ),
    path(
        "official/dossiers/<str:code>/request-fee/",
        views.OfficialDossierFeeView.as_view(),
        name="official-dossier-request-fee",
    ),
    path(
        "official/dossiers/<str:code>/attachments/<int:attachment_id>/",
        views.OfficialDossierAttachmentView.as_view(),
        name="official-dossier-attachment",
    ),
    path(
        "official/dossiers/<str:code>/decide/",
        views.OfficialDossierDecideView.as_view(),
        name="official-dossier-decide",
    ),
    path(
        "official/dossiers/<str:code>/return/",
        views.OfficialDossierReturnView.as_view(),
        name="official-dossier-return",
    ),
    path(
        "official/dossiers/<str:code>/stop/",
        views.OfficialDossierStopView.as_view(),
        name="official-dossier-stop",
    ),
]
