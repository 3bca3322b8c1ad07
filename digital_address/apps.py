from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitalAddressConfig(AppConfig):
    name = "digital_address"
    verbose_name = _("Digital addresses")
