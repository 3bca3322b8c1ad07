"""Failed password logins per phone number: after LOGIN_LOCK_FAILURES in LOGIN_LOCK_MINUTES the
number cannot log in with a password until the window ends. Counted for any number, with or
without an account, so the lock tells nothing about accounts. Shared by the API and the admin
login (accounts.backends). Kept in the cache: if the cache is down the lock fails open, and
the per-IP throttle still stands."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(phone: str) -> str:
    # The number itself is personal data: the cache key holds a digest of it.
    return "login-failures:" + hashlib.sha256(phone.encode()).hexdigest()[:32]


def login_locked(phone: str) -> bool:
    return (cache.get(_key(phone)) or 0) >= settings.LOGIN_LOCK_FAILURES


def login_failed(phone: str) -> None:
    key = _key(phone)
    timeout = settings.LOGIN_LOCK_MINUTES * 60
    if not cache.add(key, 1, timeout):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout)


def login_succeeded(phone: str) -> None:
    cache.delete(_key(phone))
