"""Field reports as the citizen, the public and the officials see them.

Three views of one report: its reporter sees it whole; anyone else (the public map, a follower)
sees it de-identified (no reporter, no digital address, the place rounded to about 100 m,
personal numbers hidden in the text, no citizen's own words from the timeline); officials of its
unit see the place exactly and the reporter only when the report is not anonymous."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.redaction import redact_numbers
from digital_address.address_codes import format_code
from digital_address.api.serializers import CoordinateField
from notifications.phone_display import mask_phone
from services.api.serializers import NoteSerializer, ReasonSerializer, UnitBriefSerializer
from services.models import (
    ActorRole,
    CloseReason,
    FieldReport,
    ReportCategory,
    ReportEventKind,
    ReportStatus,
    report_overdue,
)
from services.report_selectors import public_place

__all__ = ["NoteSerializer", "ReasonSerializer"]

WARD_CODE = {"min_value": 1, "max_value": 99999}


class ReportCategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = ReportCategory
        fields = [
            "code",
            "name",
            "group",
            "description",
            "handled_by",
            "acknowledge_days",
            "resolve_days",
        ]


class CategoryBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name")


# --- input ---------------------------------------------------------------------------------------


def _category_field() -> serializers.SlugRelatedField:
    message = _("No report category has this code.")
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=ReportCategory.objects.active(),
        error_messages={"does_not_exist": message, "invalid": message},
    )


class ReportSubmitSerializer(serializers.Serializer):
    category = _category_field()
    description = serializers.CharField(max_length=2000)
    photos = serializers.ListField(
        child=serializers.FileField(),
        allow_empty=True,
        required=False,
        help_text="1–5 JPEG or PNG photos (repeat the field); metadata is removed.",
    )
    latitude = CoordinateField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = CoordinateField(required=False, allow_null=True, min_value=-180, max_value=180)
    address_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="A digital address code: the report goes to its household's commune.",
    )
    ward = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The commune, when there is no address code (else the nearest by location).",
        **WARD_CODE,
    )
    anonymous = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Officials and the public never see who sent it.",
    )


class SimilarQuerySerializer(serializers.Serializer):
    category = _category_field()
    latitude = CoordinateField(min_value=-90, max_value=90)
    longitude = CoordinateField(min_value=-180, max_value=180)


class MineQuerySerializer(serializers.Serializer):
    following = serializers.BooleanField(
        required=False, default=False, help_text="The reports I follow instead of mine."
    )


class PublicQuerySerializer(serializers.Serializer):
    bbox = serializers.CharField(
        required=False,
        max_length=100,
        help_text="west,south,east,north in degrees (longitude, latitude, longitude, latitude).",
    )
    category = serializers.CharField(required=False, max_length=32)
    status = serializers.ChoiceField(required=False, choices=ReportStatus.choices)

    def validate_bbox(self, value: str) -> tuple[float, float, float, float]:
        from django.utils.translation import gettext as _

        try:
            west, south, east, north = (float(part) for part in value.split(","))
        except ValueError:
            raise serializers.ValidationError(_("Four numbers: west,south,east,north.")) from None
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise serializers.ValidationError(
                _("West is before east and south before north, within -180…180 and -90…90.")
            )
        return west, south, east, north


class ReactionSerializer(serializers.Serializer):
    like = serializers.BooleanField(help_text="true: like, false: dislike.")


class RefuseSerializer(ReasonSerializer):
    referral = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Where the citizen should turn instead (agency, phone).",
    )


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What was done.")
    files = serializers.ListField(
        child=serializers.FileField(),
        allow_empty=True,
        required=False,
        help_text="1–5 photos (JPEG, PNG) or documents (PDF) of the fix; repeat the field.",
    )


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CloseReason.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required for `other`."
    )


class TransferSerializer(serializers.Serializer):
    unit = serializers.IntegerField(help_text="Code of the commune-level unit.", **WARD_CODE)
    reason = serializers.CharField(max_length=2000)


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Number of the open report it duplicates."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ModerateSerializer(serializers.Serializer):
    hidden = serializers.BooleanField(required=False, help_text="The whole report, from the map.")
    text_hidden = serializers.BooleanField(required=False, help_text="Its description.")
    photos_hidden = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=20,
    )
    photos_shown = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=20,
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class OfficialQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(required=False, choices=ReportStatus.choices)
    category = serializers.CharField(required=False, max_length=32)
    overdue = serializers.BooleanField(required=False, default=False)
    escalated = serializers.BooleanField(required=False, default=False)


# --- output --------------------------------------------------------------------------------------


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    content_type = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, photo) -> str:
        name = "official-report-photo" if self.context.get("official") else "report-photo"
        return reverse(name, kwargs={"report_id": photo.report_id, "photo_id": photo.pk})


class OfficialPhotoSerializer(PhotoSerializer):
    hidden = serializers.BooleanField()


class PlaceSerializer(serializers.Serializer):
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False)


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.CharField(source="to_status")
    actor_role = serializers.ChoiceField(choices=ActorRole.choices)
    unit = UnitBriefSerializer()
    to_unit = UnitBriefSerializer(allow_null=True)
    note = serializers.CharField()
    referral = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField(source="get_reason_display")
    at = serializers.DateTimeField(source="created_at")


class TransferSerializerOut(serializers.Serializer):
    from_unit = UnitBriefSerializer(source="unit")
    to_unit = UnitBriefSerializer()
    reason = serializers.CharField(source="note")
    at = serializers.DateTimeField(source="created_at")


def _events(report: FieldReport, *, citizen_words: bool, moderation: bool) -> list:
    events = []
    for event in report.events.all():
        if event.kind == ReportEventKind.MODERATED and not moderation:
            continue
        events.append(event)
    data = EventSerializer(events, many=True).data
    if not citizen_words:
        for row, event in zip(data, events, strict=True):
            if event.actor_role == ActorRole.CITIZEN:
                row["note"] = ""
            else:
                row["note"] = redact_numbers(row["note"])
    return data


def _transfers(report: FieldReport, *, public: bool) -> list:
    moves = [e for e in report.events.all() if e.kind == ReportEventKind.TRANSFERRED]
    data = TransferSerializerOut(moves, many=True).data
    if public:
        for row in data:
            row["reason"] = redact_numbers(row["reason"])
    return data


def _photos(report: FieldReport, *, everything: bool, official: bool = False) -> list:
    photos = [p for p in report.photos.all() if everything or not p.hidden]
    serializer = OfficialPhotoSerializer if official else PhotoSerializer
    return serializer(photos, many=True, context={"official": official}).data


def _confirm_until(report: FieldReport):
    if report.status != ReportStatus.RESOLVED or report.resolved_at is None:
        return None
    return report.resolved_at + timedelta(days=settings.REPORT_CONFIRM_DAYS)


class _Base(serializers.Serializer):
    id = serializers.IntegerField()
    category = CategoryBriefSerializer()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    unit = UnitBriefSerializer()
    followers_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class PublicReportSerializer(_Base):
    """De-identified: what the public map (and a follower) sees."""

    description = serializers.SerializerMethodField()
    place = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    def get_description(self, report) -> str | None:
        return None if report.text_hidden else redact_numbers(report.description)

    def get_place(self, report) -> dict | None:
        if not report.has_location:
            return None
        latitude, longitude = public_place(report.latitude, report.longitude)
        return {"latitude": latitude, "longitude": longitude}

    def get_photos(self, report) -> list:
        return _photos(report, everything=False)


class SimilarReportSerializer(PublicReportSerializer):
    distance_m = serializers.SerializerMethodField()

    def get_distance_m(self, report) -> int:
        return round(self.context["distances"][report.pk])


class PublicReportDetailSerializer(PublicReportSerializer):
    handled_by = serializers.CharField(source="category.handled_by")
    timeline = serializers.SerializerMethodField()
    transfers = serializers.SerializerMethodField()
    following = serializers.SerializerMethodField()
    is_mine = serializers.SerializerMethodField()
    my_reaction = serializers.SerializerMethodField()

    def get_timeline(self, report) -> list:
        return _events(report, citizen_words=False, moderation=False)

    def get_my_reaction(self, report) -> bool | None:
        return self.context.get("reaction")

    def get_transfers(self, report) -> list:
        return _transfers(report, public=True)

    def get_following(self, report) -> bool:
        return bool(self.context.get("following"))

    def get_is_mine(self, report) -> bool:
        return False


class MyReportSerializer(_Base):
    """The reporter's own view: everything they sent, and every step."""

    description = serializers.CharField()
    anonymous = serializers.BooleanField()
    place = serializers.SerializerMethodField()
    address_code = serializers.SerializerMethodField()
    handled_by = serializers.CharField(source="category.handled_by")
    acknowledge_due = serializers.DateField()
    resolve_due = serializers.DateField()
    confirm_until = serializers.SerializerMethodField()
    satisfied = serializers.BooleanField(allow_null=True)
    escalated = serializers.BooleanField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    photos = serializers.SerializerMethodField()

    def get_place(self, report) -> dict | None:
        return PlaceSerializer(report).data if report.has_location else None

    def get_address_code(self, report) -> str | None:
        household = report.household if report.household_id else None
        return format_code(household.code) if household is not None else None

    def get_confirm_until(self, report) -> datetime | None:
        value = _confirm_until(report)
        return serializers.DateTimeField().to_representation(value) if value else None

    def get_photos(self, report) -> list:
        return _photos(report, everything=True)


