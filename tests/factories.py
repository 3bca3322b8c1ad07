from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from digital_address.models import Province, Ward

PASSWORD = "Mật-khẩu-đủ-dài-2026"


class ProvinceFactory(DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ["code"]

    code = 20
    name = "Lạng Sơn"
    division_type = "tỉnh"


class WardFactory(DjangoModelFactory):
    class Meta:
        model = Ward
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: 90000 + n)
    name = factory.Sequence(lambda n: f"Xã Thử Nghiệm {n}")
    division_type = "xã"
    province = factory.SubFactory(ProvinceFactory)
    agency_code = factory.LazyAttribute(lambda o: f"{o.code:05d}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+8491{n:07d}")
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn Thử {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
