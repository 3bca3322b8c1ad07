"""What the assistant's tests share: the demo catalog, a fresh engine for each test, asking
through the API, and the one-stop desk of Thất Khê."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.response import Response
from rest_framework.test import APIClient

from assistant import search_index
from digital_address.models import Ward

ASK_URL = "/api/v1/assistant/ask/"
DESK = {
    "desk_address": "Số 1 đường Lê Lợi, khối 2, xã Thất Khê",
    "desk_phone": "0205 3880 123",
    "desk_hours": "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00",
}


@pytest.fixture(autouse=True)
def _fresh_engine(monkeypatch) -> Iterator[None]:
    """Each test's database starts the index again at version 1, while the process keeps the
    engine it built for the previous test's version 1: forget it, as a new process would."""
    monkeypatch.setattr(search_index, "_loaded", None)
    yield


@pytest.fixture
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


@pytest.fixture
def desk(ward) -> Ward:
    """Thất Khê's one-stop desk with its contact recorded."""
    for field, value in DESK.items():
        setattr(ward, field, value)
    ward.save(update_fields=list(DESK))
    return ward


def ask(client: APIClient, question: str, conversation: str | None = None, **extra) -> Response:
    body: dict = {"question": question}
    if conversation is not None:
        body["conversation"] = conversation
    return client.post(ASK_URL, body, format="json", **extra)


def answer_of(client: APIClient, question: str, **extra) -> dict:
    response = ask(client, question, **extra)
    assert response.status_code == 200, response.content
    return response.json()
