from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models.functions import TruncDate
from django.template import TemplateSyntaxError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from config.admin_dates import DateHierarchyBoundsMixin
from config.admin_export import ExportAdmin
from config.admin_scope import Scope, ScopedAdmin
from config.admin_transitions import Transition, TransitionsAdmin
from notifications.actions.broadcasts import broadcast_approve, broadcast_cancel
from notifications.actions.deliveries import delivery_resend
from notifications.events import event_choices, get_event
from notifications.models import (
    RESENDABLE_STATUSES,
    Broadcast,
    BroadcastStatus,
    Delivery,
    NotificationTemplate,
    SmsMessage,
    TemplateChannel,
)
from notifications.phone_display import mask_phone
from notifications.rendering import (
    PUSH_BODY_MAX,
    PUSH_TITLE_MAX,
    SMS_MAX_SEGMENTS,
    TemplateSet,
    compile_text,
    render_source,
    sms_size,
)
from notifications.selectors import DELIVERY_TALLY


@admin.register(SmsMessage)
class SmsMessageAdmin(DateHierarchyBoundsMixin, ScopedAdmin):
    # Messages of every unit, with numbers: for the technical administrators only.
    scope = Scope.TECHNICAL
    list_display = ["id", "masked_phone", "purpose", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "purpose", "provider"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "masked_phone",
        "purpose",
        "status",
        "attempts",
        "provider",
        "provider_reference",
        "error",
        "created_at",
        "sent_at",
        "expires_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: SmsMessage) -> str:
        return mask_phone(obj.phone)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- deliveries -------------------------------------------------------------------------------

DAILY_COUNT_DAYS = 14


def daily_counts(days: int = DAILY_COUNT_DAYS) -> list[dict]:
    """Per local day, channel and provider: sent (sent or delivered), delivered, failed, and
    still waiting; the OTP SMS counted as channel "sms (OTP)". Newest day first."""
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days - 1
    )
    tz = timezone.get_current_timezone()
    rows = list(
        Delivery.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "channel", "provider")
        .annotate(**DELIVERY_TALLY)
    )
    rows += [
        {**row, "channel": "sms (OTP)"}
        for row in SmsMessage.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "provider")
        .annotate(**DELIVERY_TALLY)
    ]
    return sorted(rows, key=lambda r: (-r["day"].toordinal(), r["channel"], r["provider"]))


@admin.register(Delivery)
class DeliveryAdmin(DateHierarchyBoundsMixin, ScopedAdmin):
    """The delivery log: every push, SMS and email of a notification, for the technical
    administrators (superusers). Opening one shows its text: the read is access-logged."""

    scope = Scope.TECHNICAL

    list_display = [
        "id",
        "channel",
        "status",
        "is_fallback",
        "attempts",
        "provider",
        "category",
        "created_at",
        "sent_at",
    ]
    list_filter = ["channel", "status", "provider", "is_fallback", "notification__category"]
    date_hierarchy = "created_at"
    search_fields = ["=id"]
    list_select_related = ["notification"]
    actions = ["resend"]
    fields = [
        "id",
        "notification_ref",
        "channel",
        "status",
        "is_fallback",
        "attempts",
        "provider",
        "provider_message_id",
        "error",
        "title",
        "body",
        "due_at",
        "created_at",
        "sent_at",
        "delivered_at",
    ]
    readonly_fields = fields
    change_list_template = "admin/notifications/delivery/change_list.html"

    @admin.display(description=_("category"), ordering="notification__category")
    def category(self, obj: Delivery) -> str:
        return obj.notification.get_category_display()

    @admin.display(description=_("notification"))
    def notification_ref(self, obj: Delivery) -> str:
        n = obj.notification
        return f"#{n.pk} · {n.event or n.category} · {n.key}"

    @admin.action(description=_("Send the selected failed deliveries again"))
    def resend(self, request, queryset) -> None:
        ids = list(queryset.filter(status__in=RESENDABLE_STATUSES).values_list("pk", flat=True))
        count = delivery_resend(delivery_ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.", "%(count)d deliveries queued again.", count
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    def get_urls(self):
        return [
            path(
                "daily/",
                self.admin_site.admin_view(self.daily_view),
                name="notifications_delivery_daily",
            ),
            *super().get_urls(),
        ]

    def daily_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/notifications/delivery/daily.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Deliveries per provider and day"),
                "rows": daily_counts(),
                "days": DAILY_COUNT_DAYS,
            },
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "daily_url": reverse("admin:notifications_delivery_daily"),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        delivery = Delivery.objects.select_related("notification__user").filter(pk=object_id)
        delivery = delivery.first() if response.status_code == 200 else None
        if delivery is not None:
            # The text is about a person (their dossier, their household): a logged read.
            record_data_access(
                official=request.user,
                subject=delivery.notification.user,
                resource=AccessResource.NOTIFICATION,
                purpose=AccessPurpose.ADMIN_VIEW,
                channel=AccessChannel.ADMIN,
                object_id=str(delivery.pk),
            )
        return response

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- templates --------------------------------------------------------------------------------


