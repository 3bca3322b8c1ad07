"""simplejwt's JWT authentication, reading the official profile with the user, and on PostgreSQL
the codes of the official's units in the same statement: every request of the officials' API
asks for them next (``IsOfficial``, ``official_ward_codes``), so the join saves a query on each
of them and costs a citizen's request nothing it can measure."""

from __future__ import annotations

from django.db import connection
from django.db.models import OuterRef
from django.utils.functional import classproperty
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication

from accounts.models import OfficialProfile, User


class _UsersWithProfile:
    """What simplejwt's ``get_user`` reads of ``user_model``: ``objects.get`` and
    ``DoesNotExist``. tests/accounts/test_authentication.py holds it to that."""

    DoesNotExist = User.DoesNotExist

    @classproperty
    def objects(cls):
        users = User.objects.select_related("official")
        if connection.vendor == "postgresql":
            from django.contrib.postgres.expressions import ArraySubquery

            links = OfficialProfile.units.through.objects.filter(
                officialprofile_id=OuterRef("official__id")
            ).values("ward_id")
            # Read by accounts.selectors.official_ward_codes (SQLite: its own query).
            users = users.annotate(official_unit_codes=ArraySubquery(links))
        return users


class JWTAuthentication(authentication.JWTAuthentication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithProfile


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class (``jwtAuth``), for ours."""

    target_class = JWTAuthentication
