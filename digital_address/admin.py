from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.selectors import official_ward_codes
from digital_address.models import Province, Ward


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division_type"]
    search_fields = ["name", "search_name"]
    readonly_fields = ["code", "name", "division_type", "codename"]


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "division_type",
        "province",
        "agency_code",
        "estimated_households",
    ]
    list_filter = ["province", "division_type"]
    search_fields = ["name", "search_name", "agency_code"]
    readonly_fields = ["code", "name", "division_type", "province", "codename"]
    list_select_related = ["province"]

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        codes = official_ward_codes(user=request.user)
        return qs if codes is None else qs.filter(code__in=codes)
