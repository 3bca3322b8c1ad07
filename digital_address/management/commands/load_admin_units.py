from __future__ import annotations

from django.core.management.base import BaseCommand

from digital_address.actions.units import admin_units_load


class Command(BaseCommand):
    help = "Load or refresh Vietnam's administrative units from the vietnam-provinces package."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--province", type=int, default=None, help="Only this province code (Lạng Sơn: 20)."
        )

    def handle(self, *args, province: int | None = None, **options) -> None:
        summary = admin_units_load(province_code=province, progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: provinces {summary.provinces_created} new / {summary.provinces_updated} "
                f"updated; wards {summary.wards_created} new / {summary.wards_updated} updated."
            )
        )
