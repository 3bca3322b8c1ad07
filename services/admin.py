from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource, User
from accounts.selectors import official_ward_codes
from config.admin_dates import DateHierarchyBoundsMixin
from config.admin_export import ExportAdmin, national_id
from config.admin_scope import Scope, ScopedAdmin
from config.admin_transitions import Transition, TransitionsAdmin
from services import dossier_flow as flow
from services.attachments import file_inline
from services.dossier_flow import officials_of_unit
from services.letters import letter_response
from services.models import (
    FINAL_STATUSES,
    CalendarDay,
    Dossier,
    DossierAttachment,
    DossierEvent,
    DossierExtension,
    DossierStatus,
    Outcome,
    Procedure,
    RequiredDocument,
)
from services.selectors import CLOCK_RUNNING, dossier_deadline_q


@admin.register(CalendarDay)
class CalendarDayAdmin(DateHierarchyBoundsMixin, ScopedAdmin):
    """The province administrator keeps the announced day swaps: working-day deadlines read
    them at once."""

    scope = Scope.PROVINCE

    list_display = ["date", "is_working_day", "reason"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["reason"]


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ["position", "name", "mandatory", "template"]


@admin.register(Procedure)
class ProcedureAdmin(ScopedAdmin):
    """The catalog: the province administrator keeps it as the national database publishes
    procedures; the form schema is checked as JSON Schema on save."""

    scope = Scope.PROVINCE

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


# --- dossiers -------------------------------------------------------------------------------


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("due_soon", _("Due soon"))]

    def queryset(self, request, queryset):
        if self.value() in ("overdue", "due_soon"):
            return queryset.filter(dossier_deadline_q(self.value(), timezone.localdate()))
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Me")), ("me_open", _("Me, not finished")), ("nobody", _("Nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "me_open":
            return queryset.filter(assignee=request.user).exclude(status__in=FINAL_STATUSES)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class EventInline(admin.TabularInline):
    model = DossierEvent
    extra = 0
    fields = ["created_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    verbose_name_plural = _("timeline")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the dossier's page, which only officials of its unit open.
        return request.user.has_perm("services.view_dossier")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor").order_by("id")


class AttachmentInline(admin.TabularInline):
    model = DossierAttachment
    extra = 0
    fields = ["kind", "original_name", "content_type", "size", "created_at", "preview"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("file"))
    def preview(self, attachment: DossierAttachment) -> str:
        url = reverse("admin:services_dossier_file", args=[attachment.dossier_id, attachment.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open"))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the dossier's page, which only officials of its unit open.
        return request.user.has_perm("services.view_dossier")


class ExtensionInline(admin.TabularInline):
    model = DossierExtension
    extra = 0
    fields = ["created_at", "previous_date", "new_date", "reason", "official", "letter"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("apology letter"))
    def letter(self, extension: DossierExtension) -> str:
        url = reverse("admin:services_dossier_letter", args=[extension.dossier_id, extension.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("Print"))

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("official")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the dossier's page, which only officials of its unit open.
        return request.user.has_perm("services.view_dossier")


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea)


class MissingForm(forms.Form):
    missing = forms.CharField(
        label=_("What is missing"),
        max_length=2000,
        widget=forms.Textarea,
        help_text=_("As the citizen will read it."),
    )


class FeeForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (VND)"), max_digits=12, decimal_places=0, min_value=1
    )
    note = forms.CharField(label=_("What it is for"), max_length=2000, widget=forms.Textarea)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea,
        help_text=_("Required to reject: the reason the citizen reads."),
    )
    result = forms.FileField(label=_("Result document"), required=False)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Official"), queryset=User.objects.none())

    def __init__(self, *args, dossier: Dossier, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = officials_of_unit(
            dossier.unit_id, "services.process_dossier"
        ).order_by("full_name")


class ExtendForm(forms.Form):
    new_date = forms.DateField(label=_("New appointment date"))
    reason = forms.CharField(
        label=_("Reason for the delay"), max_length=2000, widget=forms.Textarea
    )


S = DossierStatus
_OPEN = frozenset(set(S.values) - FINAL_STATUSES)
DOSSIER_ACTIONS: dict[str, Transition] = {
    "receive": Transition(
        _("Receive"),
        "services.receive_dossier",
        frozenset({S.SUBMITTED}),
        lambda actor, d, data: flow.dossier_receive(actor=actor, dossier=d, note=data["note"]),
        form=NoteForm,
    ),
    "refuse": Transition(
        _("Refuse"),
        "services.receive_dossier",
        frozenset({S.SUBMITTED}),
        lambda actor, d, data: flow.dossier_refuse(actor=actor, dossier=d, reason=data["reason"]),
        form=ReasonForm,
    ),
    "assign": Transition(
        _("Assign"),
        "services.assign_dossier",
        _OPEN,
        lambda actor, d, data: flow.dossier_assign(
            actor=actor, dossier=d, assignee_id=data["assignee"].pk
        ),
        form=AssignForm,
        form_kwargs=lambda d: {"dossier": d},
    ),
    "request-supplement": Transition(
        _("Request a supplement"),
        "services.process_dossier",
        frozenset({S.PROCESSING}),
        lambda actor, d, data: flow.dossier_request_supplement(
            actor=actor, dossier=d, missing=data["missing"]
        ),
        form=MissingForm,
    ),
    "request-fee": Transition(
        _("Request a fee"),
        "services.process_dossier",
        frozenset({S.PROCESSING}),
        lambda actor, d, data: flow.dossier_request_fee(
            actor=actor, dossier=d, amount=data["amount"], note=data["note"]
        ),
        form=FeeForm,
    ),
    "extend": Transition(
        _("New appointment date (apology letter)"),
        "services.process_dossier",
        flow.EXTENDABLE_STATUSES,
        lambda actor, d, data: flow.dossier_extend(
            actor=actor, dossier=d, new_date=data["new_date"], reason=data["reason"]
        ),
        form=ExtendForm,
    ),
    "stop": Transition(
        _("Stop processing"),
        "services.process_dossier",
        frozenset({S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.FEE_REQUESTED}),
        lambda actor, d, data: flow.dossier_stop(actor=actor, dossier=d, reason=data["reason"]),
        form=ReasonForm,
    ),
    "decide": Transition(
        _("Decide"),
        "services.decide_dossier",
        frozenset({S.PROCESSING}),
        lambda actor, d, data: flow.dossier_decide(
            actor=actor,
            dossier=d,
            outcome=data["outcome"],
            note=data["note"],
            result=data["result"],
        ),
        form=DecideForm,
    ),
    "return": Transition(
        _("Return the result"),
        "services.receive_dossier",
        frozenset({S.DECIDED}),
        lambda actor, d, data: flow.dossier_return(actor=actor, dossier=d, note=data["note"]),
        form=NoteForm,
    ),
}


@admin.register(Dossier)
class DossierAdmin(ExportAdmin, TransitionsAdmin, DateHierarchyBoundsMixin, ScopedAdmin):
    """The dossiers of an official's units. Nothing is edited in a form (the status is read
    only): every move is a button on the dossier's page, which calls the same action as the
    API."""

    list_display = [
        "code",
        "procedure",
        "unit",
        "status",
        "channel",
        "submitted_at",
        "appointment_date",
        "late",
        "assignee",
    ]
    list_filter = [
        "status",
        DeadlineFilter,
        AssignedFilter,
        "channel",
        ("procedure", admin.RelatedOnlyFieldListFilter),
        ("unit", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["procedure", "unit", "assignee"]
    search_fields = ["=code"]
    show_full_result_count = False
    date_hierarchy = "submitted_at"
    inlines = [EventInline, ExtensionInline, AttachmentInline]
    # What the desk needs first, then the declaration; the rest folded (at 1366×768 the
    # timeline stays near the top).
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "procedure",
                    "unit",
                    "applicant",
                    "status",
                    "appointment_date",
                    "assignee",
                ]
            },
        ),
        (_("Declaration"), {"fields": ["declaration"]}),
        (
            _("Details"),
            {
                "classes": ["collapse"],
                "fields": [
                    "household",
                    "channel",
                    "submitted_at",
                    "received_at",
                    "supplement_requests",
                    "fee_due",
                    "extensions",
                    "outcome",
                    "decided_at",
                    "on_time",
                    "working_days_taken",
                ],
            },
        ),
    ]
    readonly_fields = [f for _name, options in fieldsets for f in options["fields"]]
    scope = Scope.UNITS
    unit_field = "unit_id"
    transitions = DOSSIER_ACTIONS
    export_fields = [
        (_("dossier code"), "code"),
        (_("procedure"), "procedure"),
        (_("receiving unit"), "unit"),
        (_("status"), "get_status_display"),
        (_("channel"), "get_channel_display"),
        (_("submitted"), "submitted_at"),
        (_("appointment date"), "appointment_date"),
        (_("overdue"), "late"),
        (_("assigned to"), "assignee__full_name"),
        (_("applicant"), "applicant__full_name"),
        (_("citizen ID number"), national_id("applicant__national_id")),
    ]
    export_person = "applicant_id"
    export_resource = AccessResource.DOSSIER
    export_record = "code"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_list_display(self, request: HttpRequest):
        # An official of one unit needs no unit column (the list is narrower at 1366×768).
        codes = official_ward_codes(user=request.user)
        if codes is not None and len(codes) == 1:
            return [name for name in self.list_display if name != "unit"]
        return self.list_display

    @admin.display(description=_("declaration"))
    def declaration(self, dossier: Dossier) -> str:
        """What the citizen filled in, each answer under its question (the form's titles)."""
        titles = {
            name: spec.get("title", name)
            for name, spec in (dossier.procedure.form_schema or {}).get("properties", {}).items()
            if isinstance(spec, dict)
        }
        rows = [
            (titles.get(name, name), value if not isinstance(value, list | dict) else str(value))
            for name, value in (dossier.form_data or {}).items()
        ]
        if not rows:
            return "—"
        return format_html(
            '<dl class="declaration">{}</dl>',
            format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
        )

    @admin.display(boolean=True, description=_("overdue"))
    def late(self, dossier: Dossier) -> bool:
        return dossier.status in CLOCK_RUNNING and (
            dossier.appointment_date is not None and dossier.appointment_date < timezone.localdate()
        )

    def get_urls(self):
        return [
            path(
                "<id:pk>/files/<id:attachment_id>/",
                self.admin_site.admin_view(self.file_view),
                name="services_dossier_file",
            ),
            path(
                "<id:pk>/letter/<id:letter_id>/",
                self.admin_site.admin_view(self.letter_view),
                name="services_dossier_letter",
            ),
            *super().get_urls(),
        ]

    def _dossier_read(self, request: HttpRequest, pk: int, model, item_id: int):
        """A page of the dossier's own (a file, a letter): the dossier, of the official's units,
        and its item; the read of the applicant's data logged once both are found."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        dossier = get_object_or_404(self.get_queryset(request).select_related("applicant"), pk=pk)
        item = get_object_or_404(model, dossier=dossier, pk=item_id)
        record_data_access(
            official=request.user,
            subject=dossier.applicant,
            resource=AccessResource.DOSSIER,
            purpose=AccessPurpose.DOSSIER_PROCESSING,
            channel=AccessChannel.ADMIN,
            object_id=dossier.code,
        )
        return dossier, item

    def file_view(self, request: HttpRequest, pk: int, attachment_id: int):
        """A paper of the dossier or its result, shown in the browser."""
        _dossier, attachment = self._dossier_read(request, pk, DossierAttachment, attachment_id)
        return file_inline(attachment.file, attachment.content_type, attachment.original_name)

    def letter_view(self, request: HttpRequest, pk: int, letter_id: int):
        """The apology letter (Mẫu 04) to print."""
        dossier, letter = self._dossier_read(request, pk, DossierExtension, letter_id)
        return letter_response(dossier, letter)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", None) == 200:
            dossier = response.context_data["original"]
            record_data_access(
                official=request.user,
                subject=dossier.applicant,
                resource=AccessResource.DOSSIER,
                purpose=AccessPurpose.ADMIN_VIEW,
                channel=AccessChannel.ADMIN,
                object_id=dossier.code,
            )
        return response


# Field reports and Open311 applications, registered by their own module.
from services import report_admin  # noqa: E402, F401
