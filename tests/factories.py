from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import Device, DevicePlatform, User
from digital_address.models import Province, Ward
from notifications.models import DeliveryStatus, SmsMessage

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


class SmsMessageFactory(DjangoModelFactory):
    """A row of the SMS outbox in any state (tests of the outbox set up states directly; the
    write path itself is ``notifications.actions.sms_queue``)."""

    class Meta:
        model = SmsMessage

    phone = factory.Sequence(lambda n: f"+8492{n:07d}")
    body = "Mã xác thực Công dân số của bạn là 123456. Không chia sẻ mã này."
    purpose = "otp:login"
    sensitive = True
    status = DeliveryStatus.CREATED


class DeviceFactory(DjangoModelFactory):
    """A registered push token (the write path is ``accounts.actions.users.device_register``)."""

    class Meta:
        model = Device

    user = factory.SubFactory(UserFactory)
    platform = DevicePlatform.ANDROID
    token = factory.Sequence(lambda n: f"fcm-token-{n:06d}")
    app_version = "1.0.0"