class MyReportDetailSerializer(MyReportSerializer):
    timeline = serializers.SerializerMethodField()
    transfers = serializers.SerializerMethodField()
    is_mine = serializers.SerializerMethodField()
    my_reaction = serializers.SerializerMethodField()
    similar = serializers.SerializerMethodField()

    def get_my_reaction(self, report) -> bool | None:
        """My like (true) or dislike (false) of how it was handled, if any."""
        return self.context.get("reaction")

    def get_timeline(self, report) -> list:
        return _events(report, citizen_words=True, moderation=False)

    def get_transfers(self, report) -> list:
        return _transfers(report, public=False)

    def get_is_mine(self, report) -> bool:
        return True

    def get_similar(self, report) -> list:
        """On submission: open reports of the category nearby, which the citizen may follow."""
        similar = self.context.get("similar") or []
        return SimilarReportSerializer(
            [s.report for s in similar],
            many=True,
            context={"distances": {s.report.pk: s.distance_m for s in similar}},
        ).data


class OfficialReportListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = CategoryBriefSerializer()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    unit = UnitBriefSerializer()
    anonymous = serializers.BooleanField()
    escalated = serializers.BooleanField()
    followers_count = serializers.IntegerField()
    acknowledge_due = serializers.DateField()
    resolve_due = serializers.DateField()
    overdue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_overdue(self, report) -> bool:
        return report_overdue(report)


class ReporterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    phone = serializers.SerializerMethodField()

    def get_phone(self, user) -> str:
        return mask_phone(user.phone)


class OfficialReportSerializer(OfficialReportListSerializer):
    description = serializers.CharField()
    place = serializers.SerializerMethodField()
    address_code = serializers.SerializerMethodField()
    reporter = serializers.SerializerMethodField()
    handled_by = serializers.CharField(source="category.handled_by")
    received_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_on_time = serializers.BooleanField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_on_time = serializers.BooleanField(allow_null=True)
    confirm_until = serializers.SerializerMethodField()
    satisfied = serializers.BooleanField(allow_null=True)
    close_reason = serializers.CharField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    hidden = serializers.BooleanField()
    text_hidden = serializers.BooleanField()
    photos = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    def get_place(self, report) -> dict | None:
        return PlaceSerializer(report).data if report.has_location else None

    def get_address_code(self, report) -> str | None:
        # An anonymous reporter's address code would say who they are.
        if report.anonymous or not report.household_id:
            return None
        return format_code(report.household.code)

    def get_reporter(self, report) -> dict | None:
        return None if report.anonymous else ReporterSerializer(report.reporter).data

    def get_confirm_until(self, report) -> datetime | None:
        value = _confirm_until(report)
        return serializers.DateTimeField().to_representation(value) if value else None

    def get_photos(self, report) -> list:
        return _photos(report, everything=True, official=True)

    def get_timeline(self, report) -> list:
        return _events(report, citizen_words=True, moderation=True)


class IdentitySerializer(ReporterSerializer):
    """For a province administrator, against abuse: who sent the report (logged)."""

    phone = serializers.CharField()
