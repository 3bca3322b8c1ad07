"""Field reports in the officials' admin: categories (province administrators), the reports of
an official's units (read only: officials act through ``official/reports/``), and the Open311
applications' keys.

An anonymous report never shows who sent it here, to anyone: not the reporter, not their
digital address, not the actor of the citizen's own steps. A province administrator who must
know (abuse) asks ``official/reports/{id}/reporter/``, which is logged."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from accounts.selectors import official_ward_codes
from config.admin_dates import DateHierarchyBoundsMixin
from services.models import (
    FieldReport,
    Open311Client,
    ReportCategory,
    ReportEvent,
    ReportPhoto,
    report_overdue,
)
from services.open311 import open311_client_create


@admin.register(ReportCategory)
class ReportCategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "group",
        "handled_by",
        "acknowledge_days",
        "resolve_days",
        "active",
    ]
    list_filter = ["active", "group"]
    search_fields = ["code", "name", "name_en"]
    ordering = ["position", "code"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Reports keep their category: retire it (active off) instead.
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        return queryset.overdue(timezone.localdate())


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the report's page, which only officials of its unit open.
        return request.user.has_perm("services.view_fieldreport")


class ReportEventInline(_ReadOnlyInline):
    model = ReportEvent
    # No actor: a citizen's own step would name an anonymous reporter.
    fields = ["created_at", "kind", "actor_role", "to_status", "unit", "to_unit", "note", "reason"]
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("unit", "to_unit").order_by("id")


class ReportPhotoInline(_ReadOnlyInline):
    model = ReportPhoto
    fields = ["kind", "content_type", "size", "hidden", "created_at"]
    readonly_fields = fields


@admin.register(FieldReport)
class FieldReportAdmin(DateHierarchyBoundsMixin, admin.ModelAdmin):
    """The reports of an official's units, to find and read; every step goes through the
    officials' API (the same actions)."""

    list_display = [
        "id",
        "category",
        "unit",
        "status",
        "created_at",
        "acknowledge_due",
        "resolve_due",
        "late",
        "escalated",
        "anonymous",
    ]
    list_filter = [
        "status",
        OverdueFilter,
        "escalated",
        "anonymous",
        "source",
        ("category", admin.RelatedOnlyFieldListFilter),
        ("unit", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["category", "unit"]
    search_fields = ["=id"]
    show_full_result_count = False
    date_hierarchy = "created_at"
    inlines = [ReportEventInline, ReportPhotoInline]
    _FIELDS = [
        "id",
        "category",
        "unit",
        "status",
        "anonymous",
        "reporter",
        "source",
        "description",
        "latitude",
        "longitude",
        "created_at",
        "received_at",
        "acknowledge_due",
        "resolve_due",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "close_reason",
        "satisfied",
        "escalated",
        "merged_into",
        "followers_count",
        "hidden",
        "text_hidden",
    ]

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        if obj is not None and obj.anonymous:
            return [f for f in self._FIELDS if f != "reporter"]
        return self._FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return self.get_fields(request, obj)

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        return queryset.in_units(official_ward_codes(user=request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description=_("overdue"))
    def late(self, report: FieldReport) -> bool:
        return report_overdue(report)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", None) == 200:
            report = response.context_data["original"]
            if not report.anonymous:
                record_data_access(
                    official=request.user,
                    subject=report.reporter,
                    resource=AccessResource.REPORT,
                    purpose=AccessPurpose.ADMIN_VIEW,
                    channel=AccessChannel.ADMIN,
                    object_id=report.pk,
                )
        return response


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    """Applications that post reports through Open311. Adding one issues its ``api_key``,
    shown once on the next page; only its hash is kept."""

    list_display = ["name", "key_prefix", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    fields = ["name", "contact", "active", "key_prefix", "created_at", "last_used_at"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Its reports keep naming it: deactivate instead.
        return False

    def save_model(self, request: HttpRequest, obj: Open311Client, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = open311_client_create(name=obj.name, contact=obj.contact, active=obj.active)
        obj.pk, obj.key_prefix = client.pk, client.key_prefix
        messages.warning(
            request,
            _("The api_key of %(name)s, shown only now: %(key)s")
            % {"name": client.name, "key": key},
        )
