"""Log in with the phone number as people type it (the admin's login form too), behind the same
per-number lock as every other password check (accounts.login_attempts)."""

from __future__ import annotations

import contextlib

from django.contrib.auth.backends import ModelBackend

from accounts.login_attempts import password_check
from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone


class PhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        # Not a mobile number: the exact lookup below fails as it should.
        with contextlib.suppress(InvalidPhoneNumber):
            username = normalize_phone(username)
        found = []

        def check() -> bool:
            user = super(PhoneBackend, self).authenticate(
                request, username=username, password=password, **kwargs
            )
            found.append(user)
            return user is not None

        return found[0] if password_check(username, check) else None
