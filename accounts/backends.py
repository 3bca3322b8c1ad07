"""Log in with the phone number as people type it (the admin's login form too), behind the same
per-number failure lock as the API's password login."""

from __future__ import annotations

import contextlib

from django.contrib.auth.backends import ModelBackend

from accounts.login_attempts import login_failed, login_locked, login_succeeded
from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone


class PhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            return None
        # Not a mobile number: the exact lookup below fails as it should.
        with contextlib.suppress(InvalidPhoneNumber):
            username = normalize_phone(username)
        if login_locked(username):
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failed(username)
        else:
            login_succeeded(username)
        return user
