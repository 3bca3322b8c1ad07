"""The OpenAPI schema documents every error answer an operation can give, in the one error body.

drf-spectacular documents only what a view declares. The errors that come from the framework
(bad input, no token, an unknown id or cursor, a body no parser reads, throttling) are added
here from what the view is, so the contract stays complete as the API grows.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="Human-readable message in the request language.")
    fields = serializers.DictField(
        help_text="Per-field messages for invalid input (field name → list of messages)."
    )


ERROR_RESPONSE = OpenApiResponse(ErrorSerializer, description="Error body: {code, message, fields}")


def step_schema(answer: type[serializers.Serializer]):
    """The schema of a step of a workflow (a POST that moves a dossier or a report): the view's
    ``body`` in (multipart when ``multipart``), ``answer`` out; 400 (the body), 404 (not one of
    mine, or not my role) and 409 (not from this status)."""

    def schema(summary: str, description: str | None = None, *, multipart: bool = False):
        def decorate(view: type) -> type:
            return extend_schema_view(
                post=extend_schema(
                    request={"multipart/form-data": view.body} if multipart else view.body,
                    responses={
                        200: answer,
                        400: ERROR_RESPONSE,
                        404: ERROR_RESPONSE,
                        409: ERROR_RESPONSE,
                    },
                    summary=summary,
                    description=description,
                )
            )(view)

        return decorate

    return schema


# The cursor paginator answers 404 for a cursor it did not issue.
PAGINATION_PARAMETERS = frozenset({"cursor"})


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._framework_error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(ERROR_RESPONSE, code)
        return operation

    def _framework_error_codes(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        codes = []
        if "requestBody" in operation or query - PAGINATION_PARAMETERS:
            codes.append("400")
        if self._requires_authentication():
            codes.append("401")
        if self._checks_more_than_login():
            codes.append("403")
        if any(p["in"] == "path" for p in parameters) or query & PAGINATION_PARAMETERS:
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")  # a body in a media type no parser reads, or with none at all
        if getattr(self.view, "throttle_classes", None):
            codes.append("429")
        return codes

    def _checks_more_than_login(self) -> bool:
        """A permission class beyond "logged in" (an official's) can answer 403."""
        return any(
            not isinstance(permission, (permissions.AllowAny, permissions.IsAuthenticated))
            for permission in self.view.get_permissions()
        )

    def _requires_authentication(self) -> bool:
        if not self.view.get_authenticators():
            return False
        return not any(
            isinstance(permission, permissions.AllowAny)
            for permission in self.view.get_permissions()
        )
