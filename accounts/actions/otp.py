"""Phone OTP (NIST SP 800-63B): 6 digits from a CSPRNG, stored as a keyed hash, 5 minutes,
single use, a bounded number of checks, a resend cool-down, daily caps per phone and per IP,
and a lock after repeated failures. Nothing here tells whether a number has an account."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.errors import InvalidOtp
from accounts.models import OtpChallenge, OtpPurpose, User
from config.celery import enqueue_on_commit
from digital_address.vietnamese_text import strip_diacritics
from notifications.actions import sms_queue


@dataclass(frozen=True)
class OtpRequestResult:
    resend_after: int
    expires_in: int


def _hash(challenge_id: str, code: str) -> str:
    key = hashlib.sha256(b"otp:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _lock_window() -> timedelta:
    return timedelta(minutes=settings.OTP_LOCK_MINUTES)


def _locked(phone: str) -> bool:
    since = timezone.now() - _lock_window()
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
    if purpose in (OtpPurpose.REGISTER, OtpPurpose.CHANGE_PHONE):
        return not User.objects.filter(phone=phone).exists()
    return User.objects.filter(phone=phone, is_active=True).exists()


def _cap_address(ip: str | None) -> str | None:
    """The address the per-address cap counts: an IPv6 client by its /64, which one subscriber
    gets whole (walking through it must not reset the cap)."""
    if not ip:
        return None
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _pad(challenge_id: str) -> int:
    key = hashlib.sha256(b"otp-seal:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, challenge_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest, "big") % 10**6


def _seal(challenge_id: str, code: str) -> str:
    return f"{(int(code) + _pad(challenge_id)) % 10**6:06d}"


def _unseal(challenge_id: str, sealed: str) -> str:
    return f"{(int(sealed) - _pad(challenge_id)) % 10**6:06d}"


def _sms_text(code: str | None) -> str:
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
    """Maybe create a challenge and queue its delivery. The answer is the same in every case.

    The request does the same work whether or not the number has an account (one row, one
    published task): whether a code, a notice or nothing is texted is decided by the worker in
    otp_deliver, so neither the answer nor its timing tells an account apart."""
    from accounts.tasks import deliver_otp

    ip = _cap_address(ip)
    now = timezone.now()
    ttl = settings.OTP_TTL_SECONDS
    cooldown = settings.OTP_RESEND_SECONDS
    day_ago = now - timedelta(days=1)

    with transaction.atomic():
        _serialize_on(phone)
        # One read of the number's recent rows answers the cool-down, the daily cap and the lock.
        lock_since = now - _lock_window()
        recent = OtpChallenge.objects.filter(
            phone=phone, created_at__gte=min(day_ago, lock_since)
        ).aggregate(
            last=Max("created_at"),
            today=Count("id", filter=Q(created_at__gte=day_ago)),
            failures=Sum("failures", filter=Q(created_at__gte=lock_since)),
        )
        if recent["last"] and (wait := cooldown - int((now - recent["last"]).total_seconds())) > 0:
            return OtpRequestResult(resend_after=wait, expires_in=ttl)
        if (
            recent["today"] >= settings.OTP_DAILY_PER_PHONE
            or (recent["failures"] or 0) >= settings.OTP_LOCK_FAILURES
            or (
                ip
                and OtpChallenge.objects.filter(ip=ip, created_at__gte=day_ago).count()
                >= settings.OTP_DAILY_PER_IP
            )
        ):
            return OtpRequestResult(resend_after=cooldown, expires_in=ttl)

        code = f"{secrets.randbelow(10**6):06d}"
        challenge = OtpChallenge(
            phone=phone,
            purpose=purpose,
            ip=ip,
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        challenge.code_hash = _hash(str(challenge.id), code)
        # Only the worker needs the code back, and only until it has queued the SMS: kept sealed
        # with a key the database does not hold, and wiped by otp_deliver.
        challenge.code_sealed = _seal(str(challenge.id), code)
        # Fields only: the id is a fresh UUID and the constraints are the database's to check
        # (the unique and constraint checks would cost four more statements on a hot path).
        challenge.full_clean(validate_unique=False, validate_constraints=False)
        challenge.save()
        enqueue_on_commit(deliver_otp, str(challenge.id))
    return OtpRequestResult(resend_after=cooldown, expires_in=ttl)


def otp_deliver(*, challenge_id: str) -> bool:
    """Text what the challenge calls for: the code when the account state fits the purpose, a
    notice for a registration of a number that has an account, otherwise nothing. Runs once per
    challenge (a second run finds it dispatched). Returns whether an SMS was queued."""
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(pk=challenge_id, dispatched_at__isnull=True)
            .first()
        )
        if challenge is None:
            return False
        sealed = challenge.code_sealed
        challenge.dispatched_at = now
        challenge.code_sealed = ""
        challenge.save(update_fields=["dispatched_at", "code_sealed"])
        if challenge.expires_at <= now or challenge.consumed_at or not sealed:
            return False
        with translation.override(challenge.language):
            if _account_fits(challenge.phone, challenge.purpose):
                body = _sms_text(_unseal(str(challenge.id), sealed))
            elif challenge.purpose == OtpPurpose.REGISTER:
                body = _sms_text(None)
            else:
                return False  # login or reset for a number without an account: text nobody
        sms_queue(
            phone=challenge.phone,
            body=body,
            purpose=f"otp:{challenge.purpose}",
            sensitive=True,
            expires_at=challenge.expires_at,
        )
    return True


# Longer than a normal trip through the queue: a challenge still undispatched after this was
# lost by the broker.
UNDISPATCHED_AFTER = timedelta(seconds=30)


def otp_sweep_undispatched() -> list[str]:
    """Re-queue the deliveries the broker lost, while their codes are still valid."""
    from accounts.tasks import deliver_otp

    now = timezone.now()
    OtpChallenge.objects.filter(dispatched_at__isnull=True, expires_at__lte=now).update(
        dispatched_at=now, code_sealed=""
    )
    ids = [
        str(pk)
        for pk in OtpChallenge.objects.filter(
            Q(requeued_at__isnull=True) | Q(requeued_at__lte=now - UNDISPATCHED_AFTER),
            dispatched_at__isnull=True,
            created_at__lte=now - UNDISPATCHED_AFTER,
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    ]
    # Stamped, so a delivery still waiting behind a long queue is re-queued once per interval,
    # not at every sweep.
    OtpChallenge.objects.filter(pk__in=ids).update(requeued_at=now)
    for pk in ids:
        deliver_otp.apply_async(args=[pk])
    return ids


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
            ok = hmac.compare_digest(
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


def otp_purge_old() -> int:
    """Keep OTP rows only as long as the caps and the lock look at them (data minimisation)."""
    keep = max(timedelta(days=2), 2 * _lock_window())
    deleted, _rows = OtpChallenge.objects.filter(created_at__lt=timezone.now() - keep).delete()
    return deleted
