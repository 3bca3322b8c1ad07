from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from digital_address.api.serializers import CoverageSerializer, StatsQuerySerializer
from digital_address.models import Ward
from services.models import (
    Dossier,
    DossierAttachment,
    DossierEvent,
    DossierExtension,
    DossierRating,
    DossierStatus,
    Outcome,
    PaymentReceipt,
    Procedure,
    ProcedureLevel,
    RequiredDocument,
)
from services.selectors import dossier_deadline


class ProcedureListSerializer(serializers.ModelSerializer):
    fee = serializers.IntegerField(help_text="VND; 0 when free.")

    class Meta:
        model = Procedure
        fields = [
            "code",
            "name",
            "field",
            "level",
            "online_level",
            "processing_time",
            "processing_unit",
            "fee",
            "household_required",
        ]


class RequiredDocumentSerializer(serializers.ModelSerializer):
    template = serializers.SerializerMethodField()

    class Meta:
        model = RequiredDocument
        fields = ["name", "mandatory", "template"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_template(self, document: RequiredDocument) -> str | None:
        if not document.template:
            return None
        request = self.context.get("request")
        url = document.template.url
        return request.build_absolute_uri(url) if request else url


class ProcedureDetailSerializer(ProcedureListSerializer):
    documents = RequiredDocumentSerializer(many=True)
    form_schema = serializers.JSONField(
        help_text="JSON Schema (draft 2020-12) of what the citizen fills in."
    )

    class Meta(ProcedureListSerializer.Meta):
        fields = [*ProcedureListSerializer.Meta.fields, "fee_note", "documents", "form_schema"]


class ProcedureQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    field = serializers.CharField(required=False, max_length=150)
    level = serializers.ChoiceField(choices=ProcedureLevel.choices, required=False)


# --- dossiers ------------------------------------------------------------------------------------


class DossierSubmitSerializer(serializers.Serializer):
    procedure = serializers.RegexField(
        r"^[0-9]\.[0-9]{6}$",
        help_text="The national procedure code (`procedures/`), e.g. 1.004873.",
        error_messages={"invalid": _("No active procedure has this code.")},
    )
    unit = serializers.PrimaryKeyRelatedField(
        # The units this deployment serves.
        queryset=Ward.objects.filter(province_id=settings.DEPLOYMENT_PROVINCE_CODE),
        required=False,
        help_text="The commune-level unit that receives it; the household's when one is given.",
    )
    household = serializers.IntegerField(
        required=False, min_value=1, help_text="My household's id (`households/`)."
    )
    form_data = serializers.JSONField(
        help_text="What the procedure's `form_schema` asks for; problems come back per field "
        "under `fields.form_data`."
    )

    def validate_procedure(self, code: str) -> Procedure:
        procedure = Procedure.objects.active().filter(code=code).first()
        if procedure is None:
            raise serializers.ValidationError(_("No active procedure has this code."))
        return procedure


class ProcedureBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Procedure
        fields = ["code", "name"]


class UnitBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ward
        fields = ["code", "name"]


@extend_schema_field(OpenApiTypes.STR)
class StatusLabelField(serializers.Field):
    """A status's label in the reader's language, looked up in a table (the model's
    ``get_status_display`` rebuilds its choices for every row of a list)."""

    LABELS = dict(DossierStatus.choices)

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: int) -> str:
        return str(self.LABELS.get(value, value))


class DossierEventSerializer(serializers.ModelSerializer):
    status = serializers.IntegerField(source="to_status")
    status_display = StatusLabelField(source="to_status")

    class Meta:
        model = DossierEvent
        fields = ["status", "status_display", "created_at"]


class DeadlineMixin(serializers.Serializer):
    remaining_working_days = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_remaining_working_days(self, dossier: Dossier) -> int | None:
        return dossier_deadline(self.context["calendar"], dossier.status, dossier.appointment_date)[
            0
        ]

    def get_overdue(self, dossier: Dossier) -> bool:
        return dossier_deadline(self.context["calendar"], dossier.status, dossier.appointment_date)[
            1
        ]


