from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessChannel, AccessPurpose
from config.admin_export import ExportAdmin
from config.admin_scope import Scope, ScopedAdmin
from config.errors import DomainError
from digital_address import address_codes
from digital_address.actions.households import (
    external_code_attach,
    household_reject,
    household_verify,
    member_assistance_set,
)
from digital_address.errors import HouseholdChanged
from digital_address.events import household_read_record
from digital_address.models import (
    ExternalAddressCode,
    ExternalCodeScheme,
    Household,
    HouseholdEvent,
    HouseholdMember,
    Province,
    Ward,
)
from digital_address.timeline import event_summary


@admin.register(Province)
class ProvinceAdmin(ScopedAdmin):
    scope = Scope.PROVINCE
    list_display = ["code", "name", "division_type"]
    search_fields = ["name", "search_name"]
    readonly_fields = ["code", "name", "division_type", "codename"]


@admin.register(Ward)
class WardAdmin(ScopedAdmin):
    scope = Scope.UNITS
    unit_field = "code"
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


class ReadOnlyInline(admin.TabularInline):
    """Part of the household page: whoever may view the household sees it."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("digital_address.view_household")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MemberInline(ReadOnlyInline):
    model = HouseholdMember
    fields = [
        "full_name",
        "date_of_birth",
        "relationship",
        "has_account",
        "needs_assistance",
        "joined_at",
        "ended_at",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description=_("has an account"))
    def has_account(self, member: HouseholdMember) -> bool:
        return member.user_id is not None


class ExternalCodeInline(ReadOnlyInline):
    model = ExternalAddressCode
    fields = ["scheme", "code", "created_at"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = HouseholdEvent
    fields = ["created_at", "kind", "actor", "details"]
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    @admin.display(description=_("details"))
    def details(self, event: HouseholdEvent) -> str:
        return event_summary(event)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor")


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejection"), max_length=500, widget=forms.Textarea)
    # The version the official was shown: a change by the citizen meanwhile refuses the decision.
    updated_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)


class AssistanceForm(forms.Form):
    """Who in the household needs help in an emergency: one box per current member."""

    members = forms.ModelMultipleChoiceField(
        label=_("Needs assistance in emergencies"),
        queryset=HouseholdMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "A disability, an illness, pregnancy: whatever their age. The emergency check-in "
            "report lists them among the vulnerable members who have not answered."
        ),
    )

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        current = household.members.filter(ended_at__isnull=True).order_by("id")
        self.fields["members"].queryset = current
        self.fields["members"].label_from_instance = lambda m: m.full_name
        self.initial.setdefault("members", [m for m in current if m.needs_assistance])


class OccupancyFilter(admin.SimpleListFilter):
    title = _("residents")
    parameter_name = "occupancy"

    def lookups(self, request, model_admin):
        return [("occupied", _("Lived in")), ("vacated", _("Nobody lives here any more"))]

    def queryset(self, request, queryset):
        if self.value() == "occupied":
            return queryset.filter(vacated_at__isnull=True)
        if self.value() == "vacated":
            return queryset.filter(vacated_at__isnull=False)
        return queryset


class ExternalCodeForm(forms.Form):
    scheme = forms.ChoiceField(label=_("Scheme"), choices=ExternalCodeScheme.choices)
    code = forms.CharField(label=_("Code"), max_length=64)


@admin.register(Household)
class HouseholdAdmin(ExportAdmin, ScopedAdmin):
    """The verification queue of an official's wards: filter on "Pending verification"; verify
    in bulk from the list, reject (with a reason) and attach external codes from a household."""

    scope = Scope.UNITS
    unit_field = "ward_id"
    # No names and no ID numbers: the list shows none either.
    export_fields = [
        (_("digital address code"), "display_code"),
        (_("ward"), "ward"),
        (_("address"), "address_line"),
        (_("verification"), "get_status_display"),
        (_("current members"), "current_members"),
    ]
    export_annotations = {
        "current_members": Count("members", filter=Q(members__ended_at__isnull=True))
    }

    list_display = [
        "display_code",
        "ward",
        "address_line",
        "has_location",
        "status_seen",
        "lived_in",
        "created_at",
    ]
    list_filter = [
        "status",
        OccupancyFilter,
        "source",
        ("ward", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["ward"]
    search_fields = ["=code", "street", "hamlet", "=external_codes__code"]
    ordering = ["-id"]
    show_full_result_count = False
    actions = ["verify_selected"]
    inlines = [MemberInline, ExternalCodeInline, EventInline]
    fields = [
        "display_code",
        "ward",
        "house_number",
        "street",
        "hamlet",
        "latitude",
        "longitude",
        "plus_code",
        "status",
        "rejection_reason",
        "reviewed_by",
        "reviewed_at",
        "source",
        "import_ref",
        "created_at",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        # A code typed from a plate, with its separators, finds the household.
        if address_codes.looks_native(search_term):
            search_term = address_codes.strip_separators(search_term)
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Nothing is edited in a form: verification goes through the actions below.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("digital address code"), ordering="code")
    def display_code(self, household: Household) -> str:
        return household.formatted_code

    @admin.display(description=_("verification"), ordering="status")
    def status_seen(self, household: Household) -> str:
        # The version each row shows travels with the bulk action (the whole list is its form):
        # a household the citizen changed after the list was loaded is not verified blind.
        return format_html(
            '{}<input type="hidden" name="seen-{}" value="{}">',
            household.get_status_display(),
            household.pk,
            household.updated_at.isoformat(),
        )

    @admin.display(boolean=True, description=_("lived in"), ordering="vacated_at")
    def lived_in(self, household: Household) -> bool:
        return household.vacated_at is None

    @admin.display(boolean=True, description=_("located"))
    def has_location(self, household: Household) -> bool:
        return household.has_location

    def _can_verify(self, request: HttpRequest) -> bool:
        return request.user.has_perm("digital_address.verify_household")

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not self._can_verify(request):
            actions.pop("verify_selected", None)
        return actions

    @admin.action(description=_("Verify the selected households"))
    def verify_selected(self, request: HttpRequest, queryset) -> None:
        done, refused, changed = 0, 0, 0
        for household in queryset:
            seen = parse_datetime(request.POST.get(f"seen-{household.pk}", "") or "")
            try:
                household_verify(actor=request.user, household=household, seen_updated_at=seen)
                done += 1
            except HouseholdChanged:
                changed += 1
            except DomainError:
                refused += 1
        self.message_user(request, _("%(count)d household(s) verified.") % {"count": done})
        if changed:
            self.message_user(
                request,
                _(
                    "%(count)d household(s) were changed after the list was loaded: "
                    "look at them again before verifying."
                )
                % {"count": changed},
                level=messages.WARNING,
            )
        if refused:
            self.message_user(
                request,
                _("%(count)d household(s) could not be verified in their current state.")
                % {"count": refused},
                level=messages.WARNING,
            )

    def get_urls(self):
        urls = super().get_urls()
        extra = [
            path(
                "<id:pk>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="digital_address_household_reject",
            ),
            path(
                "<id:pk>/assistance/",
                self.admin_site.admin_view(self.assistance_view),
                name="digital_address_household_assistance",
            ),
            path(
                "<id:pk>/external-code/",
                self.admin_site.admin_view(self.external_code_view),
                name="digital_address_household_external_code",
            ),
        ]
        return extra + urls

    def _household_or_404(self, request: HttpRequest, pk: int) -> Household:
        if not self._can_verify(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _form_view(self, request, household, form, title, on_valid):
        if request.method == "POST" and form.is_valid():
            try:
                on_valid(form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Saved."))
                return redirect("admin:digital_address_household_change", household.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": household,
            "title": title,
            "form": form,
        }
        return TemplateResponse(request, "admin/digital_address/household_form.html", context)

    def reject_view(self, request: HttpRequest, pk: int):
        household = self._household_or_404(request, pk)
        form = RejectForm(request.POST or None, initial={"updated_at": household.updated_at})
        return self._form_view(
            request,
            household,
            form,
            _("Reject household %(code)s") % {"code": household.formatted_code},
            lambda data: household_reject(
                actor=request.user,
                household=household,
                reason=data["reason"],
                seen_updated_at=data["updated_at"],
            ),
        )

    def external_code_view(self, request: HttpRequest, pk: int):
        household = self._household_or_404(request, pk)
        form = ExternalCodeForm(request.POST or None)
        return self._form_view(
            request,
            household,
            form,
            _("Attach an external code to %(code)s") % {"code": household.formatted_code},
            lambda data: external_code_attach(
                actor=request.user, household=household, scheme=data["scheme"], code=data["code"]
            ),
        )

    def assistance_view(self, request: HttpRequest, pk: int):
        household = self._household_or_404(request, pk)
        form = AssistanceForm(request.POST or None, household=household)

        def save(data) -> None:
            flagged = {m.pk for m in data["members"]}
            with transaction.atomic():
                for member in form.fields["members"].queryset:
                    if member.needs_assistance != (member.pk in flagged):
                        member_assistance_set(
                            actor=request.user,
                            household=household,
                            member_id=member.pk,
                            needs_assistance=member.pk in flagged,
                        )

        response = self._form_view(
            request,
            household,
            form,
            _("Who needs assistance in emergencies at %(code)s")
            % {"code": household.formatted_code},
            save,
        )
        if request.method == "GET":
            # The form names every current member.
            household_read_record(
                official=request.user,
                household=household,
                members=form.fields["members"].queryset,
                channel=AccessChannel.ADMIN,
                purpose=AccessPurpose.EMERGENCY_RESPONSE,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_verify": self._can_verify(request)}
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            # The household the page shows, as the admin loaded it through get_queryset.
            household = response.context_data["original"]
            # Every member the page lists, former ones and those without an account included.
            household_read_record(
                official=request.user,
                household=household,
                members=household.members.all(),
                channel=AccessChannel.ADMIN,
                purpose=AccessPurpose.ADMIN_VIEW,
            )
        return response
