from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.permissions import IsOfficial
from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from accounts.selectors import official_ward_codes
from config.openapi import ERROR_RESPONSE as ERROR
from config.openapi import step_schema
from config.parsers import SafeJSONParser
from config.validation import validated
from digital_address.models import Province, Ward
from digital_address.selectors import coverage, household_of
from services import dossier_flow as flow
from services.actions import dossier_submit
from services.api import serializers as s
from services.errors import DossierNotFound, InvalidForm, ProcedureNotFound
from services.kpis import dossier_kpis, report_kpis
from services.letters import letter_response
from services.models import Dossier, FieldReport, Procedure
from services.selectors import (
    dossier_for_official,
    dossier_of,
    dossier_tracked,
    dossiers_of,
    official_queue,
    procedure_detail,
    procedure_search,
    submission_replay,
)
from services.workdays import work_calendar


class CatalogPagination(CursorPagination):
    page_size = 100
    ordering = "code"


class PublicCatalog:
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"


@extend_schema(
    parameters=[s.ProcedureQuerySerializer],
    summary="The procedure catalog; `search` ignores case and diacritics (`khai sinh`)",
)
class ProcedureListView(PublicCatalog, generics.ListAPIView):
    serializer_class = s.ProcedureListSerializer
    pagination_class = CatalogPagination
    queryset = Procedure.objects.none()  # for the schema

    def get_queryset(self):
        params = s.ProcedureQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return procedure_search(
            query=params.validated_data.get("search"),
            field=params.validated_data.get("field"),
            level=params.validated_data.get("level"),
        )


class ProcedureDetailView(PublicCatalog, APIView):
    @extend_schema(
        responses={200: s.ProcedureDetailSerializer, 404: ERROR},
        summary="A procedure: its documents, fee, processing time and form",
    )
    def get(self, request: Request, code: str) -> Response:
        procedure = procedure_detail(code=code)
        if procedure is None:
            raise ProcedureNotFound()
        return Response(s.ProcedureDetailSerializer(procedure, context={"request": request}).data)


# --- dossiers ------------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID) per submission: sending it again with the same body "
    "answers the same dossier (200) and creates nothing; with another body, 422 "
    "`idempotency_key_reused`. For retries on a weak connection.",
)


MAX_KEY_LENGTH = 100


def _request_hash(data) -> str:
    # ASCII escapes: any text hashes, lone surrogates included (they are refused later).
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class DossierPagination(CursorPagination):
    page_size = 20
    ordering = ("-submitted_at", "-id")


