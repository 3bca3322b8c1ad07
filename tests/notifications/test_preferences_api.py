"""My notification choices: GET and PUT /api/v1/notification-preferences/ (language, quiet hours,
channels per category; security and emergency messages stay on)."""

from __future__ import annotations

from datetime import time

import pytest

from accounts.models import User
from notifications.models import Category, NotificationPreference
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/notification-preferences/"
ALL_ON = {category: {"push": True, "sms": True, "email": True} for category in Category.values}
DEFAULTS = {
    "language": "vi",
    "quiet_hours": None,
    "channels": ALL_ON,
    "mandatory": ["account", "emergency"],
}
CANNOT_TURN_OFF = {
    "vi": "Không thể tắt thông báo bảo mật và thông báo khẩn cấp.",
    "en": "Security and emergency messages cannot be turned off.",
}
INVALID = {"vi": "Dữ liệu không hợp lệ.", "en": "Invalid input."}


def channels_with(**changes: dict[str, bool]) -> dict[str, dict[str, bool]]:
    return {
        category: {**switches, **changes.get(category, {})} for category, switches in ALL_ON.items()
    }


def stored() -> list[tuple]:
    """Every preference row and every user's language: what a PUT may change."""
    return [
        *NotificationPreference.objects.order_by("user_id").values_list(
            "user_id", "disabled", "quiet_start", "quiet_end"
        ),
        *User.objects.order_by("pk").values_list("pk", "language"),
    ]


def put(user: User, body: dict, language: str = "vi"):
    return client_for(user).put(URL, body, format="json", HTTP_ACCEPT_LANGUAGE=language)


# --- reading ----------------------------------------------------------------------------------


def test_a_new_user_has_every_channel_on_no_quiet_hours_and_vietnamese(citizen):
    response = client_for(citizen).get(URL)

    assert (response.status_code, response.json()) == (200, DEFAULTS)
    assert NotificationPreference.objects.count() == 0


