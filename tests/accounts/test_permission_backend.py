"""accounts.backends.PhoneBackend reads a user's permissions, their own and their groups', in
one query, with Django's answers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_own_and_group_permissions_in_one_query(django_assert_num_queries):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(permission("services.view_dossier"))
    desk = Group.objects.create(name="desk")
    desk.permissions.add(
        permission("services.receive_dossier"), permission("services.view_dossier")
    )
    user.groups.add(desk)

    with django_assert_num_queries(1):
        found = user.get_all_permissions()
        checks = [
            user.has_perm("services.view_dossier"),
            user.has_perm("services.receive_dossier"),
            user.has_perm("services.decide_dossier"),
        ]

    assert found == {"services.view_dossier", "services.receive_dossier"}
    assert checks == [True, True, False]
    # Django's own answers, read separately, agree.
    assert user.get_user_permissions() == {"services.view_dossier"}
    assert user.get_group_permissions() == {"services.receive_dossier", "services.view_dossier"}


def test_nothing_for_an_inactive_user_everything_for_a_superuser():
    inactive = UserFactory(is_active=False)
    inactive.user_permissions.add(permission("services.view_dossier"))
    superuser = UserFactory(is_superuser=True, is_staff=True)

    assert inactive.has_perm("services.view_dossier") is False
    assert superuser.get_all_permissions() == {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }


def test_another_users_group_gives_nothing():
    user, other = UserFactory(), UserFactory()
    group = Group.objects.create(name="approval")
    group.permissions.add(permission("services.decide_dossier"))
    other.groups.add(group)
    other.user_permissions.add(permission("services.view_dossier"))

    assert user.get_all_permissions() == set()