class DossierListView(generics.ListAPIView):
    serializer_class = s.DossierListSerializer
    pagination_class = DossierPagination
    queryset = Dossier.objects.none()  # for the schema

    def get_queryset(self):
        return dossiers_of(user=self.request.user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "calendar": work_calendar()}

    @extend_schema(summary="My dossiers, newest first")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.DossierSubmitSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: s.DossierDetailSerializer,
            200: s.DossierDetailSerializer,
            400: ERROR,
            422: ERROR,
        },
        summary="Submit a dossier online (status 1)",
        description="The form is checked against the procedure's `form_schema`: problems per "
        "field under `fields.form_data`. The receiving unit is the household's ward when a "
        "household is given (or the procedure needs one: my current household), else `unit`.",
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > MAX_KEY_LENGTH:
            message = _("An Idempotency-Key has at most %(n)d characters.") % {"n": MAX_KEY_LENGTH}
            raise InvalidForm(fields={"Idempotency-Key": [message]})
        request_hash = _request_hash(request.data)
        replayed = submission_replay(user=request.user, key=key, request_hash=request_hash)
        if replayed is not None:
            # A retry answers its dossier even if its procedure or household changed since.
            return Response(_detail(request, replayed), status=status.HTTP_200_OK)
        data = validated(s.DossierSubmitSerializer, request.data)
        household = None
        if data.get("household"):
            household = household_of(user=request.user, household_id=data["household"])
        dossier, created = dossier_submit(
            applicant=request.user,
            procedure=data["procedure"],
            form_data=data["form_data"],
            unit=data.get("unit"),
            household=household,
            idempotency_key=key,
            request_hash=request_hash,
        )
        return Response(
            _detail(request, dossier),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _detail(request: Request, dossier: Dossier) -> dict:
    return s.DossierDetailSerializer(
        dossier_of(user=request.user, code=dossier.code), context={"calendar": work_calendar()}
    ).data


class DossierDetailView(APIView):
    @extend_schema(responses={200: s.DossierDetailSerializer, 404: ERROR})
    def get(self, request: Request, code: str) -> Response:
        dossier = dossier_of(user=request.user, code=code)
        return Response(
            s.DossierDetailSerializer(dossier, context={"calendar": work_calendar()}).data
        )


class DossierTrackView(PublicCatalog, APIView):
    @extend_schema(
        responses={200: s.DossierTrackSerializer, 404: ERROR},
        summary="Track a dossier by its code: status and timeline, no personal data",
    )
    def get(self, request: Request, code: str) -> Response:
        dossier = dossier_tracked(code=code)
        return Response(
            s.DossierTrackSerializer(dossier, context={"calendar": work_calendar()}).data
        )


# --- moving a dossier -----------------------------------------------------------------------------


class DossierSupplementView(APIView):
    @extend_schema(
        request=s.NoteSerializer,
        responses={200: s.DossierDetailSerializer, 404: ERROR, 409: ERROR},
        summary="Answer a supplement request (5 → 4); the clock resumes",
        description="Attach the missing papers first (attachments arrive with a next step); "
        "the appointment date moves on by the working days waited.",
    )
    def post(self, request: Request, code: str) -> Response:
        data = validated(s.NoteSerializer, request.data)
        dossier = dossier_of(user=request.user, code=code)
        flow.dossier_supplement(actor=request.user, dossier=dossier, note=data.get("note", ""))
        return Response(_detail(request, dossier))


class DossierWithdrawView(APIView):
    @extend_schema(
        request=s.NoteSerializer,
        responses={200: s.DossierDetailSerializer, 404: ERROR, 409: ERROR},
        summary="Withdraw my dossier (→ 7) before it is decided",
    )
    def post(self, request: Request, code: str) -> Response:
        data = validated(s.NoteSerializer, request.data)
        dossier = dossier_of(user=request.user, code=code)
        flow.dossier_withdraw(actor=request.user, dossier=dossier, reason=data.get("note", ""))
        return Response(_detail(request, dossier))


class CanViewDossiers(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("services.view_dossier")


class OfficialDossierPagination(CursorPagination):
    page_size = 50
    ordering = ("-submitted_at", "-id")


@extend_schema(parameters=[s.OfficialDossierQuerySerializer])
class OfficialDossierListView(generics.ListAPIView):
    """The queue of my units; no applicant in the list (the detail's reads are logged)."""

    permission_classes = [IsOfficial, CanViewDossiers]
    serializer_class = s.OfficialDossierListSerializer
    pagination_class = OfficialDossierPagination
    queryset = Dossier.objects.none()  # for the schema

    def get_queryset(self):
        params = validated(s.OfficialDossierQuerySerializer, self.request.query_params)
        return official_queue(
            official=self.request.user,
            status=params.get("status"),
            procedure=params.get("procedure"),
            overdue=params.get("overdue", False),
            due_soon=params.get("due_soon", False),
            assigned_to=self.request.user if params.get("assigned_to_me") else None,
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        # Rows as plain values, written by s.queue_items (the serializer gives the schema).
        rows = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.queue_items(rows, work_calendar()))


def _official_detail(request: Request, code: str) -> dict:
    dossier = dossier_for_official(official=request.user, code=code)
    record_data_access(
        official=request.user,
        subject=dossier.applicant,
        resource=AccessResource.DOSSIER,
        purpose=AccessPurpose.DOSSIER_PROCESSING,
        channel=AccessChannel.API,
        object_id=dossier.code,
    )
    return s.OfficialDossierSerializer(dossier, context={"calendar": work_calendar()}).data


class OfficialDossierDetailView(APIView):
    permission_classes = [IsOfficial, CanViewDossiers]

    @extend_schema(responses={200: s.OfficialDossierSerializer, 404: ERROR})
    def get(self, request: Request, code: str) -> Response:
        return Response(_official_detail(request, code))


# An official's move: the dossier as officials see it out.
official_move = step_schema(s.OfficialDossierSerializer)


class _OfficialMove(APIView):
    permission_classes = [IsOfficial, CanViewDossiers]
    body = s.NoteSerializer

    def act(self, request: Request, dossier: Dossier, data: dict) -> None:
        raise NotImplementedError

    def post(self, request: Request, code: str) -> Response:
        data = validated(self.body, request.data)
        dossier = dossier_for_official(official=request.user, code=code)
        self.act(request, dossier, data)
        return Response(_official_detail(request, code))


@official_move("Receive the dossier (1 → 2 → 4); sets the appointment date")
class OfficialDossierReceiveView(_OfficialMove):
    def act(self, request, dossier, data) -> None:
        flow.dossier_receive(actor=request.user, dossier=dossier, note=data.get("note", ""))


@official_move("Refuse to receive the dossier (1 → 3), with the reason")
class OfficialDossierRefuseView(_OfficialMove):
    body = s.ReasonSerializer

    def act(self, request, dossier, data) -> None:
        flow.dossier_refuse(actor=request.user, dossier=dossier, reason=data["reason"])


@official_move("Ask for a supplement (4 → 5); the clock stops until the citizen answers")
class OfficialDossierSupplementView(_OfficialMove):
    body = s.MissingSerializer

    def act(self, request, dossier, data) -> None:
        flow.dossier_request_supplement(
            actor=request.user, dossier=dossier, missing=data["missing"]
        )


class DossierPayView(APIView):
    @extend_schema(
        request=None,
        responses={200: s.PaymentResultSerializer, 404: ERROR, 409: ERROR},
        summary="Pay the financial obligation online (6 → 4)",
        description="Charged once per request for payment, however often it is sent. 409 "
        "`payment_unavailable` when online payment is not available (pay at the desk).",
    )
    def post(self, request: Request, code: str) -> Response:
        dossier = dossier_of(user=request.user, code=code)
        receipt = flow.dossier_pay(actor=request.user, dossier=dossier)
        return Response(
            {
                "receipt": s.PaymentReceiptSerializer(receipt).data,
                "dossier": _detail(request, dossier),
            }
        )


@official_move("Ask the citizen to pay a fee or charge (4 → 6); the clock stops")
class OfficialDossierFeeView(_OfficialMove):
    body = s.FeeRequestSerializer

    def act(self, request, dossier, data) -> None:
        flow.dossier_request_fee(
            actor=request.user, dossier=dossier, amount=data["amount"], note=data["note"]
        )


@official_move("Stop processing (→ 8), with the reason")
class OfficialDossierStopView(_OfficialMove):
    body = s.ReasonSerializer

    def act(self, request, dossier, data) -> None:
        flow.dossier_stop(actor=request.user, dossier=dossier, reason=data["reason"])


# --- files and decisions --------------------------------------------------------------------------


def _file_response(attachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class DossierAttachmentListView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
        summary="Add a paper to my dossier (while it is new, or a supplement is asked)",
        description="PDF, JPEG or PNG, recognised by content (the name does not matter); at "
        "most `ATTACHMENT_MAX_MB` each and `ATTACHMENT_MAX_COUNT` per dossier.",
    )
    def post(self, request: Request, code: str) -> Response:
        data = validated(s.AttachmentUploadSerializer, request.data)
        dossier = dossier_of(user=request.user, code=code)
        attachment = flow.dossier_attach(actor=request.user, dossier=dossier, upload=data["file"])
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class DossierAttachmentView(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ERROR},
        summary="Download a file of my dossier (my papers, the result document)",
    )
    def get(self, request: Request, code: str, attachment_id: int) -> FileResponse:
        dossier = dossier_of(user=request.user, code=code)
        attachment = next((a for a in dossier.attachments.all() if a.pk == attachment_id), None)
        if attachment is None:
            raise DossierNotFound()
        return _file_response(attachment)


class OfficialDossierAttachmentView(APIView):
    permission_classes = [IsOfficial, CanViewDossiers]

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ERROR},
        summary="Download a file of a dossier of my unit (the read is in the access log)",
    )
    def get(self, request: Request, code: str, attachment_id: int) -> FileResponse:
        dossier = dossier_for_official(official=request.user, code=code)
        attachment = next((a for a in dossier.attachments.all() if a.pk == attachment_id), None)
        if attachment is None:
            raise DossierNotFound()
        record_data_access(
            official=request.user,
            subject=dossier.applicant,
            resource=AccessResource.DOSSIER,
            purpose=AccessPurpose.DOSSIER_PROCESSING,
            channel=AccessChannel.API,
            object_id=dossier.code,
        )
        return _file_response(attachment)


