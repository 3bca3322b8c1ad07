"""The admin's date drill-down at the calendar's ends is an incorrect lookup (redirect to
``?e=1``), never a 500, on every list that has one."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from config.admin_dates import DateHierarchyBoundsMixin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WITH_DRILL_DOWN = sorted(
    (
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/",
        model_admin.date_hierarchy,
        model_admin,
    )
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
)


def test_every_drill_down_is_bounded():
    assert [url for url, _field, _admin in WITH_DRILL_DOWN] == [
        "/admin/accounts/dataaccesslog/",
        "/admin/assistant/channelmessage/",
        "/admin/assistant/turn/",
        "/admin/notifications/broadcast/",
        "/admin/notifications/delivery/",
        "/admin/notifications/smsmessage/",
        "/admin/services/calendarday/",
        "/admin/services/dossier/",
        "/admin/services/fieldreport/",
    ]
    for _url, _field, model_admin in WITH_DRILL_DOWN:
        assert isinstance(model_admin, DateHierarchyBoundsMixin)


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(("url", "field", "model_admin"), WITH_DRILL_DOWN)
@pytest.mark.parametrize(
    "params",
    [{"year": "9999"}, {"year": "9999", "month": "12"}, {"year": "1"}, {"year": "abc"}],
)
def test_a_year_out_of_range_is_an_incorrect_lookup(
    superuser_client, url, field, model_admin, params
):
    response = superuser_client.get(
        url, {f"{field}__{key}": value for key, value in params.items()}
    )

    assert (response.status_code, response["Location"]) == (302, f"{url}?e=1")


@pytest.mark.parametrize(("url", "field", "model_admin"), WITH_DRILL_DOWN)
def test_a_year_in_range_lists(superuser_client, url, field, model_admin):
    response = superuser_client.get(url, {f"{field}__year": "2026", f"{field}__month": "3"})

    assert response.status_code == 200
