"""The password lock per phone number: after LOGIN_LOCK_FAILURES failed checks within
LOGIN_LOCK_MINUTES, no password check for that number is made until the window has moved past
them (a code login still works). Used wherever a password is checked: the API's login, the
admin's login (accounts.backends) and the confirmations of a phone change or an erasure.

An attempt is counted before the password is checked and forgotten when it succeeds, so
concurrent guesses cannot all slip past the count. Counted for any number, with or without an
account, so the lock tells nothing about accounts. Kept in the database: it holds when the cache
is down."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import LoginFailure


def _digest(phone: str) -> str:
    return hashlib.sha256(f"login:{phone}".encode()).hexdigest()


def password_check(phone: str, check: Callable[[], bool]) -> bool | None:
    """Run ``check`` (a password comparison) under the lock: True or False as it answers, or
    None when the number is locked (and ``check`` did not run)."""
    digest = _digest(phone)
    attempt = LoginFailure.objects.create(phone_digest=digest)
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    if (
        LoginFailure.objects.filter(phone_digest=digest, created_at__gte=since).count()
        > settings.LOGIN_LOCK_FAILURES
    ):
        attempt.delete()  # refused unchecked: it does not lengthen the lock
        return None
    if check():
        LoginFailure.objects.filter(phone_digest=digest).delete()
        return True
    return False


def purge_login_failures() -> int:
    """Failures older than the window no longer count."""
    deleted, _rows = LoginFailure.objects.filter(
        created_at__lt=timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    ).delete()
    return deleted
