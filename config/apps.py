from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OfficialsAdminConfig(AdminConfig):
    """Django's admin, with the officials' site (config.admin_site) as ``admin.site``."""

    default_site = "config.admin_site.OfficialsAdminSite"
