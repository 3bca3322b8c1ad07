"""Officials: staff users with units and roles (Django groups), made by ``create_official``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import OfficialProfile, Role, User
from accounts.roles import ROLE_GROUPS, ROLE_PERMISSIONS
from accounts.selectors import official_ward_codes

pytestmark = pytest.mark.django_db

OFFICIAL_PASSWORD = "Cán-bộ-một-cửa-2026"


def create_official(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("create_official", *args, stdout=out)
    return out.getvalue()


def nothing_written() -> tuple[int, int, int]:
    return User.objects.count(), OfficialProfile.objects.count(), Group.objects.count()


def test_create_an_official(ward, other_ward):
    output = create_official(
        "--phone=0900 000 021",
        "--name=Lương Văn Tiếp",
        f"--password={OFFICIAL_PASSWORD}",
        "--roles=reception, processing",
        f"--units={ward.code},{other_ward.code}",
        "--title=Công chức một cửa",
    )

    user = User.objects.get()
    assert output == f"Official #{user.pk} (Lương Văn Tiếp) is ready.\n"
    assert (user.phone, user.full_name, user.is_staff, user.is_superuser, user.is_active) == (
        "+84900000021",
        "Lương Văn Tiếp",
        True,
        False,
        True,
    )
    assert user.check_password(OFFICIAL_PASSWORD)
    profile = user.official
    assert (profile.title, profile.province) == ("Công chức một cửa", None)
    assert set(profile.units.values_list("code", flat=True)) == {6040, 6001}
    assert set(user.groups.values_list("name", flat=True)) == {"Cán bộ tiếp nhận", "Cán bộ xử lý"}
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_GROUPS.values())
    assert user.has_perm("accounts.view_user")
    assert not user.has_perm("accounts.view_full_national_id")
    assert not user.has_perm("accounts.change_user")
    assert official_ward_codes(user=user) == frozenset({6040, 6001})


def test_the_command_is_idempotent_and_updates(ward, other_ward):
    args = ["--phone=0900000021", "--name=Lương Văn Tiếp", "--roles=reception"]
    create_official(*args, f"--units={ward.code}", f"--password={OFFICIAL_PASSWORD}")
    first = User.objects.get()

    create_official(*args, f"--units={ward.code}")
    create_official(*args[:2], "--roles=approval,broadcasting", f"--units={other_ward.code}")

    user = User.objects.get()
    assert user.pk == first.pk
    assert OfficialProfile.objects.count() == 1
    assert Group.objects.count() == len(ROLE_GROUPS)
    assert user.check_password(OFFICIAL_PASSWORD)  # left out: kept
    assert set(user.groups.values_list("name", flat=True)) == {
        "Lãnh đạo phê duyệt",
        "Cán bộ phát thông báo",
    }
    assert list(user.official.units.values_list("code", flat=True)) == [6001]


def test_a_province_administrator_acts_on_every_ward_of_the_province(province, ward, other_ward):
    create_official(
        "--phone=0900000022", "--name=Vi Văn Tỉnh", "--roles=province_admin", "--province=20"
    )

    user = User.objects.get()
    assert (user.official.province, list(user.official.units.all())) == (province, [])
    assert set(user.groups.values_list("name", flat=True)) == {"Quản trị cấp tỉnh"}
    assert official_ward_codes(user=user) == frozenset({6040, 6001})
    for permission in ROLE_PERMISSIONS[Role.PROVINCE_ADMIN]:
        assert user.has_perm(permission), permission


def test_an_official_without_a_password_cannot_log_in_yet(ward):
    create_official("--phone=0900000021", "--name=A", "--roles=reception", f"--units={ward.code}")

    assert User.objects.get().has_usable_password() is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--roles=reception,boss", "--units=6040"], "Unknown role: boss"),
        (["--roles=reception", "--units=6040,99999"], "Unknown administrative unit code."),
        (["--roles=reception", "--units=six"], "invalid literal for int() with base 10: 'six'"),
        (["--roles=reception"], "An official needs at least one unit."),
        (["--roles=province_admin"], "A province administrator needs a province."),
        (["--roles=province_admin", "--province=99"], "Unknown province code."),
    ],
)
def test_bad_roles_or_units_write_nothing(ward, args, message):
    with pytest.raises(CommandError) as caught:
        create_official("--phone=0900000021", "--name=Lương Văn Tiếp", *args)

    assert str(caught.value) == message
    assert nothing_written() == (0, 0, 0)


def test_a_bad_phone_writes_nothing(ward):
    with pytest.raises(CommandError) as caught:
        create_official("--phone=0243 123 4567", "--name=A", "--roles=reception", "--units=6040")

    assert str(caught.value) == "Enter a valid Vietnamese mobile number, for example 0912345678."
    assert nothing_written() == (0, 0, 0)


def test_a_bad_update_leaves_the_official_as_they_were(ward):
    create_official("--phone=0900000021", "--name=A", "--roles=reception", "--units=6040")

    with pytest.raises(CommandError):
        create_official("--phone=0900000021", "--name=B", "--roles=approval", "--units=6040,1")

    user = User.objects.get()
    assert user.full_name == "A"
    assert set(user.groups.values_list("name", flat=True)) == {"Cán bộ tiếp nhận"}
    assert list(user.official.units.values_list("code", flat=True)) == [6040]


def test_the_admin_login_accepts_the_phone_as_typed(client, official, password):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "0900 000 011", "password": password}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert int(client.session["_auth_user_id"]) == official.pk


def test_the_admin_login_refuses_a_wrong_password(client, official):
    response = client.post("/admin/login/", {"username": "0900000011", "password": "wrong"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_ensure_roles_grants_a_new_version_s_permissions_to_existing_groups(db):
    call_command("ensure_roles", stdout=StringIO())
    desk = Group.objects.get(name=ROLE_GROUPS[Role.RECEPTION])
    desk.permissions.clear()  # a group created by an older version

    out = StringIO()
    call_command("ensure_roles", stdout=out)

    assert set(desk.permissions.values_list("codename", flat=True)) >= {
        "view_household",
        "verify_household",
        "import_households",
    }
    assert out.getvalue().splitlines()[-1] == "Done: 5 role groups."
    assert Group.objects.filter(name__in=ROLE_GROUPS.values()).count() == 5
