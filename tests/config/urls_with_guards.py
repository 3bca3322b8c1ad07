"""The project's URLs plus views that refuse a request the ways Django does (a suspicious or bad
request, a permission denied) and views that keep CSRF protection, under the API and outside it."""

from __future__ import annotations

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config import urls


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a path that climbs out of MEDIA_ROOT")


def bad_request(request: HttpRequest) -> HttpResponse:
    raise BadRequest("a query string this view cannot read")


def permission_denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def csrf_protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse("done")


# Before the project's URLs: its catch-all answers 404 for anything else under /api/.
urlpatterns = [
    path("api/v1/test-suspicious/", suspicious),
    path("api/v1/test-bad-request/", bad_request),
    path("api/v1/test-permission-denied/", permission_denied),
    path("api/v1/test-csrf/", csrf_protected),
    path("test-permission-denied/", permission_denied),
    path("test-csrf/", csrf_protected),
    *urls.urlpatterns,
]

handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
