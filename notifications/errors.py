from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class NotificationNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("Not found.")


class UnknownReceiptProvider(NotificationNotFound):
    """No receipts are taken from this provider: no secret is configured for it."""


class InvalidSignature(DomainError):
    status_code = 403
    code = "invalid_signature"
    default_message = _("The signature of this request is missing or wrong.")


class BroadcastNotFound(NotificationNotFound):
    """No such broadcast among those the official (or, for check-ins, the recipient) may see."""


class BroadcastRefused(DomainError):
    code = "invalid"
    default_message = _("This broadcast cannot be sent as asked.")
