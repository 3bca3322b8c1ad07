"""The assistant in the admin: the FAQ officials maintain, and the questions it could not
answer or whose answer was disliked, to write FAQ entries from."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assistant.channel_flow import channel_messages_retry
from assistant.channels import CHANNELS
from assistant.models import (
    ChannelMessage,
    ChannelToken,
    FaqEntry,
    Intent,
    Turn,
)
from assistant.tasks import rebuild_index
from config.admin_dates import DateHierarchyBoundsMixin
from config.admin_scope import Scope, ScopedAdmin
from config.celery import enqueue_on_commit


@admin.register(FaqEntry)
class FaqEntryAdmin(ScopedAdmin):
    scope = Scope.PROVINCE
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
class TurnAdmin(DateHierarchyBoundsMixin, ScopedAdmin):
    """What citizens asked (phone and ID numbers masked) and what the assistant answered."""

    scope = Scope.PROVINCE

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


@admin.register(ChannelMessage)
class ChannelMessageAdmin(DateHierarchyBoundsMixin, ScopedAdmin):
    """Questions that came through a chat platform (masked) and whether the reply went out. The
    sender's platform id is shown to no one."""

    scope = Scope.TECHNICAL

    list_display = ["received_at", "channel", "question", "status", "attempts", "last_error"]
    list_filter = ["status", "channel"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = [
        "received_at",
        "channel",
        "question",
        "turn",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    ]
    readonly_fields = fields
    actions = ["answer_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(
        description=_("Send the answer again (failed or unanswered messages)"),
        permissions=["change"],
    )
    def answer_again(self, request: HttpRequest, queryset) -> None:
        """The sweeper takes them up within a minute."""
        count = channel_messages_retry(ids=queryset.values("pk"))
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be answered again.",
                "%(count)d messages will be answered again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


class ChannelTokenForm(forms.ModelForm):
    """The tokens are written, never shown again; left empty on a change, they are kept."""

    channel = forms.ChoiceField(label=_("channel"), choices=[(n, n) for n in CHANNELS])
    access_token = forms.CharField(
        label=_("access token"), widget=forms.PasswordInput(render_value=False), required=False
    )
    refresh_token = forms.CharField(
        label=_("refresh token"), widget=forms.PasswordInput(render_value=False), required=False
    )

    class Meta:
        model = ChannelToken
        fields = ["channel", "access_token", "refresh_token", "expires_at"]

    def clean(self):
        data = super().clean()
        for name in ("access_token", "refresh_token"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        if not data.get("access_token"):
            self.add_error("access_token", _("This field is required."))
        return data


@admin.register(ChannelToken)
class ChannelTokenAdmin(ScopedAdmin):
    scope = Scope.TECHNICAL
    form = ChannelTokenForm
    list_display = ["channel", "expires_at", "updated_at"]
