from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from digital_address.vietnamese_text import fold


class DivisionType(models.TextChoices):
    # Values as the vietnam-provinces package spells them.
    CITY = "thành phố trung ương", _("Centrally-run city")
    PROVINCE = "tỉnh", _("Province")
    COMMUNE = "xã", _("Commune")
    WARD = "phường", _("Ward")
    SPECIAL_ZONE = "đặc khu", _("Special zone")


class Province(models.Model):
    code = models.PositiveSmallIntegerField(_("code"), primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    division_type = models.CharField(_("type"), max_length=32, choices=DivisionType.choices)
    codename = models.CharField(max_length=100, blank=True)
    search_name = models.CharField(max_length=100, editable=False, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class Ward(models.Model):
    """A commune-level unit (xã, phường, đặc khu): since 1 July 2025 directly under the province."""

    code = models.PositiveIntegerField(_("code"), primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    division_type = models.CharField(_("type"), max_length=32, choices=DivisionType.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="wards", verbose_name=_("province")
    )
    codename = models.CharField(max_length=100, blank=True)
    search_name = models.CharField(max_length=100, editable=False, db_index=True)
    agency_code = models.CharField(
        _("agency code"),
        max_length=32,
        help_text=_("Code of the receiving agency, used as the prefix of dossier codes."),
    )
    estimated_households = models.PositiveIntegerField(
        _("estimated households"), null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        ordering = ["province_id", "code"]
        verbose_name = _("commune-level unit")
        verbose_name_plural = _("commune-level units")
        constraints = [
            models.UniqueConstraint(fields=["agency_code"], name="ward_agency_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


def default_agency_code(ward_code: int) -> str:
    return f"{ward_code:05d}"
