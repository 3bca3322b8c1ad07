from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSE as ERROR
from services.api import serializers as s
from services.errors import ProcedureNotFound
from services.models import Procedure
from services.selectors import procedure_detail, procedure_search


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
