"""One error body for every API error: ``{"code": ..., "message": ..., "fields": {...}}``.

Domain errors (raised by actions) share :class:`DomainError`; DRF's exceptions are reshaped by
:func:`exception_handler`; under an API path, :class:`ApiExceptionMiddleware` answers Django's
refusals (a suspicious or bad request: 400, a permission denied: 403) and anything unhandled (a
JSON 500); unknown API URLs answer a JSON 404 (:func:`api_not_found`). What Django refuses before a
view runs (a bad Host header, a failed CSRF check) reaches :func:`handler400`, :func:`handler403`
and :func:`csrf_failure`, which answer JSON under the API and Django's own pages elsewhere.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/open311/", "/webhooks/")


class DomainError(Exception):
    """A rule of the domain said no. Actions raise it; the API answers with its status."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"
    default_message = gettext_lazy("The request cannot be carried out.")

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = str(message or self.default_message)
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields or {}
        super().__init__(self.message)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": str(message), "fields": fields or {}}


# The messages of DRF's ParseError and PermissionDenied, already in the catalog.
class ErrorResponse(JsonResponse):
    """The error body as DRF renders it: compact UTF-8, Vietnamese readable on the wire."""

    def __init__(self, data: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("json_dumps_params", {"ensure_ascii": False, "separators": (",", ":")})
        super().__init__(data, **kwargs)


def _malformed() -> str:
    return _("Malformed request.")


def _bad_request() -> JsonResponse:
    return ErrorResponse(error_body("bad_request", _malformed()), status=400)


def _server_error() -> JsonResponse:
    return ErrorResponse(
        error_body("server_error", _("An unexpected error occurred. Please try again later.")),
        status=500,
    )


def _permission_denied() -> JsonResponse:
    return ErrorResponse(
        error_body("permission_denied", _("You do not have permission to perform this action.")),
        status=403,
    )


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stringify(v) for v in value]
    return str(value)


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        for value in codes.values():
            found = _first_code(value)
            if found:
                return found
    if isinstance(codes, list | tuple):
        for value in codes:
            found = _first_code(value)
            if found:
                return found
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # ApiExceptionMiddleware answers with a JSON 500 and logs it.

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _stringify(detail)
            non_field = fields.get("non_field_errors")
            message = non_field[0] if non_field else _("Invalid input.")
        else:
            items = _stringify(detail if isinstance(detail, list) else [detail])
            fields = {"non_field_errors": items}
            message = items[0] if items else _("Invalid input.")
        response.data = error_body("invalid", message, fields)
        return response

    if isinstance(exc, exceptions.ParseError):
        # DRF's message quotes the parser's English diagnostic ("JSON parse error - Expecting
        # value: line 1 column 1"), whatever the request language.
        request = context.get("request")
        media_type = getattr(request, "content_type", "") or ""
        message = _("The request body is not valid JSON.") if "json" in media_type else _malformed()
        response.data = error_body("parse_error", message)
        return response

    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict):
        # simplejwt's InvalidToken carries {"detail", "code", "messages"}.
        code = str(detail.get("code") or getattr(exc, "default_code", "error"))
        message = str(detail.get("detail") or exc)
    else:
        code = _first_code(exc.get_codes()) if isinstance(exc, exceptions.APIException) else None
        code = code or getattr(exc, "default_code", "error")
        message = str(detail) if detail is not None else str(exc)
    if isinstance(exc, Http404) or response.status_code == status.HTTP_404_NOT_FOUND:
        code, message = "not_found", _("Not found.")
    response.data = error_body(code, message)
    return response


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class ApiExceptionMiddleware:
    """Exceptions a view raises under the API answer JSON (never an HTML page), and are logged:
    Django's refusals with their 4xx (DRF's views turn only Http404 and PermissionDenied into
    their own errors; a SuspiciousOperation such as TooManyFieldsSent, raised while DRF parses a
    form body, reaches here), anything else with a 500."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return ErrorResponse(error_body("not_found", _("Not found.")), status=404)
        if isinstance(exception, SuspiciousOperation):
            # Django logs these to django.security.<name> (where alerts watch); so do we, as
            # answering here keeps Django's own handler from seeing them.
            logging.getLogger(f"django.security.{type(exception).__name__}").error("%s", exception)
            return _bad_request()
        if isinstance(exception, BadRequest):
            logger.warning("Bad request on %s %s: %s", request.method, request.path, exception)
            return _bad_request()
        if isinstance(exception, PermissionDenied):
            logger.warning("Permission denied on %s %s", request.method, request.path)
            return _permission_denied()
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _server_error()


# Exempt: the catch-all answers every method, and a POST/DELETE to an unknown API URL must get
# the JSON 404, not the CSRF middleware's HTML 403 (API clients send no CSRF cookie).
@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return ErrorResponse(error_body("not_found", _("Not found.")), status=404)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A bad request Django refused outside a view, e.g. a Host header not in ALLOWED_HOSTS."""
    if is_api_path(request.path):
        return _bad_request()
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path):
        return _permission_denied()
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW. DRF's views are exempt (JWT needs no CSRF); this answers for any other
    view under the API that keeps the check."""
    if is_api_path(request.path):
        return ErrorResponse(
            error_body("csrf_failed", _("CSRF verification failed. Request aborted.")),
            status=403,
        )
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return _server_error()
    from django.views.defaults import server_error

    return server_error(request)
