from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource, User
from accounts.selectors import official_ward_codes
from config.admin_dates import DateHierarchyBoundsMixin
from config.errors import DomainError
from services import dossier_flow as flow
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
from services.selectors import CLOCK_RUNNING, due_soon_until
from services.workdays import work_calendar


@admin.register(CalendarDay)
class CalendarDayAdmin(DateHierarchyBoundsMixin, admin.ModelAdmin):
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


# --- dossiers -------------------------------------------------------------------------------


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("due_soon", _("Due soon"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(
                status__in=CLOCK_RUNNING, appointment_date__lt=timezone.localdate()
            )
        if self.value() == "due_soon":
            today = timezone.localdate()
            return queryset.filter(
                status__in=CLOCK_RUNNING,
                appointment_date__gte=today,
                appointment_date__lte=due_soon_until(work_calendar(), today),
            )
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Me")), ("nobody", _("Nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
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
    fields = ["kind", "original_name", "content_type", "size", "created_at"]
    readonly_fields = fields
    can_delete = False

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


@dataclass(frozen=True)
class DossierAction:
    """One button of the dossier page: the form it asks, the permission and the statuses it
    shows for (the action itself is the guard), and the call into dossier_flow."""

    label: str
    form: type[forms.Form]
    permission: str
    statuses: frozenset[int]
    run: Callable[[User, Dossier, dict], object]


S = DossierStatus
_OPEN = frozenset(set(S.values) - FINAL_STATUSES)
DOSSIER_ACTIONS: dict[str, DossierAction] = {
    "receive": DossierAction(
        _("Receive"),
        NoteForm,
        "receive_dossier",
        frozenset({S.SUBMITTED}),
        lambda actor, d, data: flow.dossier_receive(actor=actor, dossier=d, note=data["note"]),
    ),
    "refuse": DossierAction(
        _("Refuse"),
        ReasonForm,
        "receive_dossier",
        frozenset({S.SUBMITTED}),
        lambda actor, d, data: flow.dossier_refuse(actor=actor, dossier=d, reason=data["reason"]),
    ),
    "assign": DossierAction(
        _("Assign"),
        AssignForm,
        "assign_dossier",
        _OPEN,
        lambda actor, d, data: flow.dossier_assign(
            actor=actor, dossier=d, assignee_id=data["assignee"].pk
        ),
    ),
    "request-supplement": DossierAction(
        _("Request a supplement"),
        MissingForm,
        "process_dossier",
        frozenset({S.PROCESSING}),
        lambda actor, d, data: flow.dossier_request_supplement(
            actor=actor, dossier=d, missing=data["missing"]
        ),
    ),
    "request-fee": DossierAction(
        _("Request a fee"),
        FeeForm,
        "process_dossier",
        frozenset({S.PROCESSING}),
        lambda actor, d, data: flow.dossier_request_fee(
            actor=actor, dossier=d, amount=data["amount"], note=data["note"]
        ),
    ),
    "extend": DossierAction(
        _("New appointment date (apology letter)"),
        ExtendForm,
        "process_dossier",
        flow.EXTENDABLE_STATUSES,
        lambda actor, d, data: flow.dossier_extend(
            actor=actor, dossier=d, new_date=data["new_date"], reason=data["reason"]
        ),
    ),
    "stop": DossierAction(
        _("Stop processing"),
        ReasonForm,
        "process_dossier",
        frozenset({S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.FEE_REQUESTED}),
        lambda actor, d, data: flow.dossier_stop(actor=actor, dossier=d, reason=data["reason"]),
    ),
    "decide": DossierAction(
        _("Decide"),
        DecideForm,
        "decide_dossier",
        frozenset({S.PROCESSING}),
        lambda actor, d, data: flow.dossier_decide(
            actor=actor,
            dossier=d,
            outcome=data["outcome"],
            note=data["note"],
            result=data["result"],
        ),
    ),
    "return": DossierAction(
        _("Return the result"),
        NoteForm,
        "receive_dossier",
        frozenset({S.DECIDED}),
        lambda actor, d, data: flow.dossier_return(actor=actor, dossier=d, note=data["note"]),
    ),
}


@admin.register(Dossier)
class DossierAdmin(DateHierarchyBoundsMixin, admin.ModelAdmin):
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
    fields = [
        "code",
        "procedure",
        "unit",
        "applicant",
        "household",
        "channel",
        "status",
        "form_data",
        "submitted_at",
        "received_at",
        "appointment_date",
        "assignee",
        "supplement_requests",
        "fee_due",
        "extensions",
        "outcome",
        "decided_at",
        "on_time",
        "working_days_taken",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        codes = official_ward_codes(user=request.user)
        return queryset if codes is None else queryset.filter(unit_id__in=codes)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description=_("overdue"))
    def late(self, dossier: Dossier) -> bool:
        return dossier.status in CLOCK_RUNNING and (
            dossier.appointment_date is not None and dossier.appointment_date < timezone.localdate()
        )

    def actions_for(self, request: HttpRequest, dossier: Dossier) -> list[tuple[str, str]]:
        return [
            (name, action.label)
            for name, action in DOSSIER_ACTIONS.items()
            if dossier.status in action.statuses
            and request.user.has_perm(f"services.{action.permission}")
        ]

    def get_urls(self):
        return [
            path(
                "<id:pk>/act/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="services_dossier_act",
            ),
            path(
                "<id:pk>/letter/<id:letter_id>/",
                self.admin_site.admin_view(self.letter_view),
                name="services_dossier_letter",
            ),
            *super().get_urls(),
        ]

    def letter_view(self, request: HttpRequest, pk: int, letter_id: int):
        """The apology letter (Mẫu 04) to print; it names the applicant: the read is logged."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        dossier = get_object_or_404(self.get_queryset(request).select_related("applicant"), pk=pk)
        letter = get_object_or_404(DossierExtension, dossier=dossier, pk=letter_id)
        record_data_access(
            official=request.user,
            subject=dossier.applicant,
            resource=AccessResource.DOSSIER,
            purpose=AccessPurpose.DOSSIER_PROCESSING,
            channel=AccessChannel.ADMIN,
            object_id=dossier.code,
        )
        return letter_response(dossier, letter)

    def action_view(self, request: HttpRequest, pk: int, action: str):
        spec = DOSSIER_ACTIONS.get(action)
        if spec is None:
            raise Http404
        dossier = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm(f"services.{spec.permission}"):
            raise PermissionDenied
        extra = {"dossier": dossier} if spec.form is AssignForm else {}
        posted = request.method == "POST"
        form = spec.form(
            request.POST if posted else None, request.FILES if posted else None, **extra
        )
        if posted and form.is_valid():
            try:
                spec.run(request.user, dossier, form.cleaned_data)
            except DomainError as exc:
                for field, problems in exc.fields.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Done."))
                return redirect("admin:services_dossier_change", dossier.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": dossier,
            "title": f"{spec.label}: {dossier.code}",
            "form": form,
        }
        return TemplateResponse(request, "admin/services/dossier_action.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", None) == 200:
            dossier = response.context_data["original"]
            response.context_data["dossier_actions"] = self.actions_for(request, dossier)
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
