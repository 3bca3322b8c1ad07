"""Concurrent changes to households on PostgreSQL: no deadlock, no broken invariant.

The app's one lock order (the acting user's row, then households by id, then their members and
invitations, then the wards' code counters) is what these tests hold to. SQLite serialises every
writer, so they run on PostgreSQL only (and are required in CI: marker ``postgresql``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from config.errors import DomainError
from digital_address.actions.households import (
    Address,
    household_create,
    household_memberships_erase,
    household_move,
    invitation_accept,
    member_invite,
    member_remove,
)
from digital_address.models import Household, HouseholdMember
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every transaction)")


def run_together(*work: Callable[[], object]) -> list[BaseException]:
    """Start the callables at the same moment in threads; what each raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def wrap(fn: Callable[[], object]) -> None:
        try:
            barrier.wait(10)
            fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def _heads_inviting_each_other(ward, n: int):
    a = UserFactory(phone=f"+849111{n:05d}", ward=ward)
    b = UserFactory(phone=f"+849222{n:05d}", ward=ward)
    house_a = household_create(actor=a, ward=ward, address=Address(house_number="1"))
    house_b = household_create(actor=b, ward=ward, address=Address(house_number="2"))
    to_b = member_invite(actor=b, household=house_b, phone=a.phone, relationship="spouse")
    to_a = member_invite(actor=a, household=house_a, phone=b.phone, relationship="spouse")
    return a, b, house_a, house_b, to_b, to_a


def test_two_heads_joining_each_others_household_at_once_do_not_deadlock(ward):
    for n in range(10):
        a, b, house_a, house_b, to_b, to_a = _heads_inviting_each_other(ward, n)

        errors = run_together(
            lambda a=a, to_b=to_b: invitation_accept(
                actor=a, invitation_id=to_b.pk, leave_current=True
            ),
            lambda b=b, to_a=to_a: invitation_accept(
                actor=b, invitation_id=to_a.pk, leave_current=True
            ),
        )

        # One joins; the other is refused by the rules (their household is vacated, or they
        # head someone now and must name a successor), never by the database.
        assert len(errors) == 1, errors
        assert isinstance(errors[0], DomainError), errors
        for house in (house_a, house_b):
            heads = HouseholdMember.objects.filter(
                household=house, ended_at__isnull=True, relationship="head"
            ).count()
            house.refresh_from_db()
            assert heads == (0 if house.vacated_at else 1)


def test_a_head_removing_a_member_who_moves_out_at_that_moment(ward, other_ward):
    head = UserFactory(phone="+84911111111", ward=ward)
    moving = UserFactory(phone="+84922222222", ward=ward)
    house = household_create(actor=head, ward=ward, address=Address(house_number="1"))
    invitation = member_invite(
        actor=head, household=house, phone=moving.phone, relationship="child"
    )
    member = invitation_accept(actor=moving, invitation_id=invitation.pk)

    def remove() -> None:
        with transaction.atomic():
            Household.objects.select_for_update().get(pk=house.pk)
            time.sleep(1)  # the mover starts meanwhile
            member_remove(actor=head, household=house, member_id=member.pk)

    def move() -> None:
        time.sleep(0.3)
        household_move(actor=moving, ward=other_ward, address=Address(house_number="9"))

    errors = run_together(remove, move)

    # Whichever comes second finds the membership already ended: a rule says no, or the move
    # goes ahead from no household; never a deadlock.
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert HouseholdMember.objects.filter(user=moving, ended_at__isnull=True).count() <= 1


def test_erasing_the_head_while_someone_joins_leaves_a_head_or_nobody(ward):
    head = UserFactory(phone="+84911111111", ward=ward)
    joining = UserFactory(phone="+84922222222", ward=ward)
    house = household_create(actor=head, ward=ward, address=Address(house_number="1"))
    invitation = member_invite(
        actor=head, household=house, phone=joining.phone, relationship="spouse"
    )
    joined = threading.Event()

    def accept() -> None:
        with transaction.atomic():
            invitation_accept(actor=joining, invitation_id=invitation.pk)
            joined.set()
            time.sleep(1)  # the erasure waits on the household meanwhile

    def erase() -> None:
        joined.wait(10)
        household_memberships_erase(user=User.objects.get(pk=head.pk), phone=head.phone)

    assert run_together(accept, erase) == []
    house.refresh_from_db()
    current = list(
        HouseholdMember.objects.filter(household=house, ended_at__isnull=True).values_list(
            "user_id", "relationship"
        )
    )
    assert (house.vacated_at, current) == (None, [(joining.pk, "head")])


HEADER = (
    "ward_code,import_ref,house_number,street,hamlet,latitude,longitude,"
    "head_full_name,head_date_of_birth,external_scheme,external_code"
)


def _file(first: int, second: int, tag: str) -> bytes:
    lines = [HEADER]
    lines += [f"{first},{tag}-{n},1,Phố,Khối,,,Tên,,," for n in range(2000)]
    lines += [f"{second},{tag}-last,1,Phố,Khối,,,Tên,,,"]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_two_uploads_meeting_the_wards_in_opposite_orders_both_import(ward, other_ward):
    officials = [
        official_create_or_update(
            phone=f"+8490000009{i}",
            full_name="Cán Bộ Nhập",
            password=PASSWORD,
            roles=[Role.PROCESSING],
            unit_codes=[ward.code, other_ward.code],
        )
        for i in range(2)
    ]
    files = [_file(ward.code, other_ward.code, "X"), _file(other_ward.code, ward.code, "Y")]
    answers: list[int] = []

    def upload(official, body: bytes) -> None:
        response = client_for(official).post(
            "/api/v1/official/households/import/",
            {"file": SimpleUploadedFile("ho.csv", body, content_type="text/csv")},
            format="multipart",
        )
        answers.append(response.status_code)

    errors = run_together(
        *(lambda o=o, f=f: upload(o, f) for o, f in zip(officials, files, strict=True))
    )

    assert (errors, sorted(answers)) == ([], [200, 200])
    assert Household.objects.count() == 2 * 2001


def test_two_partial_edits_at_once_both_count(ward):
    """The map pin and the form saved at the same moment from one phone: neither edit is lost
    (each is laid on the household as it is under its lock)."""
    head = UserFactory(phone="+84911111111", ward=ward)
    house = household_create(actor=head, ward=ward, address=Address(house_number="1"))
    url = f"/api/v1/households/{house.pk}/"
    for n in range(10):
        pin = {"latitude": f"22.25{n}", "longitude": f"106.47{n}"}
        form = {"house_number": f"nhà {n}"}

        errors = run_together(
            lambda pin=pin: client_for(head).patch(url, pin),
            lambda form=form: client_for(head).patch(url, form),
        )

        assert errors == []
        house.refresh_from_db()
        assert (house.house_number, str(house.latitude)) == (f"nhà {n}", f"22.25{n}000")
