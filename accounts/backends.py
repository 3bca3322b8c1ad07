"""Log in with the phone number as people type it (the admin's login form too)."""

from __future__ import annotations

import contextlib

from django.contrib.auth.backends import ModelBackend

from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone


class PhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None:
            # Not a mobile number: the exact lookup below fails as it should.
            with contextlib.suppress(InvalidPhoneNumber):
                username = normalize_phone(username)
        return super().authenticate(request, username=username, password=password, **kwargs)