def test_an_english_reader_reads_the_same_choices(citizen):
    response = client_for(citizen).get(URL, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (200, DEFAULTS)


# --- changing ---------------------------------------------------------------------------------


def test_turning_off_one_channel_leaves_everything_else(citizen):
    response = put(citizen, {"channels": {"dossier": {"sms": False}}})

    expected = {**DEFAULTS, "channels": channels_with(dossier={"sms": False})}
    assert (response.status_code, response.json()) == (200, expected)
    assert stored() == [(citizen.pk, ["dossier:sms"], None, None), (citizen.pk, "vi")]
    assert client_for(citizen).get(URL).json() == expected


def test_what_a_put_leaves_out_stays_as_it_was(citizen):
    put(citizen, {"channels": {"dossier": {"sms": False}, "report": {"push": False}}})
    put(citizen, {"quiet_hours": {"start": "22:00", "end": "06:00"}})

    response = put(citizen, {"channels": {"report": {"push": True, "email": False}}})

    assert (response.status_code, response.json()) == (
        200,
        {
            **DEFAULTS,
            "quiet_hours": {"start": "22:00", "end": "06:00"},
            "channels": channels_with(dossier={"sms": False}, report={"email": False}),
        },
    )
    assert stored() == [
        (citizen.pk, ["dossier:sms", "report:email"], time(22, 0), time(6, 0)),
        (citizen.pk, "vi"),
    ]


def test_quiet_hours_are_stored_and_answered_as_hours_and_minutes(citizen):
    response = put(citizen, {"quiet_hours": {"start": "22:00", "end": "06:00"}})

    assert (response.status_code, response.json()) == (
        200,
        {**DEFAULTS, "quiet_hours": {"start": "22:00", "end": "06:00"}},
    )
    assert stored() == [(citizen.pk, [], time(22, 0), time(6, 0)), (citizen.pk, "vi")]


def test_null_clears_the_quiet_hours(citizen):
    put(citizen, {"quiet_hours": {"start": "22:00", "end": "06:00"}, "channels": {}})

    response = put(citizen, {"quiet_hours": None})

    assert (response.status_code, response.json()) == (200, DEFAULTS)
    assert stored() == [(citizen.pk, [], None, None), (citizen.pk, "vi")]


def test_choosing_english_changes_the_users_language(citizen):
    response = put(citizen, {"language": "en"})

    assert (response.status_code, response.json()) == (200, {**DEFAULTS, "language": "en"})
    citizen.refresh_from_db()
    assert citizen.language == "en"
    assert client_for(citizen).get(URL).json()["language"] == "en"


def test_turning_a_mandatory_channel_on_is_accepted_and_changes_nothing(citizen):
    response = put(citizen, {"channels": {"account": {"push": True}, "emergency": {"sms": True}}})

    assert (response.status_code, response.json()) == (200, DEFAULTS)
    assert stored() == [(citizen.pk, [], None, None), (citizen.pk, "vi")]


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_security_and_emergency_messages_cannot_be_turned_off(citizen, language):
    put(citizen, {"channels": {"dossier": {"email": False}}})
    before = stored()

    response = put(
        citizen,
        {
            "language": "en",
            "channels": {
                "account": {"push": False, "sms": True},
                "emergency": {"sms": False, "email": False},
                "report": {"sms": False},
            },
        },
        language,
    )

    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid",
            "message": INVALID[language],
            "fields": {
                "channels": {
                    "account": {"push": [CANNOT_TURN_OFF[language]]},
                    "emergency": {
                        "sms": [CANNOT_TURN_OFF[language]],
                        "email": [CANNOT_TURN_OFF[language]],
                    },
                }
            },
        },
    )
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "language", "fields"),
    [
        (
            {"quiet_hours": {"start": "22:00", "end": "22:00"}},
            "vi",
            {"quiet_hours": {"end": ["Giờ kết thúc yên lặng phải khác giờ bắt đầu."]}},
        ),
        (
            {"quiet_hours": {"start": "22:00", "end": "22:00"}},
            "en",
            {"quiet_hours": {"end": ["Quiet hours must end at another time than they start."]}},
        ),
        (
            {"quiet_hours": {"start": "25:00", "end": "06:00"}},
            "vi",
            {
                "quiet_hours": {
                    "start": ["Giờ sai định dạng. Hãy dùng một trong các định dạng: hh:mm."]
                }
            },
        ),
        (
            {"quiet_hours": {"start": "25:00", "end": "06:00"}},
            "en",
            {
                "quiet_hours": {
                    "start": ["Time has wrong format. Use one of these formats instead: hh:mm."]
                }
            },
        ),
        (
            {"quiet_hours": {"start": "22:00"}},
            "vi",
            {"quiet_hours": {"end": ["Trường này là bắt buộc."]}},
        ),
        (
            {"quiet_hours": {"start": "22:00"}},
            "en",
            {"quiet_hours": {"end": ["This field is required."]}},
        ),
        (
            {"language": "fr"},
            "vi",
            {"language": ['"fr" không phải là lựa chọn hợp lệ.']},
        ),
        (
            {"language": "fr"},
            "en",
            {"language": ['"fr" is not a valid choice.']},
        ),
        (
            {"channels": {"dossier": {"sms": "maybe"}}},
            "vi",
            {"channels": {"dossier": {"sms": ["Phải là giá trị đúng/sai hợp lệ."]}}},
        ),
        (
            {"channels": {"dossier": {"sms": "maybe"}}},
            "en",
            {"channels": {"dossier": {"sms": ["Must be a valid boolean."]}}},
        ),
    ],
    ids=[
        "same-start-and-end-vi",
        "same-start-and-end-en",
        "hour-25-vi",
        "hour-25-en",
        "no-end-vi",
        "no-end-en",
        "unknown-language-vi",
        "unknown-language-en",
        "not-a-switch-vi",
        "not-a-switch-en",
    ],
)
def test_a_bad_choice_is_refused_field_by_field_and_nothing_changes(
    citizen, body, language, fields
):
    put(citizen, {"quiet_hours": {"start": "21:30", "end": "05:45"}})
    before = stored()

    response = put(citizen, {"channels": {"report": {"push": False}}, **body}, language)

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": INVALID[language], "fields": fields},
    )
    assert stored() == before
    assert before == [(citizen.pk, [], time(21, 30), time(5, 45)), (citizen.pk, "vi")]


# --- who -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put"])
def test_anonymous_is_not_authenticated(citizen, api_client, method):
    put(citizen, {"channels": {"dossier": {"sms": False}}})
    before = stored()

    response = getattr(api_client, method)(URL, {"language": "en"}, format="json")

    assert (response.status_code, response.json()) == (
        401,
        {
            "code": "not_authenticated",
            "message": "Bạn chưa đăng nhập (thiếu thông tin xác thực).",
            "fields": {},
        },
    )
    assert stored() == before


def test_each_user_reads_and_changes_only_their_own_choices(citizen, other_citizen):
    put(citizen, {"channels": {"dossier": {"sms": False}}, "quiet_hours": None})
    put(citizen, {"quiet_hours": {"start": "22:00", "end": "06:00"}})

    theirs = put(
        other_citizen,
        {
            "language": "en",
            "quiet_hours": {"start": "23:00", "end": "05:00"},
            "channels": {"dossier": {"sms": True, "push": False}},
        },
    )
    mine = client_for(citizen).get(URL)

    assert (theirs.status_code, theirs.json()) == (
        200,
        {
            **DEFAULTS,
            "language": "en",
            "quiet_hours": {"start": "23:00", "end": "05:00"},
            "channels": channels_with(dossier={"push": False}),
        },
    )
    assert (mine.status_code, mine.json()) == (
        200,
        {
            **DEFAULTS,
            "quiet_hours": {"start": "22:00", "end": "06:00"},
            "channels": channels_with(dossier={"sms": False}),
        },
    )
    assert stored() == sorted(
        [
            (citizen.pk, ["dossier:sms"], time(22, 0), time(6, 0)),
            (other_citizen.pk, ["dossier:push"], time(23, 0), time(5, 0)),
        ]
    ) + sorted([(citizen.pk, "vi"), (other_citizen.pk, "en")])
