from __future__ import annotations

from django.contrib import admin

from services.models import CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """The province administrator keeps the announced day swaps: working-day deadlines read
    them at once."""

    list_display = ["date", "is_working_day", "reason"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["reason"]
