"""Which rows of a model an official sees in the admin, declared once per model admin and
applied in one place: ``get_queryset``, which Django's admin reads for every list, detail,
search, autocomplete, related-only filter, bulk action and export. The officials' admin site
(config.admin_site) refuses to register an admin that does not say its scope, and turns any
other (Django's groups, simplejwt's token lists) into one for superusers only."""

from __future__ import annotations

from enum import StrEnum

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.selectors import official_ward_codes


class Scope(StrEnum):
    # Rows of the official's units (``unit_field`` names the ward code); every unit for a
    # superuser, the province's for a province administrator.
    UNITS = "units"
    # A selector of the app decides (``scoped_queryset``): citizens an official may see, the
    # access log, broadcasts of the official's units.
    SELECTOR = "selector"
    # Data of the whole deployment, about no one (the catalog, the calendar, categories,
    # templates, the FAQ): whoever holds the model's permissions.
    PROVINCE = "province"
    # The machinery (SMS and delivery logs, devices, chat-channel messages and tokens):
    # superusers only, whatever permissions a group grants.
    TECHNICAL = "technical"


class ScopedAdmin(admin.ModelAdmin):
    scope: Scope | None = None
    unit_field: str = ""

    @classmethod
    def check_scope(cls) -> None:
        if cls.scope is None:
            raise ImproperlyConfigured(f"{cls.__qualname__} does not declare its scope")
        if cls.scope == Scope.UNITS and not cls.unit_field:
            raise ImproperlyConfigured(f"{cls.__qualname__}: Scope.UNITS needs unit_field")
        if cls.scope == Scope.SELECTOR and cls.scoped_queryset is ScopedAdmin.scoped_queryset:
            raise ImproperlyConfigured(f"{cls.__qualname__}: Scope.SELECTOR needs scoped_queryset")

    def scoped_queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        match self.scope:
            case Scope.UNITS:
                codes = official_ward_codes(user=request.user)
                if codes is None:
                    return queryset
                return queryset.filter(**{f"{self.unit_field}__in": codes})
            case Scope.SELECTOR:
                return self.scoped_queryset(request, queryset)
            case Scope.TECHNICAL if not request.user.is_superuser:
                return queryset.none()
        return queryset

    # Technical admins: superusers only, whatever a group grants.

    def _technical_refused(self, request: HttpRequest) -> bool:
        return self.scope == Scope.TECHNICAL and not request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return not self._technical_refused(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._technical_refused(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return not self._technical_refused(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._technical_refused(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._technical_refused(request) and super().has_delete_permission(request, obj)


class TechnicalAdmin(ScopedAdmin):
    """What an admin registered without a scope becomes (Django's, a library's)."""

    scope = Scope.TECHNICAL
