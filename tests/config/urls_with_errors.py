"""The project's URLs plus two views that crash, one under the API and one outside it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls


class BrokenApiView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request: Request) -> Response:
        raise RuntimeError("the database exploded")


def broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the template exploded")


# Before the project's URLs: its catch-all answers 404 for anything else under /api/.
urlpatterns = [
    path("api/v1/test-broken/", BrokenApiView.as_view()),
    path("test-broken/", broken_page),
    *urls.urlpatterns,
]

handler404 = urls.handler404
handler500 = urls.handler500
