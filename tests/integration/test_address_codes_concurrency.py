"""Address codes under concurrent registrations in one ward: every code once, no gap, the counter
at the number handed out.

Marked ``postgresql``, not ``integration`` (that marker is for tests starting a Celery worker,
and it would also require Redis): this needs PostgreSQL only, where concurrent transactions
really block on the ward's counter row. SQLite serialises every writer, so it would prove nothing
there.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts.models import User
from digital_address.actions.households import Address, household_create
from digital_address.address_codes import compose
from digital_address.models import Household, HouseholdMember, WardAddressSequence
from tests.factories import UserFactory

THREADS = 8
PER_THREAD = 4


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_in_one_ward_get_distinct_gap_free_codes(ward):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every transaction)")
    citizens = [
        [UserFactory(phone=f"+8491300{t}{n:03d}", ward=ward) for n in range(PER_THREAD)]
        for t in range(THREADS)
    ]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def register(users: list[User]) -> None:
        try:
            barrier.wait(timeout=30)
            for n, user in enumerate(users):
                household_create(
                    actor=user, ward=ward, address=Address(house_number=f"{user.pk}-{n}")
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(users,)) for users in citizens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    total = THREADS * PER_THREAD
    codes = list(Household.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == total
    assert sorted(codes) == sorted(compose(ward.code, n) for n in range(1, total + 1))
    assert WardAddressSequence.objects.get(ward=ward).last_value == total
    # Each citizen heads exactly the household they registered.
    heads = HouseholdMember.objects.filter(relationship="head", ended_at__isnull=True)
    assert sorted(heads.values_list("user_id", flat=True)) == sorted(
        u.pk for users in citizens for u in users
    )
