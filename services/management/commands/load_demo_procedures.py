from __future__ import annotations

from django.core.management.base import BaseCommand

from services.actions import procedures_load
from services.demo_catalog import PROCEDURES


class Command(BaseCommand):
    help = (
        "Load a demo catalog of common commune-level procedures (idempotent). Processing times "
        "and fees are demo values: load the province's published catalog in production."
    )

    def handle(self, *args, **options) -> None:
        summary = procedures_load(entries=PROCEDURES)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {summary.created} procedures created, {summary.updated} updated."
            )
        )
