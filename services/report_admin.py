"""Field reports in the officials' admin: categories (province administrators), the reports of
an official's units with one button per step they may take (the same actions as
``official/reports/``), and the Open311 applications' keys.

An anonymous report never shows who sent it here, to anyone: not the reporter, not their
digital address, not the actor of the citizen's own steps. A province administrator who must
know (abuse) asks ``official/reports/{id}/reporter/``, which is logged."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from config.admin_dates import DateHierarchyBoundsMixin
from config.admin_export import ExportAdmin
from config.admin_scope import Scope, ScopedAdmin
from config.admin_transitions import Transition, TransitionsAdmin
from digital_address.models import Ward
from services import report_flow as flow
from services.attachments import file_inline
from services.models import (
    REPORT_OPEN,
    TRANSFERABLE,
    CloseReason,
    FieldReport,
    Open311Client,
    ReportCategory,
    ReportEvent,
    ReportPhoto,
    ReportStatus,
    report_overdue,
)
from services.open311 import open311_client_create


@admin.register(ReportCategory)
class ReportCategoryAdmin(ScopedAdmin):
    scope = Scope.PROVINCE
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
    fields = ["kind", "content_type", "size", "hidden", "created_at", "preview"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def preview(self, photo: ReportPhoto) -> str:
        url = reverse("admin:services_fieldreport_file", args=[photo.report_id, photo.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open"))


class ReportNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea,
        help_text=_("The reporter and the followers read it."),
    )


class ReportRefuseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea)
    referral = forms.CharField(
        label=_("Who handles it instead"),
        required=False,
        max_length=500,
        help_text=_("The office or service the citizen should turn to."),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, list | tuple) and data:
            return [one(upload, initial) for upload in data]
        return [one(data or None, initial)]


class ReportResolveForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=2000, widget=forms.Textarea)
    files = MultipleFileField(
        label=_("Evidence (1–5 photos or PDF files)"),
        help_text=_("Photos of the fix, or the document that records it."),
    )


class ReportCloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=CloseReason.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea,
        help_text=_("Required for another reason."),
    )


class ReportTransferForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("To the unit"), queryset=Ward.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea)

    def __init__(self, *args, report: FieldReport, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            Ward.objects.filter(province_id=settings.DEPLOYMENT_PROVINCE_CODE)
            .exclude(pk=report.unit_id)
            .order_by("name")
        )


class ReportMergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("Into report number"), min_value=1, help_text=_("The report it repeats.")
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea)


class ReportModerateForm(forms.Form):
    """What the public map shows of the report, as it is now; unticked is shown."""

    hidden = forms.BooleanField(label=_("Hide the whole report"), required=False)
    text_hidden = forms.BooleanField(label=_("Hide its text"), required=False)
    photos_hidden = forms.ModelMultipleChoiceField(
        label=_("Hide these photos"),
        queryset=ReportPhoto.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args, report: FieldReport, **kwargs) -> None:
        photos = ReportPhoto.objects.filter(report=report).order_by("pk")
        kwargs.setdefault(
            "initial",
            {
                "hidden": report.hidden,
                "text_hidden": report.text_hidden,
                "photos_hidden": [p.pk for p in photos if p.hidden],
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["photos_hidden"].queryset = photos
        self.fields["photos_hidden"].label_from_instance = lambda p: (
            _("Photo %(n)s (%(kind)s)")
            % {
                "n": p.pk,
                "kind": p.get_kind_display(),
            }
        )


def _moderate(actor, report: FieldReport, data: dict):
    hidden = {p.pk for p in data["photos_hidden"]}
    every = set(ReportPhoto.objects.filter(report=report).values_list("pk", flat=True))
    return flow.report_moderate(
        actor=actor,
        report=report,
        hidden=data["hidden"],
        text_hidden=data["text_hidden"],
        photos_hidden=sorted(hidden),
        photos_shown=sorted(every - hidden),
        note=data["note"],
    )


R = ReportStatus
HANDLE = "services.handle_fieldreport"
REPORT_ACTIONS: dict[str, Transition] = {
    "accept": Transition(
        _("Accept"),
        HANDLE,
        frozenset({R.SUBMITTED}),
        lambda actor, r, data: flow.report_accept(actor=actor, report=r, note=data["note"]),
        form=ReportNoteForm,
    ),
    "refuse": Transition(
        _("Refuse (not ours)"),
        HANDLE,
        frozenset({R.SUBMITTED}),
        lambda actor, r, data: flow.report_refuse(
            actor=actor, report=r, reason=data["reason"], referral=data["referral"]
        ),
        form=ReportRefuseForm,
    ),
    "start": Transition(
        _("Start work"),
        HANDLE,
        frozenset({R.ACCEPTED}),
        lambda actor, r, data: flow.report_start(actor=actor, report=r, note=data["note"]),
        form=ReportNoteForm,
    ),
    "resolve": Transition(
        _("Resolved (with evidence)"),
        HANDLE,
        frozenset({R.ACCEPTED, R.IN_PROGRESS}),
        lambda actor, r, data: flow.report_resolve(
            actor=actor, report=r, note=data["note"], files=data["files"]
        ),
        form=ReportResolveForm,
    ),
    "close-not-fixed": Transition(
        _("Close without a fix"),
        HANDLE,
        frozenset({R.ACCEPTED, R.IN_PROGRESS}),
        lambda actor, r, data: flow.report_close_not_fixed(
            actor=actor, report=r, reason=data["reason"], note=data["note"]
        ),
        form=ReportCloseForm,
    ),
    "transfer": Transition(
        _("Transfer to another unit"),
        HANDLE,
        TRANSFERABLE,
        lambda actor, r, data: flow.report_transfer(
            actor=actor, report=r, unit_code=data["unit"].pk, reason=data["reason"]
        ),
        form=ReportTransferForm,
        form_kwargs=lambda r: {"report": r},
    ),
    "merge": Transition(
        _("Merge into another report"),
        HANDLE,
        REPORT_OPEN - {R.RESOLVED},
        lambda actor, r, data: flow.report_merge(
            actor=actor, report=r, into_id=data["into"], note=data["note"]
        ),
        form=ReportMergeForm,
    ),
    "moderate": Transition(
        _("What the public map shows"),
        "services.moderate_fieldreport",
        frozenset(R.values),
        _moderate,
        form=ReportModerateForm,
        form_kwargs=lambda r: {"report": r},
    ),
}


@admin.register(FieldReport)
class FieldReportAdmin(ExportAdmin, TransitionsAdmin, DateHierarchyBoundsMixin, ScopedAdmin):
    """The reports of an official's units, to find and read, with a button for each step the
    official may take (the same actions as ``official/reports/``)."""

    scope = Scope.UNITS
    unit_field = "unit_id"
    transitions = REPORT_ACTIONS
    # Nobody's name or number: an anonymous report's sender is never exported.
    export_fields = [
        (_("ID"), "id"),
        (_("category"), "category"),
        (_("responsible unit"), "unit"),
        (_("status"), "get_status_display"),
        (_("submitted"), "created_at"),
        (_("acknowledge by"), "acknowledge_due"),
        (_("resolve by"), "resolve_due"),
        (_("overdue"), "late"),
        (_("anonymous"), "anonymous"),
    ]

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description=_("overdue"))
    def late(self, report: FieldReport) -> bool:
        return report_overdue(report)

    def get_urls(self):
        return [
            path(
                "<id:pk>/files/<id:photo_id>/",
                self.admin_site.admin_view(self.file_view),
                name="services_fieldreport_file",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, pk: int, photo_id: int):
        """A photo or evidence file of a report of the official's units, hidden ones too."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = get_object_or_404(self.get_queryset(request), pk=pk)
        photo = get_object_or_404(ReportPhoto, report=report, pk=photo_id)
        return file_inline(photo.file, photo.content_type)

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
class Open311ClientAdmin(ScopedAdmin):
    """Applications that post reports through Open311. Adding one issues its ``api_key``,
    shown once on the next page; only its hash is kept."""

    scope = Scope.PROVINCE

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
