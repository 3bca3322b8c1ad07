from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.fields import PhoneField
from digital_address.actions.households import Address
from digital_address.models import (
    INVITABLE_RELATIONSHIPS,
    ExternalAddressCode,
    ExternalCodeScheme,
    Household,
    HouseholdEvent,
    HouseholdInvitation,
    HouseholdMember,
    Province,
    VerificationStatus,
    Ward,
)
from digital_address.timeline import event_summary
from notifications.phone_display import mask_phone


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name", "division_type"]


class WardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ward
        fields = ["code", "name", "division_type", "province"]


class WardQuerySerializer(serializers.Serializer):
    # Bounded like Province.code (a small integer): a larger number is bad input (400), and on
    # SQLite it would not even fit the query (OverflowError, a 500).
    province = serializers.IntegerField(required=False, min_value=1, max_value=32767)
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)


# --- households ------------------------------------------------------------------------------

COORDINATE = {"max_digits": 9, "decimal_places": 6, "coerce_to_string": False}


class CoordinateField(serializers.DecimalField):
    """Degrees as a phone's GPS or a map gives them, with any number of decimals, rounded to 6
    (about 11 cm) instead of refused."""

    def __init__(self, **kwargs) -> None:
        super().__init__(rounding=ROUND_HALF_UP, **COORDINATE, **kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        # The range is checked here, before the rounding: rounded to 9 significant digits, a
        # value of 1000 or more cannot be represented (InvalidOperation, a 500).
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        return value


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError(_("A date of birth cannot be in the future."))
    return value


class AddressInputSerializer(serializers.Serializer):
    house_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    street = serializers.CharField(max_length=150, required=False, allow_blank=True)
    hamlet = serializers.CharField(max_length=150, required=False, allow_blank=True)
    latitude = CoordinateField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = CoordinateField(required=False, allow_null=True, min_value=-180, max_value=180)

    def validate(self, attrs: dict) -> dict:
        if not any(attrs.get(f, "").strip() for f in ("house_number", "street", "hamlet")):
            message = _("Give the house number, the street or the hamlet of the address.")
            raise serializers.ValidationError({"hamlet": [message]})
        return attrs

    def address(self) -> Address:
        data = self.validated_data
        fields = ("house_number", "street", "hamlet", "latitude", "longitude")
        return Address(**{f: data[f] for f in fields if f in data})


class HouseholdCreateSerializer(AddressInputSerializer):
    ward = serializers.PrimaryKeyRelatedField(
        queryset=Ward.objects.all(),
        help_text="The commune-level unit's code (`admin-units/wards/`), e.g. 6040.",
    )


class HouseholdUpdateSerializer(AddressInputSerializer):
    """Only the fields sent change (the action lays them on the household under its lock and
    checks the whole address there)."""

    def validate(self, attrs: dict) -> dict:
        if "ward" in self.initial_data:
            message = _("A household does not change ward: to live in another ward, move.")
            raise serializers.ValidationError({"ward": [message]})
        return attrs


class HouseholdMoveSerializer(HouseholdCreateSerializer):
    bring_members = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=50,
        help_text="Members without an account (children) who move too.",
    )
    new_head = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The member with an account who becomes head of the old household, "
        "when the head moves out and such members stay.",
    )


class WardBriefSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province.name")

    class Meta:
        model = Ward
        fields = ["code", "name", "province"]


class MemberSerializer(serializers.ModelSerializer):
    has_account = serializers.SerializerMethodField()

    class Meta:
        model = HouseholdMember
        fields = [
            "id",
            "full_name",
            "date_of_birth",
            "relationship",
            "has_account",
            "needs_assistance",
            "joined_at",
        ]

    def get_has_account(self, member: HouseholdMember) -> bool:
        return member.user_id is not None


class MemberAddSerializer(serializers.Serializer):
    """Either a member without an account (name, date of birth) or an invitation by phone."""

    relationship = serializers.ChoiceField(choices=INVITABLE_RELATIONSHIPS)
    phone = PhoneField(required=False)
    full_name = serializers.CharField(max_length=150, required=False)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[_not_in_future]
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("phone") and attrs.get("full_name"):
            message = _("Give a phone number to invite someone with an account, or a name.")
            raise serializers.ValidationError({"phone": [message], "full_name": [message]})
        if not attrs.get("phone") and not (attrs.get("full_name") or "").strip():
            raise serializers.ValidationError({"full_name": [_("This field is required.")]})
        return attrs


class MemberUpdateSerializer(serializers.Serializer):
    """The fields sent are changed, the others left as they are."""

    full_name = serializers.CharField(
        max_length=150, required=False, help_text="Members without an account only."
    )
    date_of_birth = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[_not_in_future],
        help_text="Members without an account only.",
    )
    needs_assistance = serializers.BooleanField(
        required=False,
        help_text="Needs help in an emergency whatever their age (a disability, an illness, "
        "pregnancy): rescue teams look for them first when they do not check in.",
    )


class MemberAssistanceSerializer(serializers.Serializer):
    needs_assistance = serializers.BooleanField()


class InvitationSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()

    class Meta:
        model = HouseholdInvitation
        fields = ["id", "phone", "relationship", "status", "created_at", "expires_at"]

    def get_phone(self, invitation: HouseholdInvitation) -> str:
        return mask_phone(invitation.phone)


