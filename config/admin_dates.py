"""The admin's date drill-down (``date_hierarchy``) at the calendar's ends: Django computes the
end of the year asked for (``?created_at__year=9999`` → year 10000) or converts its start to UTC
(year 1) outside any check, and a typed URL was a 500. A year out of range is an incorrect
lookup like any other: the admin redirects to the list with ``?e=1``."""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpRequest

# Any year our records can hold, with room on both sides of the conversions.
FIRST_YEAR, LAST_YEAR = 1900, 9998


class DateHierarchyBoundsMixin:
    date_hierarchy: str | None = None

    def get_changelist_instance(self, request: HttpRequest):
        if self.date_hierarchy:
            year = request.GET.get(f"{self.date_hierarchy}__year")
            if year is not None and not (year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR):
                raise IncorrectLookupParameters(year)
        return super().get_changelist_instance(request)
