from __future__ import annotations

from celery import shared_task
from django.core.management import call_command

from accounts.actions.otp import otp_deliver, otp_purge_old, otp_sweep_undispatched
from accounts.login_attempts import purge_login_failures


@shared_task(name="accounts.deliver_otp", acks_late=True)
def deliver_otp(challenge_id: str) -> bool:
    return otp_deliver(challenge_id=challenge_id)


@shared_task(name="accounts.sweep_undispatched_otps", acks_late=True)
def sweep_undispatched_otps() -> int:
    return len(otp_sweep_undispatched())


@shared_task(name="accounts.purge_expired_otps", acks_late=True)
def purge_expired_otps() -> int:
    return otp_purge_old()


@shared_task(name="accounts.purge_login_failures", acks_late=True)
def purge_login_failures_task() -> int:
    return purge_login_failures()


@shared_task(name="accounts.flush_expired_tokens", acks_late=True)
def flush_expired_tokens() -> None:
    call_command("flushexpiredtokens")
