"""What a citizen asked the assistant while logged in is in their export, masked, and goes
when they erase their account."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from assistant.models import Conversation, Turn

pytestmark = pytest.mark.django_db

ASK = "/api/v1/assistant/ask/"


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def test_my_questions_are_in_my_export_masked(citizen_client, other_citizen_client):
    asked = citizen_client.post(
        ASK, {"question": "đăng ký kết hôn cần gì, số tôi 0912 345 678"}, format="json"
    )
    other_citizen_client.post(ASK, {"question": "đăng ký tạm trú"}, format="json")
    assert asked.status_code == 200, asked.content

    exported = citizen_client.get("/api/v1/me/export/").json()["assistant"]

    turn = Turn.objects.get(conversation__user__phone="+84912345678")
    assert exported == [
        {
            "conversation": asked.json()["conversation"],
            "question": "đăng ký kết hôn cần gì, số tôi •••",
            "answer": turn.answer,
            "intent": "procedure",
            "feedback": "",
            "at": exported[0]["at"],
        }
    ]
    assert "0912" not in str(exported)


def test_erasing_my_account_erases_what_i_asked(
    citizen, citizen_client, other_citizen_client, password
):
    citizen_client.post(ASK, {"question": "đăng ký kết hôn"}, format="json")
    other_citizen_client.post(ASK, {"question": "đăng ký tạm trú"}, format="json")

    response = citizen_client.delete("/api/v1/me/", {"password": password})

    assert response.status_code == 204
    assert Conversation.objects.filter(user=citizen).count() == 0
    assert list(Turn.objects.values_list("question", flat=True)) == ["đăng ký tạm trú"]