class DossierListSerializer(DeadlineMixin, serializers.ModelSerializer):
    procedure = ProcedureBriefSerializer()
    unit = UnitBriefSerializer()
    status_display = StatusLabelField(source="status")

    class Meta:
        model = Dossier
        fields = [
            "code",
            "procedure",
            "unit",
            "status",
            "status_display",
            "channel",
            "submitted_at",
            "appointment_date",
            "remaining_working_days",
            "overdue",
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")

    class Meta:
        model = DossierAttachment
        fields = ["id", "kind", "name", "content_type", "size", "created_at"]


class DossierEventNoteSerializer(DossierEventSerializer):
    """For the applicant and the officials: with the note (what is missing, why refused)."""

    class Meta(DossierEventSerializer.Meta):
        fields = [*DossierEventSerializer.Meta.fields, "note"]


class ExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DossierExtension
        fields = ["id", "previous_date", "new_date", "reason", "created_at"]


class RatingSerializer(serializers.ModelSerializer):
    stars = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    class Meta:
        model = DossierRating
        fields = ["stars", "comment", "created_at"]
        read_only_fields = ["created_at"]


class DossierDetailSerializer(DossierListSerializer):
    timeline = DossierEventNoteSerializer(source="events", many=True)
    extensions = ExtensionSerializer(
        source="extension_letters",
        many=True,
        help_text="Apology letters with a new appointment date (Mẫu 04).",
    )
    rating = serializers.SerializerMethodField()
    fee_due = serializers.IntegerField(
        allow_null=True, help_text="VND asked for in status 6 (a fee or charge)."
    )
    attachments = serializers.SerializerMethodField()

    class Meta(DossierListSerializer.Meta):
        fields = [
            *DossierListSerializer.Meta.fields,
            "household",
            "form_data",
            "fee_due",
            "outcome",
            "attachments",
            "extensions",
            "rating",
            "timeline",
        ]

    @extend_schema_field(RatingSerializer(allow_null=True))
    def get_rating(self, dossier: Dossier) -> dict | None:
        rating = getattr(dossier, "rating", None)
        return RatingSerializer(rating).data if rating is not None else None

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, dossier: Dossier) -> list[dict]:
        return AttachmentSerializer(dossier.attachments.all(), many=True).data


class DossierTrackSerializer(DeadlineMixin, serializers.ModelSerializer):
    """What anyone with the code sees: the procedure, the unit and the statuses; no applicant,
    no form, no notes."""

    procedure = ProcedureBriefSerializer()
    unit = UnitBriefSerializer()
    status_display = StatusLabelField(source="status")
    timeline = DossierEventSerializer(source="events", many=True)

    class Meta:
        model = Dossier
        fields = [
            "code",
            "procedure",
            "unit",
            "status",
            "status_display",
            "submitted_at",
            "appointment_date",
            "remaining_working_days",
            "overdue",
            "timeline",
        ]


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class MissingSerializer(serializers.Serializer):
    missing = serializers.CharField(
        max_length=2000, help_text="What the citizen must add, as they will read it."
    )


class OfficialDossierQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DossierStatus.choices, required=False)
    procedure = serializers.RegexField(r"^[0-9]\.[0-9]{6}$", required=False)
    overdue = serializers.BooleanField(
        required=False, help_text="Only dossiers whose appointment date has passed."
    )
    due_soon = serializers.BooleanField(
        required=False,
        help_text="Only dossiers due today or within DOSSIER_DUE_SOON_WORKING_DAYS working days.",
    )
    assigned_to_me = serializers.BooleanField(required=False)


class OfficialBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class OfficialDossierListSerializer(DossierListSerializer):
    assignee = OfficialBriefSerializer(allow_null=True)

    class Meta(DossierListSerializer.Meta):
        fields = [*DossierListSerializer.Meta.fields, "assignee"]


_DATETIME, _DATE = serializers.DateTimeField(), serializers.DateField()


def queue_items(rows: list[dict], calendar) -> list[dict]:
    """Queue rows (``services.selectors.QUEUE_VALUES``) as ``OfficialDossierListSerializer``
    writes dossiers, built without model instances or serializer fields (the status labels
    translated once for the page)."""
    labels = {value: str(label) for value, label in StatusLabelField.LABELS.items()}
    items = []
    for row in rows:
        remaining, overdue = dossier_deadline(calendar, row["status"], row["appointment_date"])
        assignee = row["assignee_id"]
        items.append(
            {
                "code": row["code"],
                "procedure": {"code": row["procedure__code"], "name": row["procedure__name"]},
                "unit": {"code": row["unit__code"], "name": row["unit__name"]},
                "status": row["status"],
                "status_display": labels[row["status"]],
                "channel": row["channel"],
                "submitted_at": _DATETIME.to_representation(row["submitted_at"]),
                "appointment_date": _DATE.to_representation(row["appointment_date"]),
                "remaining_working_days": remaining,
                "overdue": overdue,
                "assignee": {"id": assignee, "name": row["assignee__full_name"]}
                if assignee
                else None,
            }
        )
    return items


class OfficialDossierSerializer(DossierDetailSerializer):
    applicant = serializers.CharField(source="applicant.full_name")
    supplement_requests = serializers.IntegerField()
    assignee = OfficialBriefSerializer(allow_null=True)

    class Meta(DossierDetailSerializer.Meta):
        fields = [
            *DossierDetailSerializer.Meta.fields,
            "applicant",
            "supplement_requests",
            "fee_requests",
            "assignee",
        ]


class FeeRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=0, min_value=1, help_text="VND to pay."
    )
    note = serializers.CharField(
        max_length=2000, help_text="What it is for, as the citizen reads it."
    )


class PaymentReceiptSerializer(serializers.ModelSerializer):
    amount = serializers.IntegerField()

    class Meta:
        model = PaymentReceipt
        fields = ["reference", "amount", "provider", "status", "transaction_id", "paid_at"]


class PaymentResultSerializer(serializers.Serializer):
    receipt = PaymentReceiptSerializer()
    dossier = DossierDetailSerializer()


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, JPEG or PNG (checked by content).")


class DossierDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required to reject."
    )
    result = serializers.FileField(
        required=False, help_text="The result document (PDF, JPEG or PNG), if any."
    )


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        min_value=1, help_text="User id of a processing official of the receiving unit."
    )


class ExtendSerializer(serializers.Serializer):
    new_date = serializers.DateField(help_text="The new appointment date (a working day).")
    reason = serializers.CharField(
        max_length=2000, help_text="Why the result is late, as the apology letter says it."
    )


class KpiFiguresSerializer(serializers.Serializer):
    submitted = serializers.IntegerField(help_text="Dossiers submitted in the period.")
    online = serializers.IntegerField(help_text="Of which submitted online.")
    online_share = serializers.FloatField(allow_null=True, help_text="Percent online.")
    finished = serializers.IntegerField(help_text="Dossiers decided in the period.")
    on_time = serializers.IntegerField()
    late = serializers.IntegerField(
        help_text="Decided after the appointment date, or with more than one supplement "
        "request, or with an apology letter."
    )
    on_time_rate = serializers.FloatField(allow_null=True, help_text="Percent of finished.")
    average_working_days = serializers.FloatField(
        allow_null=True, help_text="Receipt to decision, waits on the citizen subtracted."
    )
    dislikes = serializers.IntegerField(help_text="Finished dossiers rated 1 or 2 stars.")
    satisfaction = serializers.FloatField(
        allow_null=True, help_text="100 − (late % + dislike %), at least 0."
    )


class UnitKpiSerializer(KpiFiguresSerializer):
    code = serializers.IntegerField()
    name = serializers.CharField()


class ProcedureKpiSerializer(KpiFiguresSerializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DossierKpiSerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "total": KpiFiguresSerializer(),
            "units": UnitKpiSerializer(many=True),
            "procedures": ProcedureKpiSerializer(many=True),
        }


class ReportKpiFiguresSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Reports received in the period.")
    acknowledged = serializers.IntegerField(help_text="Accepted or refused in the period.")
    acknowledged_on_time = serializers.IntegerField()
    acknowledged_on_time_rate = serializers.FloatField(allow_null=True)
    resolved = serializers.IntegerField(help_text="Resolved in the period.")
    resolved_on_time = serializers.IntegerField()
    resolved_on_time_rate = serializers.FloatField(allow_null=True)
    confirmed = serializers.IntegerField(help_text="Fixes the citizen confirmed.")
    disputed = serializers.IntegerField(
        help_text="Reports whose fix the citizen disputed at least once (a complaint)."
    )
    likes = serializers.IntegerField()
    dislikes = serializers.IntegerField()
    satisfaction = serializers.FloatField(
        allow_null=True,
        help_text="100 − (late % + (disputed + dislikes) %) of the resolved, at least 0.",
    )


class UnitReportKpiSerializer(ReportKpiFiguresSerializer):
    code = serializers.IntegerField()
    name = serializers.CharField()


class CategoryReportKpiSerializer(ReportKpiFiguresSerializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReportKpiSerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "total": ReportKpiFiguresSerializer(),
            "units": UnitReportKpiSerializer(many=True),
            "categories": CategoryReportKpiSerializer(many=True),
        }


class StatsReportSerializer(serializers.Serializer):
    total = CoverageSerializer(help_text="Digital-address coverage, all wards together.")
    wards = CoverageSerializer(many=True)
    dossiers = DossierKpiSerializer(help_text="Public-service KPIs (QĐ 766) for the period.")
    reports = ReportKpiSerializer(help_text="Field-report KPIs for the period.")


# No dossier is older; and no date reaches the calendar's limits (year 1 or 9999).
KPI_EARLIEST = date(2000, 1, 1)
# The longest period the KPIs are computed over at once.
MAX_KPI_DAYS = 5 * 366


class KpiPeriodSerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return {
            "from": serializers.DateField(
                required=False, help_text="First day (default: 1 January of this year)."
            ),
            "to": serializers.DateField(required=False, help_text="Last day (default: today)."),
        }

    def validate(self, attrs: dict) -> dict:
        today = timezone.localdate()
        start = attrs.get("from") or today.replace(month=1, day=1)
        end = attrs.get("to") or today
        if start < KPI_EARLIEST:
            raise serializers.ValidationError({"from": [_("Choose a day from 2000 on.")]})
        if end > today + timedelta(days=366):
            raise serializers.ValidationError({"to": [_("Choose a day within a year from today.")]})
        if start > end:
            raise serializers.ValidationError({"to": [_("The end is before the start.")]})
        if (end - start).days > MAX_KPI_DAYS:
            raise serializers.ValidationError({"from": [_("Choose a period of at most 5 years.")]})
        return {"from": start, "to": end}


class PublicStatsQuerySerializer(KpiPeriodSerializer, StatsQuerySerializer):
    def get_fields(self) -> dict:
        return {**StatsQuerySerializer().get_fields(), **KpiPeriodSerializer().get_fields()}

    def validate(self, attrs: dict) -> dict:
        return {**attrs, **KpiPeriodSerializer.validate(self, attrs)}
