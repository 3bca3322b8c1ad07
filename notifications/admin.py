from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.admin_dates import DateHierarchyBoundsMixin
from notifications.models import SmsMessage
from notifications.phone_display import mask_phone


@admin.register(SmsMessage)
class SmsMessageAdmin(DateHierarchyBoundsMixin, admin.ModelAdmin):
    list_display = ["id", "masked_phone", "purpose", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "purpose", "provider"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "masked_phone",
        "purpose",
        "status",
        "attempts",
        "provider",
        "provider_reference",
        "error",
        "created_at",
        "sent_at",
        "expires_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: SmsMessage) -> str:
        return mask_phone(obj.phone)

    def has_module_permission(self, request) -> bool:
        # Messages of every unit, with numbers: for the technical administrators only.
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
