"""The field-report API: categories, the citizen's reports and their answers to a fix, the
public map, and the officials' queue and steps."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.permissions import IsOfficial
from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from config.openapi import ERROR_RESPONSE as ERROR
from config.openapi import step_schema
from config.parsers import SafeJSONParser
from config.validation import validated
from services import report_flow as flow
from services.api import report_serializers as s
from services.api.views import IDEMPOTENCY_HEADER, MAX_KEY_LENGTH
from services.errors import InvalidForm, ReportNotFound
from services.models import FieldReport, ReportCategory
from services.report_selectors import (
    categories_active,
    report_for_citizen,
    report_for_official,
    report_photo_for_citizen,
    report_photo_for_official,
    reports_for_official,
    reports_of,
    reports_public,
    reports_similar,
)


class _Public:
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"


class ReportCategoryListView(_Public, generics.ListAPIView):
    serializer_class = s.ReportCategorySerializer
    pagination_class = None
    queryset = ReportCategory.objects.none()  # for the schema

    def get_queryset(self):
        return categories_active()

    @extend_schema(summary="What can be reported, who handles it, and the deadlines")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ReportPagination(CursorPagination):
    page_size = 20
    ordering = ("-created_at", "-id")


# Of a report as report_for_citizen reads it for a logged-in citizen (``following`` and
# ``my_reaction`` read with it).
def _mine(report: FieldReport, similar=None) -> dict:
    context = {"similar": similar, "reaction": report.my_reaction}
    return s.MyReportDetailSerializer(report, context=context).data


def _citizen_view(request: Request, report: FieldReport) -> dict:
    if report.reporter_id == request.user.pk:
        return _mine(report)
    context = {"following": report.following, "reaction": report.my_reaction}
    return s.PublicReportDetailSerializer(report, context=context).data


class ReportListView(generics.ListAPIView):
    serializer_class = s.MyReportSerializer
    pagination_class = ReportPagination
    parser_classes = [MultiPartParser, FormParser]
    queryset = FieldReport.objects.none()  # for the schema

    def _following(self) -> bool:
        return validated(s.MineQuerySerializer, self.request.query_params)["following"]

    def get_queryset(self):
        return reports_of(user=self.request.user, following=self._following())

    def get_serializer_class(self):
        # Someone else's reports, de-identified as the public map shows them.
        if self.request.method == "GET" and self._following():
            return s.PublicReportSerializer
        return s.MyReportSerializer

    @extend_schema(
        parameters=[s.MineQuerySerializer],
        summary="My reports (or those I follow, de-identified), newest first",
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.ReportSubmitSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: s.MyReportDetailSerializer, 200: s.MyReportDetailSerializer, 400: ERROR},
        summary="Report a problem: description, 1–5 photos, the place; anonymous if asked",
        description="The place is a digital address code (the report goes to its household's "
        "commune), or a location with `ward`, or a location alone (the commune whose centre is "
        "nearest). The answer's `similar` lists open reports of the category nearby, which the "
        "citizen may follow instead (`POST reports/{id}/follow/`). An `Idempotency-Key` sent "
        "again answers the report it made (200).",
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_KEY_LENGTH:
            message = _("An Idempotency-Key has at most %(n)d characters.") % {"n": MAX_KEY_LENGTH}
            raise InvalidForm(fields={"Idempotency-Key": [message]})
        data = validated(s.ReportSubmitSerializer, request.data)
        report, created = flow.report_submit(
            reporter=request.user,
            category=data["category"],
            description=data["description"],
            photos=data.get("photos") or [],
            address_code=data.get("address_code", "").strip(),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            ward_code=data.get("ward"),
            anonymous=data["anonymous"],
            submission_key=key,
        )
        report = report_for_citizen(user=request.user, report_id=report.pk)
        similar = []
        if report.has_location:
            similar = reports_similar(
                category=report.category,
                latitude=float(report.latitude),
                longitude=float(report.longitude),
                exclude=report.pk,
            )
        return Response(
            _mine(report, similar),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReportSimilarView(APIView):
    @extend_schema(
        parameters=[s.SimilarQuerySerializer],
        responses={200: s.SimilarReportSerializer(many=True), 400: ERROR},
        summary="Before reporting: open reports of the category near the place",
    )
    def get(self, request: Request) -> Response:
        params = validated(s.SimilarQuerySerializer, request.query_params)
        similar = reports_similar(
            category=params["category"],
            latitude=float(params["latitude"]),
            longitude=float(params["longitude"]),
        )
        distances = {item.report.pk: item.distance_m for item in similar}
        return Response(
            s.SimilarReportSerializer(
                [item.report for item in similar], many=True, context={"distances": distances}
            ).data
        )


class PublicPagination(CursorPagination):
    page_size = 100
    ordering = ("-created_at", "-id")


class PublicReportListView(_Public, generics.ListAPIView):
    serializer_class = s.PublicReportSerializer
    pagination_class = PublicPagination
    queryset = FieldReport.objects.none()  # for the schema

    def get_queryset(self):
        params = validated(s.PublicQuerySerializer, self.request.query_params)
        return reports_public(
            bbox=params.get("bbox"), category=params.get("category"), status=params.get("status")
        )

    @extend_schema(
        parameters=[s.PublicQuerySerializer],
        summary="The public map: de-identified reports, filterable by box, category, status",
        description="Reports an official has acknowledged and not hidden; no reporter, the "
        "place rounded to about 100 m, phone and ID numbers hidden in the text.",
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ReportDetailView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(
        responses={200: s.MyReportDetailSerializer, 404: ERROR},
        summary="A report: whole for its reporter, de-identified for anyone else",
        description="Without a login, or for another citizen: only a public report (or one "
        "they follow), as the public map shows it, with its timeline and transfers.",
    )
    def get(self, request: Request, report_id: int) -> Response:
        user = request.user if request.user.is_authenticated else None
        report = report_for_citizen(user=user, report_id=report_id)
        if user is None:
            return Response(s.PublicReportDetailSerializer(report).data)
        return Response(_citizen_view(request, report))


def _photo_response(photo) -> FileResponse:
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ReportPhotoView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={(200, "image/jpeg"): bytes, 404: ERROR},
        summary="A photo of a report (a hidden one only for its reporter)",
    )
    def get(self, request: Request, report_id: int, photo_id: int) -> FileResponse:
        user = request.user if request.user.is_authenticated else None
        photo = report_photo_for_citizen(user=user, report_id=report_id, photo_id=photo_id)
        response = _photo_response(photo)
        response["Cache-Control"] = "private, no-store" if photo.hidden else "public, max-age=3600"
        return response


class _CitizenStep(APIView):
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    body = s.NoteSerializer

    def act(self, request: Request, report: FieldReport, data: dict) -> None:
        raise NotImplementedError

    def post(self, request: Request, report_id: int) -> Response:
        data = validated(self.body, request.data)
        report = report_for_citizen(user=request.user, report_id=report_id)
        self.act(request, report, data)
        report = report_for_citizen(user=request.user, report_id=report_id)
        return Response(_citizen_view(request, report))


# A citizen's step: the report as they see it out.
citizen_step = step_schema(s.MyReportDetailSerializer)


@citizen_step(
    'Follow a report ("me too"): told of every step',
    "Any open report I can see; following twice is following. `DELETE` stops following.",
)
class ReportFollowView(_CitizenStep):
    body = None

    def post(self, request: Request, report_id: int) -> Response:
        report = report_for_citizen(user=request.user, report_id=report_id, to_follow=True)
        flow.report_follow(user=request.user, report=report)
        return Response(
            _citizen_view(request, report_for_citizen(user=request.user, report_id=report_id))
        )

    @extend_schema(responses={200: s.MyReportDetailSerializer, 404: ERROR})
    def delete(self, request: Request, report_id: int) -> Response:
        report = report_for_citizen(user=request.user, report_id=report_id)
        flow.report_unfollow(user=request.user, report=report)
        return Response(
            _citizen_view(request, report_for_citizen(user=request.user, report_id=report_id))
        )


@citizen_step(
    "Confirm the fix (resolved → closed)",
    "Only the reporter, within `REPORT_CONFIRM_DAYS` of the fix (409 "
    "`confirmation_period_over` after).",
)
class ReportConfirmView(_CitizenStep):
    def act(self, request, report, data) -> None:
        flow.report_confirm(actor=request.user, report=report, note=data.get("note", ""))


@citizen_step(
    "Dispute the fix (resolved → in progress): reopened and escalated to the unit's leaders",
    "Only the reporter, with the reason, within `REPORT_CONFIRM_DAYS` of the fix.",
)
class ReportDisputeView(_CitizenStep):
    body = s.ReasonSerializer

    def act(self, request, report, data) -> None:
        flow.report_dispute(actor=request.user, report=report, reason=data["reason"])


@citizen_step(
    "Like or dislike how the report was fixed (the reporter, and who followed it before the fix)",
    "Once resolved or closed after the fix (409 `invalid_transition` before, or for a report "
    "closed without a fix); 409 `reaction_refused` for a follower who came after the fix. "
    "Counts in the unit's satisfaction KPI; again to change it, `DELETE` to take it back "
    "(unfollowing takes it back too).",
)
class ReportReactionView(_CitizenStep):
    body = s.ReactionSerializer

    def act(self, request, report, data) -> None:
        flow.report_react(user=request.user, report=report, like=data["like"])

    @extend_schema(responses={200: s.MyReportDetailSerializer, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, report_id: int) -> Response:
        report = report_for_citizen(user=request.user, report_id=report_id)
        flow.report_react(user=request.user, report=report, like=None)
        return Response(
            _citizen_view(request, report_for_citizen(user=request.user, report_id=report_id))
        )


# --- officials ---------------------------------------------------------------------------------


class CanViewReports(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("services.view_fieldreport")


class OfficialReportPagination(CursorPagination):
    page_size = 50
    ordering = ("-created_at", "-id")


class OfficialReportListView(generics.ListAPIView):
    """The reports of my units; no reporter in the list."""

    permission_classes = [IsOfficial, CanViewReports]
    serializer_class = s.OfficialReportListSerializer
    pagination_class = OfficialReportPagination
    queryset = FieldReport.objects.none()  # for the schema

    def get_queryset(self):
        params = validated(s.OfficialQuerySerializer, self.request.query_params)
        return reports_for_official(
            official=self.request.user,
            status=params.get("status"),
            category=params.get("category"),
            overdue=params["overdue"],
            escalated=params["escalated"],
        )

    @extend_schema(parameters=[s.OfficialQuerySerializer], summary="My units' field reports")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


def _official_detail(request: Request, report_id: int, *, transferred: bool = False) -> dict:
    report = report_for_official(official=request.user, report_id=report_id, any_unit=transferred)
    if not report.anonymous:
        record_data_access(
            official=request.user,
            subject=report.reporter,
            resource=AccessResource.REPORT,
            purpose=AccessPurpose.REPORT_HANDLING,
            channel=AccessChannel.API,
            object_id=report.pk,
        )
    return s.OfficialReportSerializer(report, context={"official": True}).data


class OfficialReportDetailView(APIView):
    permission_classes = [IsOfficial, CanViewReports]

    @extend_schema(
        responses={200: s.OfficialReportSerializer, 404: ERROR},
        summary="A report of my units (the reporter's read is logged; none if anonymous)",
    )
    def get(self, request: Request, report_id: int) -> Response:
        return Response(_official_detail(request, report_id))


official_step = step_schema(s.OfficialReportSerializer)


class _OfficialStep(APIView):
    permission_classes = [IsOfficial, CanViewReports]
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    body = s.NoteSerializer

    def act(self, request: Request, report: FieldReport, data: dict) -> None:
        raise NotImplementedError

    def answer(self, request: Request, report_id: int) -> dict:
        return _official_detail(request, report_id)

    def post(self, request: Request, report_id: int) -> Response:
        data = validated(self.body, request.data)
        report = report_for_official(official=request.user, report_id=report_id)
        self.act(request, report, data)
        return Response(self.answer(request, report_id))


@official_step("Accept the report (submitted → accepted)")
class OfficialReportAcceptView(_OfficialStep):
    def act(self, request, report, data) -> None:
        flow.report_accept(actor=request.user, report=report, note=data.get("note", ""))


@official_step(
    "Refuse the report (submitted → refused), with the reason and a referral",
    "For a problem outside the unit's competence: say where the citizen should turn.",
)
class OfficialReportRefuseView(_OfficialStep):
    body = s.RefuseSerializer

    def act(self, request, report, data) -> None:
        flow.report_refuse(
            actor=request.user,
            report=report,
            reason=data["reason"],
            referral=data.get("referral", ""),
        )


@official_step("Start work (accepted → in progress)")
class OfficialReportStartView(_OfficialStep):
    def act(self, request, report, data) -> None:
        flow.report_start(actor=request.user, report=report, note=data.get("note", ""))


@official_step(
    "Resolve (→ resolved): a note and 1–5 photos or documents of the fix",
    "The citizen then confirms or disputes within `REPORT_CONFIRM_DAYS` days; without an "
    "answer the report closes.",
    multipart=True,
)
class OfficialReportResolveView(_OfficialStep):
    body = s.ResolveSerializer

    def act(self, request, report, data) -> None:
        flow.report_resolve(
            actor=request.user, report=report, note=data["note"], files=data.get("files") or []
        )


@official_step("Close without a fix (→ closed, not fixed), with a reason code")
class OfficialReportCloseView(_OfficialStep):
    body = s.CloseSerializer

    def act(self, request, report, data) -> None:
        flow.report_close_not_fixed(
            actor=request.user, report=report, reason=data["reason"], note=data.get("note", "")
        )


@official_step(
    "Transfer to another commune-level unit, with the reason",
    "The report arrives there as new (submitted); its deadlines count from the transfer. The "
    "citizen sees the transfer trail.",
)
class OfficialReportTransferView(_OfficialStep):
    body = s.TransferSerializer

    def act(self, request, report, data) -> None:
        flow.report_transfer(
            actor=request.user, report=report, unit_code=data["unit"], reason=data["reason"]
        )

    def answer(self, request: Request, report_id: int) -> dict:
        # The report has usually left the official's units: answered as it arrived there.
        return _official_detail(request, report_id, transferred=True)


@official_step(
    "Merge into an open report of the same problem",
    "This report ends (merged); its reporter and followers follow the other one.",
)
class OfficialReportMergeView(_OfficialStep):
    body = s.MergeSerializer

    def act(self, request, report, data) -> None:
        flow.report_merge(
            actor=request.user, report=report, into_id=data["into"], note=data.get("note", "")
        )


@official_step("Moderate for the public map: hide or show the report, its text, its photos")
class OfficialReportModerateView(_OfficialStep):
    body = s.ModerateSerializer

    def act(self, request, report, data) -> None:
        flow.report_moderate(
            actor=request.user,
            report=report,
            hidden=data.get("hidden"),
            text_hidden=data.get("text_hidden"),
            photos_hidden=data.get("photos_hidden", []),
            photos_shown=data.get("photos_shown", []),
            note=data.get("note", ""),
        )


class OfficialReportPhotoView(APIView):
    permission_classes = [IsOfficial, CanViewReports]

    @extend_schema(responses={(200, "image/jpeg"): bytes, 404: ERROR}, summary="A report's file")
    def get(self, request: Request, report_id: int, photo_id: int) -> FileResponse:
        photo = report_photo_for_official(
            official=request.user, report_id=report_id, photo_id=photo_id
        )
        response = _photo_response(photo)
        response["Cache-Control"] = "private, no-store"
        return response


class CanSeeIdentity(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("services.view_reporter_identity")


class OfficialReportIdentityView(APIView):
    permission_classes = [IsOfficial, CanSeeIdentity]

    @extend_schema(
        responses={200: s.IdentitySerializer, 403: ERROR, 404: ERROR},
        summary="Who sent the report, even anonymous (province administrators; logged)",
        description="For abuse control only; the read is in the access log with the purpose "
        "`abuse_control`, which the citizen sees in `me/access-log/`.",
    )
    def get(self, request: Request, report_id: int) -> Response:
        report = (
            reports_for_official(official=request.user)
            .select_related("reporter")
            .filter(pk=report_id)
            .first()
        )
        if report is None:
            raise ReportNotFound()
        record_data_access(
            official=request.user,
            subject=report.reporter,
            resource=AccessResource.REPORT,
            purpose=AccessPurpose.ABUSE_CONTROL,
            channel=AccessChannel.API,
            object_id=report.pk,
        )
        return Response(s.IdentitySerializer(report.reporter).data)
