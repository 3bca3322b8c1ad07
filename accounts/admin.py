from __future__ import annotations

import contextlib

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.events import PersonRead, record_data_access, record_data_reads
from accounts.models import (
    AccessChannel,
    AccessPurpose,
    AccessResource,
    DataAccessLog,
    Device,
    OfficialProfile,
    User,
)
from accounts.national_id import mask_national_id
from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone
from accounts.selectors import access_log_visible_to, citizens_visible_to
from config.admin_dates import DateHierarchyBoundsMixin
from config.admin_export import ExportAdmin, national_id, phone, sees_full_numbers
from config.admin_scope import Scope, ScopedAdmin
from notifications.phone_display import mask_phone


class OfficialProfileInline(admin.StackedInline):
    model = OfficialProfile
    can_delete = False
    filter_horizontal = ["units"]
    extra = 0


@admin.register(User)
class UserAdmin(ExportAdmin, ScopedAdmin, BaseUserAdmin):
    # Superusers: everyone; officials: the citizens of their units (accounts.selectors).
    scope = Scope.SELECTOR
    export_fields = [
        (_("full name"), "full_name"),
        (_("phone number"), phone("phone")),
        (_("citizen ID number"), national_id("national_id")),
    ]
    export_person = "pk"
    export_resource = AccessResource.PROFILE
    ordering = ["-date_joined"]
    list_display = [
        "id",
        "full_name",
        "masked_phone",
        "ward",
        "is_staff",
        "is_active",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["full_name", "phone"]
    list_select_related = ["ward"]
    readonly_fields = [
        "masked_phone",
        "masked_national_id",
        "date_joined",
        "last_login",
        "erased_at",
    ]
    add_fieldsets = (
        (None, {"classes": ["wide"], "fields": ["phone", "full_name", "password1", "password2"]}),
    )
    inlines = [OfficialProfileInline]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        personal = ["full_name", "date_of_birth", "gender", "email", "language", "ward"]
        ids = (
            ["phone", "national_id"]
            if self._sees_full(request)
            else ["masked_phone", "masked_national_id"]
        )
        fieldsets = [
            (_("Citizen"), {"fields": ids + personal}),
            (_("Account"), {"fields": ["is_active", "date_joined", "last_login", "erased_at"]}),
        ]
        if request.user.is_superuser:
            fieldsets.append(
                (
                    _("Permissions"),
                    {
                        "fields": [
                            "password",
                            "is_staff",
                            "is_superuser",
                            "groups",
                            "user_permissions",
                        ]
                    },
                )
            )
        return fieldsets

    def get_inlines(self, request, obj):
        return [OfficialProfileInline] if request.user.is_superuser and obj is not None else []

    @staticmethod
    def _sees_full(request: HttpRequest) -> bool:
        return sees_full_numbers(request)

    def scoped_queryset(self, request: HttpRequest, queryset):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=citizens_visible_to(official=request.user).values("pk"))

    # What an official who sees numbers masked may filter on through the URL: Django would
    # otherwise accept ?phone__startswith=… on any field and confirm a number digit by digit.
    MASKED_LOOKUP_ROOTS = frozenset({"is_staff", "is_active", "groups", "ward"})

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if (
            request is not None
            and not self._sees_full(request)
            and lookup.split("__", 1)[0] not in self.MASKED_LOOKUP_ROOTS
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request: HttpRequest):
        # Searching by number would confirm a number the official is shown only masked.
        return ["full_name", "phone"] if self._sees_full(request) else ["full_name"]

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if self._sees_full(request):
            # The number as people type it ("0912 345 678") finds the stored E.164 form.
            with contextlib.suppress(InvalidPhoneNumber):
                results = results | queryset.filter(phone=normalize_phone(search_term))
        return results, may_have_duplicates

    @admin.display(description=_("phone number"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=_("citizen ID number"))
    def masked_national_id(self, obj: User) -> str:
        return mask_national_id(obj.national_id)

    def changelist_view(self, request, extra_context=None):
        """The list shows people's names (numbers masked): each person listed is a read, logged
        in one INSERT for the page."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) or {}
        if request.method == "GET" and response.status_code == 200 and "cl" in changelist:
            record_data_reads(
                official=request.user,
                reads=[
                    PersonRead(user.pk, AccessResource.PROFILE, user.pk)
                    for user in changelist["cl"].result_list
                ],
                purpose=AccessPurpose.ADMIN_VIEW,
                channel=AccessChannel.ADMIN,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            subject = self.get_object(request, object_id)
            if subject is not None:
                record_data_access(
                    official=request.user,
                    subject=subject,
                    resource=AccessResource.PROFILE,
                    object_id=subject.pk,
                    purpose=AccessPurpose.ADMIN_VIEW,
                    channel=AccessChannel.ADMIN,
                )
        return response


@admin.register(Device)
class DeviceAdmin(ScopedAdmin):
    scope = Scope.TECHNICAL
    list_display = ["id", "user", "platform", "app_version", "is_active", "updated_at"]
    list_filter = ["platform", "is_active"]
    raw_id_fields = ["user"]


@admin.register(DataAccessLog)
class DataAccessLogAdmin(DateHierarchyBoundsMixin, ScopedAdmin):
    scope = Scope.SELECTOR
    list_display = [
        "created_at",
        "official",
        "subject",
        "resource",
        "object_id",
        "purpose_label",
        "channel",
    ]
    list_filter = ["channel", "resource"]
    date_hierarchy = "created_at"
    list_select_related = ["official", "subject"]

    def scoped_queryset(self, request: HttpRequest, queryset):
        return access_log_visible_to(official=request.user)

    @admin.display(description=_("purpose"), ordering="purpose")
    def purpose_label(self, row: DataAccessLog) -> str:
        # In the reader's language; a row written before the codes shows its text as it was.
        return row.get_purpose_display()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
