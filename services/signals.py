"""The announced day swaps are kept per process (services.workdays): a change tells them all."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from services.models import CalendarDay
from services.workdays import swaps_changed


@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def calendar_day_changed(sender, **kwargs) -> None:
    swaps_changed()
