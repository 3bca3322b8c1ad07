"""The OpenAPI contract, fuzzed with schemathesis: every operation of /api/schema/ (the list grows
with the API) answers without a 5xx, with a documented status code, and with a body and content
type that match the schema. Requests go to the WSGI app in-process, carrying a valid JWT of a
citizen; schemathesis also sends them without it, and with invalid data of every kind.

Throttling: the throttle counters live in the cache, which is emptied before every request, so
that the auth endpoints' low rates (auth/otp scopes) do not turn the fuzzing into a wall of 429s.
A 429 stays a documented answer of every throttled operation (config.openapi.AutoSchema).

The schema is loaded at import (``schemathesis.openapi.from_wsgi``), not from a fixture:
``schemathesis.pytest.from_fixture`` needs pytest's ``Node._nodeid``, which pytest 9.2 removed.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def citizen_authorization(citizen) -> str:
    return f"Bearer {RefreshToken.for_user(citizen).access_token}"


# Transactional: the in-process WSGI handler ends each request like a real one (closing a
# connection left outside autocommit), which a test wrapped in one transaction would not survive.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_the_contract(case, citizen_authorization):
    cache.clear()

    case.call_and_validate(headers={"Authorization": citizen_authorization}, checks=CHECKS)
