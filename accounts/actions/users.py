"""Citizen accounts: registration, login, password reset, profile, devices, export and erasure."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.actions.otp import otp_verify
from accounts.errors import InvalidCredentials, InvalidOtp, LoginLocked
from accounts.login_attempts import password_check
from accounts.models import Device, OtpChallenge, OtpPurpose, User
from accounts.national_id import national_id_errors
from assistant.actions import conversations_erase
from config.errors import DomainError
from digital_address.actions.households import household_memberships_erase
from digital_address.vietnamese_text import strip_diacritics
from notifications.actions import sms_erase_phone, sms_queue
from notifications.models import CheckIn, Notification, NotificationPreference
from notifications.phone_display import mask_phone
from services.report_flow import report_follows_erase


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def tokens_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise DomainError(
            exc.messages[0], code="invalid", fields={"password": list(exc.messages)}
        ) from None


def user_register(*, phone: str, otp: str, password: str, full_name: str) -> User:
    user = User(phone=phone, full_name=full_name.strip())
    _check_password(password, user)
    otp_verify(phone=phone, purpose=OtpPurpose.REGISTER, code=otp)
    user.set_password(password)
    user.full_clean(exclude=["password"], validate_unique=False)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Registered by a concurrent request a moment ago.
        raise InvalidOtp() from None
    return user


def user_authenticate_password(*, phone: str, password: str) -> User:
    user = User.objects.filter(phone=phone, is_active=True).first()

    def check() -> bool:
        if user is None:
            # Same work as a real check, so timing does not reveal unknown numbers.
            User().set_password(password)
            return False
        return user.check_password(password)

    passed = password_check(phone, check)
    if passed is None:
        raise LoginLocked()
    if not passed:
        raise InvalidCredentials()
    return user


def user_login_otp(*, phone: str, otp: str) -> User:
    otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=otp)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:  # deactivated between the request and the check
        raise InvalidOtp()
    return user


def _blacklist_all(user: User) -> None:
    for token in OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False):
        BlacklistedToken.objects.get_or_create(token=token)


def user_reset_password(*, phone: str, otp: str, password: str) -> User:
    # Checked against the number alone: checking against the holder's name too would answer
    # differently for numbers with an account, before the code proves who is asking.
    _check_password(password, User(phone=phone))
    otp_verify(phone=phone, purpose=OtpPurpose.RESET_PASSWORD, code=otp)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise InvalidOtp()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        # Whoever held the old password is logged out everywhere.
        _blacklist_all(user)
    return user


def _require_password(user: User, password: str) -> None:
    """Confirm a sensitive change with the password, under the same lock as logging in: a
    stolen access token must not be a way to guess the password."""
    passed = password_check(user.phone, lambda: user.check_password(password))
    if passed is None:
        raise LoginLocked()
    if not passed:
        message = _("The password is wrong.")
        raise DomainError(message, code="invalid_password", fields={"password": [message]})


def user_change_phone(*, user: User, new_phone: str, otp: str, password: str) -> User:
    """Move the account to a new number. The code proves the new number; the password proves
    the account holder (an access token alone must not be enough to take an account over).
    Every session is logged out and the old number is told."""
    _require_password(user, password)
    otp_verify(phone=new_phone, purpose=OtpPurpose.CHANGE_PHONE, code=otp)
    old_phone = user.phone
    try:
        with transaction.atomic():
            user.phone = new_phone
            user.save(update_fields=["phone"])
            _blacklist_all(user)
            with translation.override(user.language):
                notice = strip_diacritics(
                    _(
                        "Cong dan so: the phone number of your account was changed to "
                        "%(masked)s. If it was not you, contact your commune's one-stop desk."
                    )
                    % {"masked": mask_phone(new_phone)}
                )
            sms_queue(phone=old_phone, body=notice, purpose="account:phone_changed")
    except IntegrityError:
        raise InvalidOtp() from None
    return user


PROFILE_FIELDS = (
    "full_name",
    "date_of_birth",
    "gender",
    "national_id",
    "email",
    "language",
    "ward",
)


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    changed = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    if not changed:
        # Nothing to write: a save() here would write back every column of a possibly stale
        # object (undoing, say, a password reset that happened meanwhile).
        return user
    national_id = changed.get("national_id", user.national_id) or None
    date_of_birth: date | None = changed.get("date_of_birth", user.date_of_birth)
    gender = changed.get("gender", user.gender)
    if date_of_birth is not None and date_of_birth > timezone.localdate():
        message = _("The date of birth cannot be in the future.")
        raise DomainError(message, fields={"date_of_birth": [message]})
    if national_id:
        errors = national_id_errors(national_id, date_of_birth=date_of_birth, gender=gender)
        if errors:
            raise DomainError(errors[0], fields={"national_id": errors})
        if User.objects.filter(national_id=national_id).exclude(pk=user.pk).exists():
            message = _("This citizen ID number is already used by another account.")
            raise DomainError(message, fields={"national_id": [message]})
    if "national_id" in changed:
        changed["national_id"] = national_id
    for key, value in changed.items():
        setattr(user, key, value)
    try:
        with transaction.atomic():
            user.save(update_fields=list(changed))
    except IntegrityError:
        message = _("This citizen ID number is already used by another account.")
        raise DomainError(message, fields={"national_id": [message]}) from None
    return user


def token_logout(*, user: User, refresh: str) -> None:
    # Signature, expiry, type and owner; not the blacklist (RefreshToken() refuses a blacklisted
    # token), so that logging out twice is fine.
    try:
        payload = token_backend.decode(refresh, verify=True)
    except TokenBackendError:
        payload = {}
    if payload.get("token_type") != "refresh" or str(payload.get("user_id")) != str(user.pk):
        message = _("The refresh token is invalid or expired.")
        raise DomainError(message, code="token_not_valid", fields={"refresh": [message]})
    with contextlib.suppress(TokenError):  # already blacklisted
        RefreshToken(refresh).blacklist()


def user_erase(*, user: User, password: str) -> None:
    """Erase or de-identify everything personal. Kept, de-identified: the access log (the state
    must be able to answer who read what) and message records (without number or text)."""
    _require_password(user, password)
    with transaction.atomic():
        # The user's row first, as every household action locks it (accounts before
        # households): FOR UPDATE, not NO KEY, because the phone (a unique key) changes below.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        old_phone = user.phone
        _blacklist_all(user)
        Device.objects.filter(user=user).delete()
        OtpChallenge.objects.filter(phone=old_phone).delete()
        sms_erase_phone(phone=old_phone)
        # The inbox quotes the citizen's dossiers (what was missing, why refused).
        Notification.objects.filter(user=user).delete()
        NotificationPreference.objects.filter(user=user).delete()
        # Where they were and what they needed during an emergency.
        CheckIn.objects.filter(user=user).delete()
        # Reports they follow. Their own reports stay (a public problem, not theirs to take
        # back), tied to the de-identified account.
        report_follows_erase(user=user)
        # What they asked the virtual assistant while logged in.
        conversations_erase(user=user)
        household_memberships_erase(user=user, phone=old_phone)
        user.phone = f"erased-{user.pk}"
        user.full_name = ""
        user.date_of_birth = None
        user.gender = ""
        user.national_id = None
        user.email = ""
        user.ward = None
        user.is_active = False
        user.erased_at = timezone.now()
        user.set_unusable_password()
        user.save()


def device_register(
    *, user: User, platform: str, token: str, app_version: str = ""
) -> tuple[Device, bool]:
    """Register a push token, or move it to this user. Returns (device, created)."""
    try:
        with transaction.atomic():
            device = Device.objects.select_for_update().filter(token=token).first()
            if device is None:
                device = Device(user=user, platform=platform, token=token, app_version=app_version)
                device.full_clean(validate_unique=False)
                device.save()
                return device, True
    except IntegrityError:
        pass  # the same new token was registered at the same moment: move that row below
    with transaction.atomic():
        device = Device.objects.select_for_update().get(token=token)
        device.user = user
        device.platform = platform
        device.app_version = app_version
        device.is_active = True
        device.save(update_fields=["user", "platform", "app_version", "is_active", "updated_at"])
        return device, False


def device_delete(*, user: User, device_id: int) -> None:
    deleted, _rows = Device.objects.filter(user=user, pk=device_id).delete()
    if not deleted:
        from django.http import Http404

        raise Http404