class NotificationTemplateForm(forms.ModelForm):
    event = forms.ChoiceField(label=_("event"))

    class Meta:
        model = NotificationTemplate
        fields = ["event", "language", "channel", "title", "body", "strip_diacritics"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = event_choices()

    def clean(self) -> dict:
        data = super().clean()
        event, channel = data.get("event"), data.get("channel")
        title, body = data.get("title", ""), data.get("body", "")
        for name, source in (("title", title), ("body", body)):
            try:
                compile_text(source or "")
            except TemplateSyntaxError as exc:
                self.add_error(
                    name, _("This template does not compile: %(error)s") % {"error": exc}
                )
        if self.errors or not event or not channel:
            return data
        with translation.override(data.get("language") or "vi"):
            rendered = render_source(title, body, get_event(event).sample)
        if channel == TemplateChannel.PUSH:
            if len(rendered.title) > PUSH_TITLE_MAX:
                self.add_error(
                    "title",
                    _("With the sample values the title has %(n)d characters; phones show %(max)d.")
                    % {"n": len(rendered.title), "max": PUSH_TITLE_MAX},
                )
            if len(rendered.body) > PUSH_BODY_MAX:
                self.add_error(
                    "body",
                    _("With the sample values the text has %(n)d characters; phones show %(max)d.")
                    % {"n": len(rendered.body), "max": PUSH_BODY_MAX},
                )
        if channel == TemplateChannel.SMS:
            text = rendered.body
            if data.get("strip_diacritics"):
                from digital_address.vietnamese_text import strip_diacritics

                text = strip_diacritics(text)
            size = sms_size(" ".join(text.split()))
            if size.segments > SMS_MAX_SEGMENTS:
                self.add_error(
                    "body",
                    _(
                        "With the sample values this SMS takes %(segments)d segments "
                        "(%(encoding)s); at most %(max)d."
                    )
                    % {
                        "segments": size.segments,
                        "encoding": size.encoding,
                        "max": SMS_MAX_SEGMENTS,
                    },
                )
        return data


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(ScopedAdmin):
    scope = Scope.PROVINCE
    form = NotificationTemplateForm
    list_display = ["event", "language", "channel", "title", "updated_at"]
    list_filter = ["language", "channel", "event"]
    search_fields = ["event", "title", "body"]
    readonly_fields = ["preview", "built_in"]
    fieldsets = [
        (None, {"fields": ["event", "language", "channel", "title", "body", "strip_diacritics"]}),
        (_("Preview"), {"fields": ["preview", "built_in"]}),
    ]

    @admin.display(description=_("With the sample values"))
    def preview(self, obj: NotificationTemplate | None) -> str:
        if obj is None or not obj.pk:
            return _("Save to see the preview.")
        try:
            event = get_event(obj.event)
        except LookupError:
            return _("Unknown event.")
        rendered = TemplateSet([obj.event]).render(event, obj.channel, obj.language, event.sample)
        return _preview_html(obj.channel, rendered.title, rendered.body)

    @admin.display(description=_("Built-in text"))
    def built_in(self, obj: NotificationTemplate | None) -> str:
        if obj is None or not obj.pk:
            return "—"
        try:
            event = get_event(obj.event)
        except LookupError:
            return "—"
        with translation.override(obj.language):
            title, body, _strip = event.default_texts(obj.channel)
        return format_html("<code>{}</code><br><code>{}</code>", title or "—", body)


def _preview_html(channel: str, title: str, body: str) -> str:
    lines = [(_("Title"), title)] if title else []
    lines.append((_("Text"), body))
    if channel == TemplateChannel.SMS:
        size = sms_size(body)
        lines.append(
            (
                _("SMS"),
                _("%(encoding)s, %(units)d characters, %(segments)d segment(s)")
                % {"encoding": size.encoding, "units": size.units, "segments": size.segments},
            )
        )
    return format_html_join("", "<div><strong>{}:</strong> {}</div>", lines)


# --- broadcasts -------------------------------------------------------------------------------


def broadcast_reach_text(broadcast: Broadcast) -> str:
    """Whom it reaches, said before it is approved."""
    from notifications.selectors import audience, target_wards

    wards = target_wards(broadcast).count()
    people = audience(broadcast).count()
    return _("It reaches %(people)s, in %(wards)s.") % {
        "people": ngettext("%(n)d person with an account", "%(n)d people with an account", people)
        % {"n": people},
        "wards": ngettext("%(n)d commune or ward", "%(n)d communes or wards", wards) % {"n": wards},
    }


class AwaitingMyApprovalFilter(admin.SimpleListFilter):
    title = _("approval")
    parameter_name = "approve"

    def lookups(self, request, model_admin):
        return [("me", _("Awaiting my approval"))]

    def queryset(self, request, queryset):
        if self.value() != "me":
            return queryset
        from notifications.selectors import broadcasts_awaiting_approval

        mine = broadcasts_awaiting_approval(official=request.user).values("pk")
        return queryset.filter(pk__in=mine)


B = BroadcastStatus
BROADCAST_ACTIONS: dict[str, Transition] = {
    "approve": Transition(
        _("Approve"),
        "notifications.approve_broadcast",
        frozenset({B.PENDING_APPROVAL}),
        lambda official, b, data: broadcast_approve(official=official, broadcast_id=b.pk),
        warning=_(
            "Once approved, the broadcast is sent at its time to everyone of its wards; an "
            "emergency also by SMS to those without the app."
        ),
        summary=lambda b: broadcast_reach_text(b),
    ),
    "cancel": Transition(
        _("Cancel the broadcast"),
        "notifications.send_broadcast",
        frozenset({B.PENDING_APPROVAL, B.SCHEDULED}),
        lambda official, b, data: broadcast_cancel(official=official, broadcast_id=b.pk),
    ),
}


@admin.register(Broadcast)
class BroadcastAdmin(ExportAdmin, TransitionsAdmin, DateHierarchyBoundsMixin, ScopedAdmin):
    """The broadcasts of the official's units, with their progress. They are written through
    the API (``official/broadcasts/``), which checks the target against the units managed;
    approved or cancelled here or there, by the same actions."""

    scope = Scope.SELECTOR
    transitions = BROADCAST_ACTIONS
    export_fields = [
        (_("title"), "title"),
        (_("kind"), "get_kind_display"),
        (_("status"), "get_status_display"),
        (_("send at"), "scheduled_at"),
        (_("recipients"), "recipients"),
    ]

    list_display = ["title", "kind", "status", "scheduled_at", "recipients", "inbox_written"]
    list_filter = [AwaitingMyApprovalFilter, "kind", "status"]
    date_hierarchy = "scheduled_at"
    search_fields = ["title"]
    # Where it stands first (status, progress), then what it says and to whom.
    fields = [
        "title",
        "status",
        "kind",
        "scheduled_at",
        "recipients",
        "inbox_written",
        "progress",
        "body",
        "province",
        "target_wards",
        "send_sms",
        "expires_at",
        "created_by",
        "approved_by",
        "approved_at",
        "cancelled_by",
        "cancelled_at",
        "started_at",
        "sent_at",
    ]
    readonly_fields = fields

    def scoped_queryset(self, request, queryset):
        from notifications.selectors import broadcasts_visible_to

        return broadcasts_visible_to(official=request.user).select_related(
            "created_by", "approved_by", "cancelled_by", "province"
        )

    @admin.display(description=_("wards"))
    def target_wards(self, obj: Broadcast) -> str:
        return ", ".join(f"{w.name} ({w.code})" for w in obj.wards.order_by("code")) or "—"

    @admin.display(description=_("Progress"))
    def progress(self, obj: Broadcast) -> str:
        from notifications.selectors import broadcast_progress

        p = broadcast_progress(obj)
        lines = [
            (
                channel.upper(),
                _("%(sent)d sent, %(delivered)d delivered, %(failed)d failed, %(waiting)d waiting")
                % p[channel],
            )
            for channel in ("push", "sms")
        ]
        return format_html_join("", "<div><strong>{}:</strong> {}</div>", lines)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
