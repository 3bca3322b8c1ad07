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


def _next_address_code(ward) -> str:
    # The ward's real counter hands the number out, so codes made here never collide with those
    # household_create gives later in the same test.
    from digital_address.actions.households import ward_sequence_reserve
    from digital_address.address_codes import compose

    return compose(ward.code, ward_sequence_reserve(ward_id=ward.code)[0])


def _plus_code(latitude, longitude) -> str:
    from digital_address.locations import plus_code_for

    return plus_code_for(latitude, longitude)


class HouseholdFactory(DjangoModelFactory):
    """A registered household (the write path is
    ``digital_address.actions.households.household_create``). ``head=<User>`` adds its head."""

    class Meta:
        model = "digital_address.Household"
        skip_postgeneration_save = True

    ward = factory.SubFactory(WardFactory)
    hamlet = factory.Sequence(lambda n: f"Thôn Thử {n}")
    latitude = None
    longitude = None
    plus_code = factory.LazyAttribute(lambda o: _plus_code(o.latitude, o.longitude))
    code = factory.LazyAttribute(lambda o: _next_address_code(o.ward))

    @factory.post_generation
    def head(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            HouseholdMemberFactory(household=obj, user=extracted, relationship="head")


class HouseholdMemberFactory(DjangoModelFactory):
    """A member: with ``user`` one with an account, otherwise a child without one."""

    class Meta:
        model = "digital_address.HouseholdMember"

    household = factory.SubFactory(HouseholdFactory)
    user = None
    full_name = factory.LazyAttribute(lambda o: o.user.full_name if o.user else "Nguyễn Thị Bé")
    relationship = "child"
