from __future__ import annotations

from django.contrib import admin

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
