from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import (
    AccessResource,
    DataAccessLog,
    Device,
    OfficialProfile,
    OtpChallenge,
    Role,
    User,
)
from digital_address.models import Ward


def official_ward_codes(*, user: User) -> frozenset[int] | None:
    """The ward codes an official acts on; None means every unit (superuser). Empty for others."""
    if user.is_superuser:
        return None
    profile = getattr(user, "official", None)
    if not user.is_staff or profile is None:
        return frozenset()
    # Read with the user by the API's authentication (accounts.authentication, PostgreSQL);
    # else the link table alone (a ward's code is its key): no join, on every official request.
    codes = getattr(user, "official_unit_codes", None)
    if codes is None:
        links = OfficialProfile.units.through.objects.filter(officialprofile_id=profile.pk)
        codes = links.values_list("ward_id", flat=True)
    codes = set(codes)
    if profile.province_id and user.groups.filter(name__in=_province_admin_groups()).exists():
        codes |= set(
            Ward.objects.filter(province_id=profile.province_id).values_list("code", flat=True)
        )
    return frozenset(codes)


def official_units_loaded(user: User) -> User:
    """Read the official's unit links once for the rest of the request, as the API's
    authentication does (official_ward_codes then reads them from the user)."""
    if getattr(user, "official_unit_codes", None) is not None or not user.is_staff:
        return user
    profile = getattr(user, "official", None)
    if profile is not None:
        links = OfficialProfile.units.through.objects.filter(officialprofile_id=profile.pk)
        user.official_unit_codes = list(links.values_list("ward_id", flat=True))
    return user


def _province_admin_groups() -> list[str]:
    from accounts.roles import ROLE_GROUPS

    return [ROLE_GROUPS[Role.PROVINCE_ADMIN]]


def citizens_visible_to(*, official: User) -> QuerySet[User]:
    codes = official_ward_codes(user=official)
    users = User.objects.all()
    return users if codes is None else users.filter(ward_id__in=codes)


def access_log_for(*, user: User) -> QuerySet[DataAccessLog]:
    return DataAccessLog.objects.filter(subject=user).select_related(
        "official", "official__official"
    )


def access_log_visible_to(*, official: User) -> QuerySet[DataAccessLog]:
    """The reads an official may audit: of the citizens living in their units, and of the
    members without an account of their units' households (logged by member id)."""
    from digital_address.selectors import households_for_official

    rows = DataAccessLog.objects.all()
    codes = official_ward_codes(user=official)
    if codes is None:
        return rows
    member_ids = households_for_official(official=official).values_list(
        Cast("members__id", output_field=CharField()), flat=True
    )
    return rows.filter(
        Q(subject__ward_id__in=codes)
        | Q(
            subject__isnull=True,
            resource=AccessResource.HOUSEHOLD_MEMBER,
            object_id__in=member_ids,
        )
    )


def _local(moment: datetime | None) -> str | None:
    """As the API shows times: in the deployment's time zone (Asia/Ho_Chi_Minh)."""
    return timezone.localtime(moment).isoformat() if moment else None


def _preferences(pref: dict[str, Any]) -> dict[str, Any]:
    quiet = pref["quiet_hours"]
    if quiet:
        quiet = {key: value.strftime("%H:%M") for key, value in quiet.items()}
    return {**pref, "quiet_hours": quiet}


def user_export(*, user: User) -> dict[str, Any]:
    """Every piece of personal data held about the user. Other apps add their sections here."""
    from assistant.selectors import conversations_export
    from digital_address.selectors import household_export
    from notifications.selectors import (
        check_ins_export,
        notification_preferences,
        notifications_export,
        sms_for_phone,
    )
    from services.report_selectors import reports_export

    return {
        "profile": {
            "id": user.pk,
            "phone": user.phone,
            "full_name": user.full_name,
            "date_of_birth": user.date_of_birth.isoformat() if user.date_of_birth else None,
            "gender": user.gender,
            "national_id": user.national_id,
            "email": user.email,
            "language": user.language,
            "ward": user.ward_id,
            "date_joined": _local(user.date_joined),
            "last_login": _local(user.last_login),
        },
        "devices": [
            {
                "id": d.pk,
                "platform": d.platform,
                "token": d.token,
                "app_version": d.app_version,
                "created_at": _local(d.created_at),
            }
            for d in Device.objects.filter(user=user).order_by("created_at")
        ],
        "otp_requests": [
            {
                "purpose": c.purpose,
                # Not the requesting IP: whoever asked for a code for this number (maybe not
                # its holder) is someone else's personal data.
                "created_at": _local(c.created_at),
                "used": c.consumed_at is not None,
            }
            for c in OtpChallenge.objects.filter(phone=user.phone).order_by("created_at")
        ],
        "sms": sms_for_phone(phone=user.phone),
        "notifications": notifications_export(user=user),
        "notification_preferences": _preferences(notification_preferences(user=user)),
        "check_ins": check_ins_export(user=user),
        "households": household_export(user=user),
        **reports_export(user=user),
        "assistant": conversations_export(user=user),
        "access_log": [
            {
                "official": row.official.full_name,
                "resource": row.resource,
                "purpose": row.get_purpose_display(),
                "channel": row.channel,
                "at": _local(row.created_at),
            }
            for row in access_log_for(user=user)
        ],
    }
