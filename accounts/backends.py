"""Log in with the phone number as people type it (the admin's login form too), behind the same
per-number lock as every other password check (accounts.login_attempts)."""

from __future__ import annotations

import contextlib

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from accounts.login_attempts import password_check
from accounts.models import User
from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone


class PhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        # Not a mobile number: the exact lookup below fails as it should.
        with contextlib.suppress(InvalidPhoneNumber):
            username = normalize_phone(username)
        found = []

        def check() -> bool:
            user = super(PhoneBackend, self).authenticate(
                request, username=username, password=password, **kwargs
            )
            found.append(user)
            return user is not None

        return found[0] if password_check(username, check) else None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """Django's answer, in one short statement instead of two ORM queries: every official
        request checks a permission, and building the ORM's joins cost more than running them
        (bench/official_queue.py)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                with connection.cursor() as cursor:
                    cursor.execute(_PERMISSIONS_SQL, [user_obj.pk, user_obj.pk])
                    rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


def _permissions_sql() -> str:
    """The user's own permissions and their groups', as (app label, codename). Only table and
    column names of our models are put in the text, quoted; the user's id is a parameter."""
    own = User.user_permissions.through._meta
    member = User.groups.through._meta
    granted = Group.permissions.through._meta
    q = connection.ops.quote_name

    def column(meta, field: str) -> str:
        return q(meta.get_field(field).column)

    permission, content_type = q(Permission._meta.db_table), q(ContentType._meta.db_table)
    own_table, member_table, granted_table = (q(m.db_table) for m in (own, member, granted))
    own_permission, own_user = column(own, "permission"), column(own, "user")
    member_group, member_user = column(member, "group"), column(member, "user")
    granted_group, granted_permission = column(granted, "group"), column(granted, "permission")
    return (
        f"SELECT ct.app_label, p.codename FROM {permission} p "  # noqa: S608 (quoted names)
        f"JOIN {content_type} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN ("
        f"SELECT {own_permission} FROM {own_table} WHERE {own_user} = %s "
        f"UNION SELECT g.{granted_permission} FROM {granted_table} g "
        f"JOIN {member_table} m ON m.{member_group} = g.{granted_group} "
        f"WHERE m.{member_user} = %s)"
    )


_PERMISSIONS_SQL = _permissions_sql()
