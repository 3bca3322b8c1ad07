from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsOfficial(BasePermission):
    """An official (staff with an official profile) or a superuser: the ``official/`` API."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        return user.is_superuser or (user.is_staff and hasattr(user, "official"))
