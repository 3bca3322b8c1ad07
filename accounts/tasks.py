from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone

from accounts.actions.otp import otp_deliver, otp_sweep_undispatched
from accounts.models import OtpChallenge


@shared_task(name="accounts.deliver_otp", acks_late=True)
def deliver_otp(challenge_id: str) -> bool:
    return otp_deliver(challenge_id=challenge_id)


@shared_task(name="accounts.sweep_undispatched_otps", acks_late=True)
def sweep_undispatched_otps() -> int:
    return len(otp_sweep_undispatched())


@shared_task(name="accounts.purge_expired_otps", acks_late=True)
def purge_expired_otps() -> int:
    """Keep OTP rows only as long as caps and locks look at them (data minimisation)."""
    deleted, _rows = OtpChallenge.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=2)
    ).delete()
    return deleted


@shared_task(name="accounts.flush_expired_tokens", acks_late=True)
def flush_expired_tokens() -> None:
    call_command("flushexpiredtokens")
