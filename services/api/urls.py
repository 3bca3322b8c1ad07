from __future__ import annotations

from django.urls import path, register_converter

from services.api import reports, views


class ProcedureCode:
    regex = r"[0-9]\.[0-9]{6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class DossierCode:
    # {agency code}-{YYMMDD}-{NNNN}; lower case accepted (typed from paper), upper-cased later.
    regex = r"[A-Za-z0-9.]{1,32}-[0-9]{6}-[0-9]{4,6}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(ProcedureCode, "procedure")
register_converter(DossierCode, "dossier")

urlpatterns = [
    path("procedures/", views.ProcedureListView.as_view(), name="procedure-list"),
    path(
        "procedures/<procedure:code>/", views.ProcedureDetailView.as_view(), name="procedure-detail"
    ),
    path("dossiers/", views.DossierListView.as_view(), name="dossier-list"),
    path("dossiers/<dossier:code>/", views.DossierDetailView.as_view(), name="dossier-detail"),
    path(
        "dossiers/<dossier:code>/supplement/",
        views.DossierSupplementView.as_view(),
        name="dossier-supplement",
    ),
    path(
        "dossiers/<dossier:code>/withdraw/",
        views.DossierWithdrawView.as_view(),
        name="dossier-withdraw",
    ),
    path("dossiers/<dossier:code>/pay/", views.DossierPayView.as_view(), name="dossier-pay"),
    path(
        "dossiers/<dossier:code>/attachments/",
        views.DossierAttachmentListView.as_view(),
        name="dossier-attachments",
    ),
    path(
        "dossiers/<dossier:code>/attachments/<id:attachment_id>/",
        views.DossierAttachmentView.as_view(),
        name="dossier-attachment",
    ),
    path("track/<dossier:code>/", views.DossierTrackView.as_view(), name="dossier-track"),
    path(
        "official/dossiers/", views.OfficialDossierListView.as_view(), name="official-dossier-list"
    ),
    path(
        "official/dossiers/<dossier:code>/",
        views.OfficialDossierDetailView.as_view(),
        name="official-dossier-detail",
    ),
    path(
        "official/dossiers/<dossier:code>/receive/",
        views.OfficialDossierReceiveView.as_view(),
        name="official-dossier-receive",
    ),
    path(
        "official/dossiers/<dossier:code>/refuse/",
        views.OfficialDossierRefuseView.as_view(),
        name="official-dossier-refuse",
    ),
    path(
        "official/dossiers/<dossier:code>/request-supplement/",
        views.OfficialDossierSupplementView.as_view(),
        name="official-dossier-request-supplement",
    ),
    path(
        "official/dossiers/<dossier:code>/request-fee/",
        views.OfficialDossierFeeView.as_view(),
        name="official-dossier-request-fee",
    ),
    path(
        "official/dossiers/<dossier:code>/attachments/<id:attachment_id>/",
        views.OfficialDossierAttachmentView.as_view(),
        name="official-dossier-attachment",
    ),
    path(
        "official/dossiers/<dossier:code>/decide/",
        views.OfficialDossierDecideView.as_view(),
        name="official-dossier-decide",
    ),
    path(
        "official/dossiers/<dossier:code>/return/",
        views.OfficialDossierReturnView.as_view(),
        name="official-dossier-return",
    ),
    path(
        "official/dossiers/<dossier:code>/stop/",
        views.OfficialDossierStopView.as_view(),
        name="official-dossier-stop",
    ),
    path(
        "official/dossiers/<dossier:code>/assign/",
        views.OfficialDossierAssignView.as_view(),
        name="official-dossier-assign",
    ),
    path(
        "official/dossiers/<dossier:code>/extend/",
        views.OfficialDossierExtendView.as_view(),
        name="official-dossier-extend",
    ),
    path(
        "official/dossiers/<dossier:code>/extensions/<id:letter_id>/letter/",
        views.OfficialExtensionLetterView.as_view(),
        name="official-dossier-letter",
    ),
    path(
        "dossiers/<dossier:code>/rating/", views.DossierRatingView.as_view(), name="dossier-rating"
    ),
    path("report-categories/", reports.ReportCategoryListView.as_view(), name="report-categories"),
    path("reports/", reports.ReportListView.as_view(), name="report-list"),
    path("reports/public/", reports.PublicReportListView.as_view(), name="report-public"),
    path("reports/similar/", reports.ReportSimilarView.as_view(), name="report-similar"),
    path("reports/<id:report_id>/", reports.ReportDetailView.as_view(), name="report-detail"),
    path(
        "reports/<id:report_id>/photos/<id:photo_id>/",
        reports.ReportPhotoView.as_view(),
        name="report-photo",
    ),
    path(
        "reports/<id:report_id>/follow/", reports.ReportFollowView.as_view(), name="report-follow"
    ),
    path(
        "reports/<id:report_id>/confirm/",
        reports.ReportConfirmView.as_view(),
        name="report-confirm",
    ),
    path(
        "reports/<id:report_id>/dispute/",
        reports.ReportDisputeView.as_view(),
        name="report-dispute",
    ),
    path(
        "reports/<id:report_id>/reaction/",
        reports.ReportReactionView.as_view(),
        name="report-reaction",
    ),
    path(
        "official/reports/", reports.OfficialReportListView.as_view(), name="official-report-list"
    ),
    path(
        "official/reports/<id:report_id>/",
        reports.OfficialReportDetailView.as_view(),
        name="official-report-detail",
    ),
    *[
        path(
            f"official/reports/<id:report_id>/{step}/",
            view.as_view(),
            name=f"official-report-{step}",
        )
        for step, view in [
            ("accept", reports.OfficialReportAcceptView),
            ("refuse", reports.OfficialReportRefuseView),
            ("start", reports.OfficialReportStartView),
            ("resolve", reports.OfficialReportResolveView),
            ("close", reports.OfficialReportCloseView),
            ("transfer", reports.OfficialReportTransferView),
            ("merge", reports.OfficialReportMergeView),
            ("moderate", reports.OfficialReportModerateView),
        ]
    ],
    path(
        "official/reports/<id:report_id>/photos/<id:photo_id>/",
        reports.OfficialReportPhotoView.as_view(),
        name="official-report-photo",
    ),
    path(
        "official/reports/<id:report_id>/reporter/",
        reports.OfficialReportIdentityView.as_view(),
        name="official-report-reporter",
    ),
    path("official/stats/", views.OfficialStatsView.as_view(), name="official-stats"),
    path("stats/units/", views.PublicStatsView.as_view(), name="stats-units"),
]
