from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from services.models import CalendarDay, Procedure, RequiredDocument


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """The province administrator keeps the announced day swaps: working-day deadlines read
    them at once."""

    list_display = ["date", "is_working_day", "reason"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["reason"]


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ["position", "name", "mandatory", "template"]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    """The catalog: the province administrator keeps it as the national database publishes
    procedures; the form schema is checked as JSON Schema on save."""

    list_display = ["code", "name", "field", "level", "online_level", "processing", "active"]
    list_filter = ["active", "level", "online_level", "field"]
    search_fields = ["code", "name", "search_name"]
    inlines = [RequiredDocumentInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "field", "level", "online_level", "active"]}),
        (
            _("Processing"),
            {"fields": ["processing_time", "processing_unit", "fee", "fee_note"]},
        ),
        (_("Dossier"), {"fields": ["household_required", "form_schema"]}),
    ]

    @admin.display(description=_("processing time"))
    def processing(self, procedure: Procedure) -> str:
        return f"{procedure.processing_time} {procedure.get_processing_unit_display()}"
