"""simplejwt's JWT authentication, reading the official profile with the user: every request of
the officials' API asks for it next (``IsOfficial``, ``official_ward_codes``), so the join
saves a query on each of them and costs a citizen's request nothing it can measure."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication

from accounts.models import User


class _UsersWithProfile:
    """What simplejwt's ``get_user`` reads of ``user_model``: ``objects.get`` and
    ``DoesNotExist``. tests/accounts/test_authentication.py holds it to that."""

    DoesNotExist = User.DoesNotExist
    objects = User.objects.select_related("official")


class JWTAuthentication(authentication.JWTAuthentication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithProfile


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class (``jwtAuth``), for ours."""

    target_class = JWTAuthentication
