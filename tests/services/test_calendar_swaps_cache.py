"""The announced day swaps kept per process (services.workdays): read once, read again in every
process after a swap is saved or deleted, and read on every call without a cache."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from services import workdays
from services.models import CalendarDay
from services.workdays import SWAPS_VERSION_KEY, work_calendar

pytestmark = pytest.mark.django_db

SATURDAY = date(2026, 8, 22)


def test_read_once_then_kept(django_assert_num_queries):
    with django_assert_num_queries(1):
        work_calendar()
    with django_assert_num_queries(0):
        work_calendar()


def test_a_saved_swap_counts_at_once_and_a_deleted_one_too():
    assert work_calendar().is_working_day(SATURDAY) is False

    swap = CalendarDay.objects.create(date=SATURDAY, is_working_day=True, reason="Làm bù")
    assert work_calendar().is_working_day(SATURDAY) is True

    swap.is_working_day = False
    swap.save()
    assert work_calendar().is_working_day(SATURDAY) is False

    swap.delete()
    assert SATURDAY not in work_calendar().swaps


def test_another_process_reads_again_after_a_change(django_capture_on_commit_callbacks):
    work_calendar()
    kept = workdays._swaps_memo
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=SATURDAY, is_working_day=True, reason="Làm bù")
    # Another process still holds what it read before, under the version it read it at.
    workdays._swaps_memo = kept

    assert cache.get(SWAPS_VERSION_KEY) != kept[0]
    assert work_calendar().is_working_day(SATURDAY) is True


def test_without_a_cache_the_table_is_read_every_time(settings, django_assert_num_queries):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    work_calendar()
    CalendarDay.objects.bulk_create(  # no signal: only reading again can see it
        [CalendarDay(date=SATURDAY, is_working_day=True, reason="Làm bù")]
    )

    with django_assert_num_queries(1):
        assert work_calendar().is_working_day(SATURDAY) is True
