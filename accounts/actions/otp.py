"""Phone OTP (NIST SP 800-63B): 6 digits from a CSPRNG, stored as a keyed hash, 5 minutes,
single use, a bounded number of checks, a resend cool-down, daily caps per phone and per IP,
and a lock after repeated failures. Nothing here tells whether a number has an account."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.errors import InvalidOtp
from accounts.models import OtpChallenge, OtpPurpose, User
from digital_address.vietnamese_text import strip_diacritics
from notifications.actions import sms_queue


@dataclass(frozen=True)
class OtpRequestResult:
    resend_after: int
    expires_in: int


def _hash(challenge_id: str, code: str) -> str:
    key = hashlib.sha256(b"otp:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _locked(phone: str) -> bool:
    since = timezone.now() - timedelta(minutes=settings.OTP_LOCK_MINUTES)
    failures = OtpChallenge.objects.filter(phone=phone, created_at__gte=since).aggregate(
        n=Sum("failures")
    )["n"]
    return (failures or 0) >= settings.OTP_LOCK_FAILURES


def _serialize_on(phone: str) -> None:
    """Two requests for one number at once must not both pass the cool-down. SQLite runs
    write transactions one at a time already (IMMEDIATE mode); PostgreSQL takes a lock."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(phone.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _account_fits(phone: str, purpose: str) -> bool:
    exists = User.objects.filter(phone=phone, is_active=True).exists()
    if purpose in (OtpPurpose.REGISTER, OtpPurpose.CHANGE_PHONE):
        return not User.objects.filter(phone=phone).exists()
    return exists


def _sms_text(code: str | None, purpose: str) -> str:
    if code is None:
        text = _(
            "Cong dan so: this number already has an account. Log in, or reset your password "
            "if you forgot it."
        )
    else:
        text = _(
            "Cong dan so: your verification code is %(code)s, valid for %(minutes)d minutes. "
            "Never share it with anyone."
        ) % {"code": code, "minutes": settings.OTP_TTL_SECONDS // 60}
    # Unaccented text stays in the GSM-7 alphabet: one cheaper, longer segment.
    return strip_diacritics(text)


def otp_request(
    *, phone: str, purpose: str, ip: str | None, language: str | None = None
) -> OtpRequestResult:
    """Maybe create a challenge and queue its SMS. The answer is the same in every case."""
    now = timezone.now()
    ttl = settings.OTP_TTL_SECONDS
    cooldown = settings.OTP_RESEND_SECONDS
    day_ago = now - timedelta(days=1)

    with transaction.atomic():
        _serialize_on(phone)
        last = (
            OtpChallenge.objects.filter(phone=phone)
            .order_by("-created_at")
            .only("created_at")
            .first()
        )
        if last and (wait := cooldown - int((now - last.created_at).total_seconds())) > 0:
            return OtpRequestResult(resend_after=wait, expires_in=ttl)
        if (
            OtpChallenge.objects.filter(phone=phone, created_at__gte=day_ago).count()
            >= settings.OTP_DAILY_PER_PHONE
            or (
                ip
                and OtpChallenge.objects.filter(ip=ip, created_at__gte=day_ago).count()
                >= settings.OTP_DAILY_PER_IP
            )
            or _locked(phone)
        ):
            return OtpRequestResult(resend_after=cooldown, expires_in=ttl)

        usable = _account_fits(phone, purpose)
        code = f"{secrets.randbelow(10**6):06d}"
        challenge = OtpChallenge(
            phone=phone,
            purpose=purpose,
            usable=usable,
            ip=ip,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        challenge.code_hash = _hash(str(challenge.id), code)
        challenge.full_clean()
        challenge.save()

        with translation.override(language or translation.get_language()):
            if usable:
                body = _sms_text(code, purpose)
            elif purpose == OtpPurpose.REGISTER:
                body = _sms_text(None, purpose)
            else:
                # Login or reset for a number without an account: text nobody.
                body = None
        if body:
            sms_queue(
                phone=phone,
                body=body,
                purpose=f"otp:{purpose}",
                sensitive=True,
                expires_at=challenge.expires_at,
            )
    return OtpRequestResult(resend_after=cooldown, expires_in=ttl)


def otp_verify(*, phone: str, purpose: str, code: str) -> None:
    """Pass the newest challenge for this number and purpose (consuming it), or raise InvalidOtp.

    Call it outside any transaction and before the work it authorises: a failed check must be
    committed, or an attacker could roll back their own failure count."""
    now = timezone.now()
    failure: InvalidOtp | None = None
    with transaction.atomic():
        # The newest challenge even if consumed: a new code replaces the previous ones, which
        # must not come back to life once it is used.
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-created_at")
            .first()
        )
        if _locked(phone):
            failure = InvalidOtp(
                _("Too many wrong codes for this number. Try again later."), code="otp_locked"
            )
        elif challenge is None or challenge.consumed_at is not None or challenge.expires_at <= now:
            failure = InvalidOtp()
        elif challenge.checks >= settings.OTP_MAX_CHECKS:
            failure = InvalidOtp(
                _("Too many attempts with this code. Request a new code."),
                code="otp_attempts_exceeded",
            )
        else:
            ok = challenge.usable and hmac.compare_digest(
                challenge.code_hash, _hash(str(challenge.id), (code or "").strip())
            )
            challenge.checks += 1
            if ok:
                challenge.consumed_at = now
                challenge.save(update_fields=["checks", "consumed_at"])
                return
            challenge.failures += 1
            challenge.save(update_fields=["checks", "failures"])
            failure = InvalidOtp()
    raise failure
