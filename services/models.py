from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """A day the government announced differently from the rule: a weekday off (a bridge
    between a holiday and a weekend, a substitute day off) or a Saturday worked in exchange.
    Administrators enter them as the Prime Minister's or the Ministry of Home Affairs' notice
    comes out; they win over weekends and over the ``holidays`` package."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"),
        help_text=_(
            "Ticked: a working day (a Saturday worked in exchange). Not ticked: a day off."
        ),
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("announced day swap")
        verbose_name_plural = _("announced day swaps")

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y}: {self.reason}"
