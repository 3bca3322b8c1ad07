from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class InvalidOtp(DomainError):
    code = "invalid_otp"
    default_message = _("The code is wrong or has expired. Request a new code.")

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        text = str(message or self.default_message)
        super().__init__(text, code=code, fields={"otp": [text]})


class LoginLocked(DomainError):
    code = "login_locked"
    status_code = 429
    default_message = _(
        "Too many failed logins for this number. Try again later, or log in with a code."
    )


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status_code = 401
    default_message = _("The phone number or password is wrong.")
