from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from accounts.roles import roles_ensure
from digital_address.models import Ward

DEMO_OFFICIAL_PHONE = "+84900000001"
DEMO_PROVINCE_ADMIN_PHONE = "+84900000002"
DEMO_PASSWORD = "congdanso-demo"  # noqa: S105 - printed for the newcomer, development only
DEMO_WARD = 6040  # Xã Thất Khê, Lạng Sơn


class Command(BaseCommand):
    help = "Create demo officials for a development machine (idempotent). Never on production."

    def handle(self, *args, **options) -> None:
        roles_ensure()
        ward = Ward.objects.filter(code=DEMO_WARD).first() or Ward.objects.order_by("code").first()
        if ward is None:
            self.stderr.write(
                "Load administrative units first: manage.py load_admin_units --province 20"
            )
            return
        official_create_or_update(
            phone=DEMO_OFFICIAL_PHONE,
            full_name="Nguyễn Thị Demo",
            password=DEMO_PASSWORD,
            roles=[Role.RECEPTION, Role.PROCESSING, Role.APPROVAL, Role.BROADCASTING],
            unit_codes=[ward.code],
            title=f"Công chức một cửa — {ward.name}",
        )
        official_create_or_update(
            phone=DEMO_PROVINCE_ADMIN_PHONE,
            full_name="Hoàng Văn Quản Trị",
            password=DEMO_PASSWORD,
            roles=[Role.PROVINCE_ADMIN],
            province_code=ward.province_id,
            title="Quản trị hệ thống cấp tỉnh",
        )
        admin = User.objects.get(phone=DEMO_PROVINCE_ADMIN_PHONE)
        if not admin.is_superuser:
            User.objects.filter(pk=admin.pk).update(is_superuser=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo official ({ward.name}): phone 0900000001, password {DEMO_PASSWORD}\n"
                f"Demo province administrator: phone 0900000002, password {DEMO_PASSWORD}"
            )
        )
