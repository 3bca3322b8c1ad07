"""Writes of the digital-address app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from vietnam_provinces import Province as SourceProvince
from vietnam_provinces import Ward as SourceWard

from digital_address.models import Province, Ward, default_agency_code
from digital_address.vietnamese_text import fold


@dataclass(frozen=True)
class UnitLoadSummary:
    provinces_created: int
    provinces_updated: int
    wards_created: int
    wards_updated: int


def admin_units_load(
    *, province_code: int | None = None, progress: Callable[[str], None] | None = None
) -> UnitLoadSummary:
    """Load or refresh units from vietnam-provinces. Idempotent: names and types are updated,
    new units added; administrator-edited fields (agency code, households, centroid) are kept."""
    say = progress or (lambda _msg: None)
    source_provinces = [
        p
        for p in SourceProvince.iter_all()
        if province_code is None or int(p.code) == province_code
    ]
    wanted = {int(p.code) for p in source_provinces}
    source_wards = [w for w in SourceWard.iter_all() if int(w.province_code) in wanted]

    with transaction.atomic():
        existing_p = {p.code: p for p in Province.objects.filter(code__in=wanted)}
        new_p, changed_p = [], []
        for src in source_provinces:
            code = int(src.code)
            fields = {
                "name": src.name,
                "division_type": str(src.division_type.value),
                "codename": src.codename,
                "search_name": fold(src.name),
            }
            row = existing_p.get(code)
            if row is None:
                new_p.append(Province(code=code, **fields))
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                changed_p.append(row)
        Province.objects.bulk_create(new_p)
        Province.objects.bulk_update(
            changed_p, ["name", "division_type", "codename", "search_name"]
        )
        say(f"provinces: {len(new_p)} new, {len(changed_p)} updated")

        # Matched by code, the key: a unit the source now places in another province is moved,
        # not inserted a second time.
        existing_w = {
            w.code: w for w in Ward.objects.filter(code__in=[int(src.code) for src in source_wards])
        }
        new_w, changed_w = [], []
        for i, src in enumerate(source_wards, start=1):
            code = int(src.code)
            fields = {
                "name": src.name,
                "division_type": str(src.division_type.value),
                "codename": src.codename,
                "search_name": fold(src.name),
                "province_id": int(src.province_code),
            }
            row = existing_w.get(code)
            if row is None:
                new_w.append(Ward(code=code, agency_code=default_agency_code(code), **fields))
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                changed_w.append(row)
            if i % 500 == 0:
                say(f"wards: {i}/{len(source_wards)} read")
        Ward.objects.bulk_create(new_w, batch_size=500)
        Ward.objects.bulk_update(
            changed_w,
            ["name", "division_type", "codename", "search_name", "province_id"],
            batch_size=500,
        )
        say(f"wards: {len(new_w)} new, {len(changed_w)} updated")
    return UnitLoadSummary(len(new_p), len(changed_p), len(new_w), len(changed_w))
