from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.roles import ROLE_PERMISSIONS, roles_ensure


class Command(BaseCommand):
    help = (
        "Create or refresh the officials' role groups and their permissions (idempotent). "
        "Run after every migrate: a new version may grant roles new permissions."
    )

    def handle(self, *args, **options) -> None:
        groups = roles_ensure()
        for role, group in groups.items():
            self.stdout.write(f"{group.name}: {len(ROLE_PERMISSIONS[role])} permissions")
        self.stdout.write(self.style.SUCCESS(f"Done: {len(groups)} role groups."))
