"""Field reports set up through the API, for the tests of this package: photos made by
Pillow, a submission, and officials moving a report along."""

from __future__ import annotations

import io

from PIL import Image
from rest_framework.test import APIClient

from services.models import FieldReport

URL = "/api/v1/reports/"
PUBLIC_URL = "/api/v1/reports/public/"
SIMILAR_URL = "/api/v1/reports/similar/"
OFFICIAL_URL = "/api/v1/official/reports/"
# A point in Xã Thất Khê (the ``ward`` fixture), and one about 50 m north of it.
PLACE = {"latitude": "22.257000", "longitude": "106.474000"}
NEAR_PLACE = {"latitude": "22.257450", "longitude": "106.474000"}


def photo(
    kind: str = "JPEG", size: tuple[int, int] = (64, 48), name: str = "anh.jpg"
) -> io.BytesIO:
    """An image file as a phone uploads it (``kind`` JPEG or PNG)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    buffer.seek(0)
    buffer.name = name
    return buffer


def submit(client: APIClient, *, photos: int = 1, **fields) -> dict:
    """POST reports/ (a lighting report at PLACE in the ``ward`` fixture unless told otherwise);
    asserts 201 and returns the body."""
    body = {
        "category": "lighting",
        "description": "Đèn đường hỏng trước nhà văn hoá thôn.",
        **PLACE,
    }
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    body["photos"] = [photo() for _ in range(photos)]
    response = client.post(URL, body, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def step(client: APIClient, report_id: int, name: str, body: dict | None = None, **kwargs):
    """POST official/reports/{id}/{name}/ (JSON unless ``format`` says otherwise)."""
    kwargs.setdefault("format", "json")
    return client.post(f"{OFFICIAL_URL}{report_id}/{name}/", body or {}, **kwargs)


def resolve(client: APIClient, report_id: int, note: str = "Đã thay bóng đèn mới.", files: int = 1):
    return step(
        client,
        report_id,
        "resolve",
        {"note": note, "files": [photo() for _ in range(files)]},
        format="multipart",
    )


def reload(report_id: int) -> FieldReport:
    return FieldReport.objects.get(pk=report_id)