@official_move(
    "Decide (4 → 9): approve or reject, with the result document",
    multipart=True,
)
class OfficialDossierDecideView(_OfficialMove):
    body = s.DossierDecisionSerializer
    parser_classes = [MultiPartParser, SafeJSONParser]

    def act(self, request, dossier, data) -> None:
        flow.dossier_decide(
            actor=request.user,
            dossier=dossier,
            outcome=data["outcome"],
            note=data.get("note", ""),
            result=data.get("result"),
        )


@official_move("Return the result to the citizen (9 → 10)")
class OfficialDossierReturnView(_OfficialMove):
    def act(self, request, dossier, data) -> None:
        flow.dossier_return(actor=request.user, dossier=dossier, note=data.get("note", ""))


@official_move("Assign the dossier to a processing official of its unit")
class OfficialDossierAssignView(_OfficialMove):
    body = s.AssignSerializer

    def act(self, request, dossier, data) -> None:
        flow.dossier_assign(actor=request.user, dossier=dossier, assignee_id=data["assignee"])


@official_move(
    "Apologise and set a new appointment date (Mẫu 04)",
    description="The dossier counts late in the KPIs; the citizen is told in their inbox. "
    "The printable letter: `extensions/{id}/letter/`.",
)
class OfficialDossierExtendView(_OfficialMove):
    body = s.ExtendSerializer

    def act(self, request, dossier, data) -> None:
        flow.dossier_extend(
            actor=request.user, dossier=dossier, new_date=data["new_date"], reason=data["reason"]
        )


