from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class NotificationNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("Not found.")
