"""Applications allowed to post service requests through the Open311 GeoReport v2 API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Open311Client(models.Model):
    """An application with an ``api_key`` (issued in the admin, shown once, stored hashed). Its
    requests are field reports whose reporter is the client's own account: no citizen's
    identity comes through it."""

    name = models.CharField(_("application"), max_length=150)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    # The key's first characters, to tell keys apart in the admin.
    key_prefix = models.CharField(_("key begins with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("Open311 application")
        verbose_name_plural = _("Open311 applications")

    def __str__(self) -> str:
        return self.name
