from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from accounts.api.fields import PhoneField
from accounts.models import (
    DataAccessLog,
    Device,
    DevicePlatform,
    Gender,
    Language,
    OtpPurpose,
    User,
)
from digital_address.models import Ward

OTP_FIELD = {"min_length": 6, "max_length": 6}


class OtpRequestSerializer(serializers.Serializer):
    phone = PhoneField()
    purpose = serializers.ChoiceField(choices=OtpPurpose.choices)


class OtpRequestResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    resend_after = serializers.IntegerField(
        help_text=_("Seconds before another code can be asked for.")
    )
    expires_in = serializers.IntegerField(help_text=_("Seconds a code stays valid."))


class RegisterSerializer(serializers.Serializer):
    phone = PhoneField()
    otp = serializers.RegexField(r"^\d{6}$", **OTP_FIELD)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    full_name = serializers.CharField(max_length=150)


class PasswordLoginSerializer(serializers.Serializer):
    phone = PhoneField()
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class OtpLoginSerializer(serializers.Serializer):
    phone = PhoneField()
    otp = serializers.RegexField(r"^\d{6}$", **OTP_FIELD)


class PasswordResetSerializer(serializers.Serializer):
    phone = PhoneField()
    otp = serializers.RegexField(r"^\d{6}$", **OTP_FIELD)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class PhoneChangeSerializer(serializers.Serializer):
    phone = PhoneField(help_text=_("The new number; the code was sent to it."))
    otp = serializers.RegexField(r"^\d{6}$", **OTP_FIELD)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class RefreshTokenSerializer(TokenRefreshSerializer):
    def validate(self, attrs: dict) -> dict:
        try:
            return super().validate(attrs)
        except User.DoesNotExist:
            # The account was deleted by an administrator since the token was issued.
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class ProfileSerializer(serializers.ModelSerializer):
    gender = serializers.ChoiceField(choices=Gender.choices, allow_blank=True, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    national_id = serializers.CharField(
        allow_blank=True, allow_null=True, required=False, max_length=12
    )
    ward = serializers.PrimaryKeyRelatedField(
        queryset=Ward.objects.all(), allow_null=True, required=False
    )
    is_official = serializers.BooleanField(source="is_staff", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "phone",
            "full_name",
            "date_of_birth",
            "gender",
            "national_id",
            "email",
            "language",
            "ward",
            "is_official",
            "date_joined",
        ]
        read_only_fields = ["id", "phone", "is_official", "date_joined"]

    def validate_full_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("Enter your full name."))
        return value


class EraseSerializer(serializers.Serializer):
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class DeviceSerializer(serializers.ModelSerializer):
    platform = serializers.ChoiceField(choices=DevicePlatform.choices)
    # Real tokens are a few hundred characters (FCM ~160, APNs 64); PostgreSQL cannot index a
    # value much over 2.7 kB, so the unique column would answer a longer one with a 500.
    token = serializers.CharField(max_length=1024)

    class Meta:
        model = Device
        fields = ["id", "platform", "token", "app_version", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The token's uniqueness is handled by the action: registering it again moves it.
        extra_kwargs = {"token": {"validators": []}}


class AccessLogEntrySerializer(serializers.ModelSerializer):
    official_name = serializers.CharField(source="official.full_name", read_only=True)
    official_title = serializers.SerializerMethodField()
    # Codes stored, labels shown in the reader's language; a row written before the codes
    # shows its text as it was.
    purpose = serializers.CharField(source="get_purpose_display", read_only=True)
    resource = serializers.CharField(read_only=True)

    class Meta:
        model = DataAccessLog
        fields = [
            "id",
            "official_name",
            "official_title",
            "resource",
            "purpose",
            "channel",
            "created_at",
        ]

    def get_official_title(self, row: DataAccessLog) -> str:
        profile = getattr(row.official, "official", None)
        return profile.title if profile else ""
