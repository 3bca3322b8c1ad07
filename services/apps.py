from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Public services")

    def ready(self) -> None:
        from services import (
            dossier_notices,  # noqa: F401  (registers the notification events)
            report_notices,  # noqa: F401  (registers the notification events)
            signals,  # noqa: F401  (connects the receivers)
        )
