"""me/devices/: push tokens. A token belongs to one device; registering it again moves it."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.db import connection

from accounts.actions.users import device_register
from accounts.models import Device
from tests.factories import DeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/devices/"
TOKEN = "fcm:APA91bH-example-token"


def test_register_a_device(citizen, citizen_client):
    response = citizen_client.post(
        URL, {"platform": "android", "token": TOKEN, "app_version": "2.1.0"}
    )

    assert response.status_code == 201
    device = Device.objects.get()
    body = response.json()
    assert datetime.fromisoformat(body.pop("created_at")) == device.created_at
    assert datetime.fromisoformat(body.pop("updated_at")) == device.updated_at
    assert body == {"id": device.pk, "platform": "android", "token": TOKEN, "app_version": "2.1.0"}
    assert (device.user, device.is_active) == (citizen, True)


def test_registering_the_same_token_again_updates_it(citizen, citizen_client):
    first = citizen_client.post(URL, {"platform": "android", "token": TOKEN, "app_version": "2.1"})

    again = citizen_client.post(URL, {"platform": "android", "token": TOKEN, "app_version": "2.2"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    device = Device.objects.get()
    assert (device.user, device.app_version) == (citizen, "2.2")


def test_registering_a_token_from_another_account_moves_it(
    citizen, other_citizen, citizen_client, other_citizen_client
):
    created = citizen_client.post(URL, {"platform": "ios", "token": TOKEN})

    moved = other_citizen_client.post(URL, {"platform": "ios", "token": TOKEN, "app_version": "3"})

    assert (created.status_code, moved.status_code) == (201, 200)
    assert moved.json()["id"] == created.json()["id"]
    device = Device.objects.get()
    assert (device.user, device.app_version) == (other_citizen, "3")
    assert citizen_client.get(URL).json() == []
    assert [d["id"] for d in other_citizen_client.get(URL).json()] == [device.pk]


def test_bad_input_registers_nothing(citizen_client):
    response = citizen_client.post(
        URL, {"platform": "symbian", "token": "", "app_version": "x" * 33}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert sorted(response.json()["fields"]) == ["app_version", "platform", "token"]
    assert Device.objects.count() == 0


def test_an_overlong_token_is_refused_not_a_500(citizen_client):
    response = citizen_client.post(
        URL, {"platform": "web", "token": "x" * 1025}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "token": ["Ensure this field has no more than 1024 characters."]
    }
    assert Device.objects.count() == 0


def test_list_shows_only_my_devices_newest_first(
    citizen, other_citizen, citizen_client, django_assert_num_queries
):
    mine = [DeviceFactory(user=citizen) for _ in range(3)]
    DeviceFactory(user=other_citizen)

    with django_assert_num_queries(2):  # the user of the token, the devices
        response = citizen_client.get(URL)

    assert response.status_code == 200
    assert [d["id"] for d in response.json()] == [d.pk for d in reversed(mine)]
    assert {d["token"] for d in response.json()} == {d.token for d in mine}


def test_delete_my_device(citizen, citizen_client):
    device = DeviceFactory(user=citizen)

    response = citizen_client.delete(f"{URL}{device.pk}/")

    assert (response.status_code, response.content) == (204, b"")
    assert Device.objects.count() == 0


def test_deleting_another_citizens_device_is_not_found(other_citizen, citizen_client):
    device = DeviceFactory(user=other_citizen)

    response = citizen_client.delete(f"{URL}{device.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}
    assert Device.objects.get().user == other_citizen


def test_deleting_an_unknown_device_is_not_found(citizen_client):
    response = citizen_client.delete(f"{URL}424242/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_first_registrations_of_one_token_at_once_both_succeed():
    if connection.vendor != "postgresql":
        pytest.skip("a race for the unique index needs concurrent writers (PostgreSQL)")
    users = [UserFactory(phone=p) for p in ("+84912000001", "+84912000002")]
    errors: list[BaseException] = []
    for round_ in range(10):
        barrier = threading.Barrier(2)

        def run(user, token=f"race-token-{round_}", barrier=barrier):
            try:
                barrier.wait()
                device_register(user=user, platform="android", token=token)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert Device.objects.count() == 10
