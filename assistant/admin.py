"""The assistant in the admin: the FAQ officials maintain, and the questions it could not
answer or whose answer was disliked, to write FAQ entries from."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assistant.models import FaqEntry, Intent, Turn
from assistant.tasks import rebuild_index
from config.admin_dates import DateHierarchyBoundsMixin
from config.celery import enqueue_on_commit


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["questions", "answer"]

    def save_model(self, request: HttpRequest, obj: FaqEntry, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The assistant answers with it once the index is rebuilt (a task, after commit).
        enqueue_on_commit(rebuild_index, True)

    def delete_model(self, request: HttpRequest, obj: FaqEntry) -> None:
        super().delete_model(request, obj)
        enqueue_on_commit(rebuild_index, True)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        super().delete_queryset(request, queryset)
        enqueue_on_commit(rebuild_index, True)


class NeedsWorkFilter(admin.SimpleListFilter):
    title = _("to look at")
    parameter_name = "needs"

    def lookups(self, request, model_admin):
        return [
            ("unanswered", _("Not answered")),
            ("disliked", _("Not helpful")),
            ("either", _("Either")),
        ]

    def queryset(self, request, queryset):
        unanswered, disliked = Q(intent=Intent.NONE), Q(feedback="down")
        match self.value():
            case "unanswered":
                return queryset.filter(unanswered)
            case "disliked":
                return queryset.filter(disliked)
            case "either":
                return queryset.filter(unanswered | disliked)
        return queryset


@admin.register(Turn)
class TurnAdmin(DateHierarchyBoundsMixin, admin.ModelAdmin):
    """What citizens asked (phone and ID numbers masked) and what the assistant answered."""

    list_display = ["created_at", "question", "intent", "confidence", "feedback"]
    list_filter = [NeedsWorkFilter, "intent", "feedback"]
    search_fields = ["question"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["created_at", "question", "answer", "intent", "confidence", "procedures", "feedback"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
