from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.actions.officials import official_create_or_update
from accounts.models import Role
from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone
from config.errors import DomainError


class Command(BaseCommand):
    help = "Create or update an official: a staff account with units and roles."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--phone", required=True)
        parser.add_argument("--name", required=True, help="Full name")
        parser.add_argument("--password", help="Leave out to set it later in the admin")
        parser.add_argument(
            "--units", default="", help="Comma-separated ward codes, e.g. 6040,6001"
        )
        parser.add_argument(
            "--roles", required=True, help=f"Comma-separated: {', '.join(Role.values)}"
        )
        parser.add_argument("--province", type=int, help="Province code (province administrators)")
        parser.add_argument("--title", default="")

    def handle(self, *args, **o) -> None:
        try:
            user = official_create_or_update(
                phone=normalize_phone(o["phone"]),
                full_name=o["name"],
                password=o["password"],
                roles=[r.strip() for r in o["roles"].split(",") if r.strip()],
                unit_codes=[int(c) for c in o["units"].split(",") if c.strip()],
                province_code=o["province"],
                title=o["title"],
            )
        except (DomainError, InvalidPhoneNumber, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Official #{user.pk} ({user.full_name}) is ready."))