class OfficialExtensionLetterView(APIView):
    """The apology letter (Mẫu 04) as a page to print and sign: it names the applicant, so the
    read is in the access log."""

    permission_classes = [IsOfficial, CanViewDossiers]

    @extend_schema(
        responses={(200, "text/html"): OpenApiTypes.STR, 404: ERROR},
        summary="The apology letter with the new appointment date, to print (Mẫu 04)",
    )
    def get(self, request: Request, code: str, letter_id: int) -> HttpResponse:
        dossier = dossier_for_official(official=request.user, code=code)
        letter = next((x for x in dossier.extension_letters.all() if x.pk == letter_id), None)
        if letter is None:
            raise DossierNotFound()
        record_data_access(
            official=request.user,
            subject=dossier.applicant,
            resource=AccessResource.DOSSIER,
            purpose=AccessPurpose.DOSSIER_PROCESSING,
            channel=AccessChannel.API,
            object_id=dossier.code,
        )
        return letter_response(dossier, letter)


class DossierRatingView(APIView):
    @extend_schema(
        request=s.RatingSerializer,
        responses={201: s.DossierDetailSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
        summary="Rate my dossier once its result is returned (status 10), once",
        description="1–5 stars and a comment; 1 or 2 stars count as a dislike in the "
        "satisfaction KPI. A second rating: 409 `already_rated`.",
    )
    def post(self, request: Request, code: str) -> Response:
        data = validated(s.RatingSerializer, request.data)
        dossier = dossier_of(user=request.user, code=code)
        flow.dossier_rate(
            actor=request.user,
            dossier=dossier,
            stars=data["stars"],
            comment=data.get("comment", ""),
        )
        return Response(_detail(request, dossier), status=status.HTTP_201_CREATED)


# --- statistics --------------------------------------------------------------------------------


def _stats_body(wards, dossiers, reports, period: dict) -> dict:
    per_ward, total = coverage(wards=wards)
    start, end = period["from"], period["to"]
    return s.StatsReportSerializer(
        {
            "total": total,
            "wards": per_ward,
            "dossiers": dossier_kpis(dossiers=dossiers, start=start, end=end),
            "reports": report_kpis(reports=reports, start=start, end=end),
        }
    ).data


class OfficialStatsView(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        parameters=[s.KpiPeriodSerializer],
        responses={200: s.StatsReportSerializer, 400: ERROR},
        summary="My units: digital-address coverage and the public-service KPIs",
    )
    def get(self, request: Request) -> Response:
        period = validated(s.KpiPeriodSerializer, request.query_params)
        codes = official_ward_codes(user=request.user)
        wards = Ward.objects.all()
        dossiers = Dossier.objects.all()
        if codes is not None:
            wards, dossiers = wards.filter(code__in=codes), dossiers.filter(unit_id__in=codes)
        reports = FieldReport.objects.in_units(codes)
        return Response(_stats_body(wards, dossiers, reports, period))


class PublicStatsView(PublicCatalog, APIView):
    @extend_schema(
        parameters=[s.PublicStatsQuerySerializer],
        responses={200: s.StatsReportSerializer, 400: ERROR, 404: ERROR},
        summary="Per unit: digital-address coverage and public-service KPIs (counts only)",
    )
    def get(self, request: Request) -> Response:
        params = validated(s.PublicStatsQuerySerializer, request.query_params)
        province = params.get("province", settings.DEPLOYMENT_PROVINCE_CODE)
        get_object_or_404(Province, code=province)
        return Response(
            _stats_body(
                Ward.objects.filter(province_id=province),
                Dossier.objects.filter(unit__province_id=province),
                FieldReport.objects.filter(unit__province_id=province),
                params,
            )
        )
