from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny

from digital_address.api.serializers import ProvinceSerializer, WardQuerySerializer, WardSerializer
from digital_address.models import Province
from digital_address.selectors import ward_search


class UnitPagination(CursorPagination):
    page_size = 200
    ordering = "code"


class ProvinceListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = ProvinceSerializer
    pagination_class = None
    queryset = Province.objects.order_by("code")


@extend_schema(parameters=[WardQuerySerializer])
class WardListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = WardSerializer
    pagination_class = UnitPagination

    def get_queryset(self):
        params = WardQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return ward_search(
            province_code=params.validated_data.get("province"),
            query=params.validated_data.get("search"),
        )