class ReceivedInvitationSerializer(serializers.ModelSerializer):
    household_code = serializers.CharField(source="household.formatted_code")
    ward = serializers.CharField(source="household.ward.name")
    address_line = serializers.CharField(source="household.address_line")
    invited_by = serializers.CharField(source="invited_by.full_name", default="")

    class Meta:
        model = HouseholdInvitation
        fields = [
            "id",
            "household_code",
            "ward",
            "address_line",
            "invited_by",
            "relationship",
            "expires_at",
        ]


class InvitationAcceptSerializer(serializers.Serializer):
    leave_current = serializers.BooleanField(
        default=False,
        help_text="Leave the household I live in now (required when I live in one).",
    )
    new_head = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="As a head: the member with an account who heads those who stay. Members "
        "without an account do not come along: the inviting head adds them.",
    )


class ExternalCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExternalAddressCode
        fields = ["scheme", "code"]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    kind_display = serializers.CharField(source="get_kind_display")
    summary = serializers.SerializerMethodField()

    class Meta:
        model = HouseholdEvent
        fields = ["kind", "kind_display", "summary", "actor", "data", "created_at"]

    def get_summary(self, event: HouseholdEvent) -> str:
        """The event in words, in the reader's language ("Chờ xác minh → Đã xác minh")."""
        return event_summary(event)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: HouseholdEvent) -> str | None:
        # Officials are named (they act for the state); citizens by their role in the story.
        if event.actor is None:
            return None
        if event.actor.is_staff:
            return event.actor.full_name
        return _("Resident")


class HouseholdSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="formatted_code")
    ward = WardBriefSerializer()
    address_line = serializers.CharField()
    latitude = serializers.DecimalField(allow_null=True, min_value=-90, max_value=90, **COORDINATE)
    longitude = serializers.DecimalField(
        allow_null=True, min_value=-180, max_value=180, **COORDINATE
    )
    members = MemberSerializer(source="current_members", many=True)
    invitations = InvitationSerializer(source="pending_invitations", many=True)
    external_codes = ExternalCodeSerializer(many=True)
    timeline = EventSerializer(source="events", many=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "code",
            "plus_code",
            "ward",
            "house_number",
            "street",
            "hamlet",
            "address_line",
            "latitude",
            "longitude",
            "status",
            "rejection_reason",
            "members",
            "invitations",
            "external_codes",
            "timeline",
            "created_at",
        ]


class PublicAddressSerializer(serializers.ModelSerializer):
    """What anyone may read from a code: the place, never the people."""

    code = serializers.CharField(source="formatted_code")
    ward = WardBriefSerializer()
    address_line = serializers.CharField()
    latitude = serializers.DecimalField(allow_null=True, min_value=-90, max_value=90, **COORDINATE)
    longitude = serializers.DecimalField(
        allow_null=True, min_value=-180, max_value=180, **COORDINATE
    )
    verified = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["code", "plus_code", "ward", "address_line", "latitude", "longitude", "verified"]

    def get_verified(self, household: Household) -> bool:
        return household.status == VerificationStatus.VERIFIED


class NearbySerializer(PublicAddressSerializer):
    distance_m = serializers.SerializerMethodField()

    class Meta(PublicAddressSerializer.Meta):
        fields = [*PublicAddressSerializer.Meta.fields, "distance_m"]

    def get_distance_m(self, household: Household) -> float:
        return round(self.context["distances"][household.pk], 1)


class NearbyQuerySerializer(serializers.Serializer):
    lat = CoordinateField(min_value=-90, max_value=90)
    lng = CoordinateField(min_value=-180, max_value=180)
    radius = serializers.IntegerField(min_value=1, max_value=1000, default=200)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)


class ResolveQuerySerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=ExternalCodeScheme.choices, required=False)


# --- officials --------------------------------------------------------------------------------


class OfficialHouseholdListSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="formatted_code")
    ward = serializers.IntegerField(source="ward_id")
    address_line = serializers.CharField()
    has_location = serializers.BooleanField()

    class Meta:
        model = Household
        fields = [
            "id",
            "code",
            "ward",
            "address_line",
            "has_location",
            "status",
            "source",
            "created_at",
            "updated_at",
            "vacated_at",
        ]


class OfficialHouseholdSerializer(HouseholdSerializer):
    class Meta(HouseholdSerializer.Meta):
        fields = [
            *HouseholdSerializer.Meta.fields,
            "source",
            "reviewed_at",
            "updated_at",
            "vacated_at",
        ]


class OfficialQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=VerificationStatus.choices, required=False)
    ward = serializers.IntegerField(required=False, min_value=1, max_value=99999)


class DecisionSerializer(serializers.Serializer):
    updated_at = serializers.DateTimeField(
        required=False,
        help_text="The household's `updated_at` as the official saw it: if the citizen changed "
        "the address since, the answer is 409 `household_changed`.",
    )


class RejectSerializer(DecisionSerializer):
    reason = serializers.CharField(max_length=500)


class ExternalCodeInputSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=ExternalCodeScheme.choices)
    code = serializers.CharField(max_length=64)


class CoverageSerializer(serializers.Serializer):
    ward = serializers.IntegerField(source="ward_code", allow_null=True)
    name = serializers.CharField(source="ward_name")
    estimated_households = serializers.IntegerField(allow_null=True)
    registered = serializers.IntegerField()
    verified = serializers.IntegerField()
    with_digital_address = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    verified_percent = serializers.FloatField(allow_null=True)


class CoverageReportSerializer(serializers.Serializer):
    total = CoverageSerializer()
    wards = CoverageSerializer(many=True)


class StatsQuerySerializer(serializers.Serializer):
    province = serializers.IntegerField(required=False, min_value=1, max_value=32767)
