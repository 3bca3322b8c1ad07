"""Officials: staff users with an official profile, units and roles."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import OfficialProfile, Role, User
from accounts.roles import roles_ensure
from config.errors import DomainError
from digital_address.models import Province, Ward


def official_create_or_update(
    *,
    phone: str,
    full_name: str,
    password: str | None,
    roles: Iterable[str],
    unit_codes: Iterable[int] = (),
    province_code: int | None = None,
    title: str = "",
) -> User:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise DomainError(_("Unknown role: %(roles)s") % {"roles": ", ".join(unknown)})
    codes = list(unit_codes)
    units = list(Ward.objects.filter(code__in=codes))
    if len(units) != len(set(codes)):
        raise DomainError(_("Unknown administrative unit code."))
    province = None
    if Role.PROVINCE_ADMIN in roles:
        if province_code is None:
            raise DomainError(_("A province administrator needs a province."))
        province = Province.objects.filter(code=province_code).first()
        if province is None:
            raise DomainError(_("Unknown province code."))
    elif not units:
        raise DomainError(_("An official needs at least one unit."))

    groups = roles_ensure()
    with transaction.atomic():
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User(phone=phone)
        user.full_name = full_name
        user.is_staff = True
        user.is_active = True
        if password:
            user.set_password(password)
        elif not user.pk:
            user.set_unusable_password()
        user.full_clean(exclude=["password"], validate_unique=False)
        user.save()
        profile, _created = OfficialProfile.objects.get_or_create(user=user)
        profile.title = title
        profile.province = province
        profile.save(update_fields=["title", "province"])
        profile.units.set(units)
        user.groups.set([groups[r] for r in roles])
    return user
