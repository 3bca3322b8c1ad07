from __future__ import annotations

from django.db.models import QuerySet

from digital_address.models import Ward
from digital_address.vietnamese_text import fold


def ward_search(*, province_code: int | None, query: str | None) -> QuerySet[Ward]:
    wards = Ward.objects.all()
    if province_code is not None:
        wards = wards.filter(province_id=province_code)
    for word in fold(query or "").split():
        wards = wards.filter(search_name__contains=word)
    return wards.order_by("code")
