"""``GET /api/v1/``: what this API is and where its documentation lives (the README and
``scripts/run`` point newcomers here)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ApiRootSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField(help_text="The API version in the URL (`/api/v<version>/`).")
    docs = serializers.CharField(help_text="Path of the Swagger UI.")
    schema = serializers.CharField(help_text="Path of the OpenAPI 3 schema.")


class ApiRootView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="api_root",
        tags=["api"],
        summary="What this API is and where its documentation lives",
        responses={200: ApiRootSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "Công dân số API",
                "version": "1",
                "docs": reverse("swagger-ui"),
                "schema": reverse("schema"),
            }
        )
