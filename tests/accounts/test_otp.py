"""Phone OTP (NIST SP 800-63B): hashed, 5 minutes, single use, 5 checks, cool-down, daily caps,
lock; and never a hint whether a number has an account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.actions.otp import _hash, otp_deliver
from accounts.models import OtpChallenge, OtpPurpose, User
from notifications.models import DeliveryStatus, SmsMessage

pytestmark = pytest.mark.django_db

NEW_PHONE = "+84934567890"  # no account
OTP_URL = "/api/v1/auth/otp/"
ACCEPTED_EN = {
    "detail": "If this number can receive it, a code is on its way by SMS.",
    "resend_after": 60,
    "expires_in": 300,
}
INVALID_OTP_EN = {
    "code": "invalid_otp",
    "message": "The code is wrong or has expired. Request a new code.",
    "fields": {"otp": ["The code is wrong or has expired. Request a new code."]},
}


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def otp_login(phone: str, code: str) -> tuple[int, dict]:
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/token/otp/", {"phone": phone, "otp": code}
    )
    return response.status_code, response.json()


def register(phone: str, code: str, password: str) -> tuple[int, dict]:
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/register/",
        {"phone": phone, "otp": code, "password": password, "full_name": "Lò Thị Mai"},
    )
    return response.status_code, response.json()


def ask(phone: str, purpose: str, **extra) -> tuple[int, dict]:
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        OTP_URL, {"phone": phone, "purpose": purpose}, **extra
    )
    return response.status_code, response.json()


# --- The request ------------------------------------------------------------------------------


def test_request_answers_202_and_texts_a_six_digit_code(deliver_sms):
    assert ask(NEW_PHONE, "register") == (202, ACCEPTED_EN)

    challenge = OtpChallenge.objects.get()
    assert (challenge.phone, challenge.purpose, challenge.language) == (NEW_PHONE, "register", "en")
    assert (challenge.ip, challenge.checks, challenge.failures) == ("127.0.0.1", 0, 0)
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)
    assert (challenge.dispatched_at, len(challenge.code_sealed)) == (None, 6)
    assert SmsMessage.objects.count() == 0  # the worker decides what to text
    [sms] = deliver_sms()
    challenge.refresh_from_db()
    assert challenge.dispatched_at is not None
    assert challenge.code_sealed == ""
    message = SmsMessage.objects.get()
    assert (message.phone, message.purpose, message.sensitive) == (NEW_PHONE, "otp:register", True)
    assert message.expires_at == challenge.expires_at
    assert re.fullmatch(
        r"Cong dan so: your verification code is \d{6}, valid for 5 minutes\. "
        r"Never share it with anyone\.",
        sms.body,
    )


def test_the_vietnamese_text_is_unaccented(request_otp, sms_outbox):
    # Unaccented text stays in the GSM-7 alphabet: one cheaper, longer segment.
    code = request_otp(NEW_PHONE, "register")

    assert code in sms_outbox[0].body
    assert sms_outbox[0].body.isascii()


def test_the_sms_goes_out_through_the_task_and_its_text_is_wiped(
    api_client, django_capture_on_commit_callbacks, deliver_sms, published_tasks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(OTP_URL, {"phone": NEW_PHONE, "purpose": "login"})
    assert response.status_code == 202
    unknown = OtpChallenge.objects.get(phone=NEW_PHONE)
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(OTP_URL, {"phone": "+84971234567", "purpose": "register"})
    assert response.status_code == 202
    known = OtpChallenge.objects.get(phone="+84971234567")
    assert len(callbacks) == 1
    # The same work for both: one delivery task each; no SMS row yet.
    assert [(t.name, t.args, t.queue) for t in published_tasks] == [
        ("accounts.deliver_otp", [str(unknown.id)], "sms"),
        ("accounts.deliver_otp", [str(known.id)], "sms"),
    ]
    assert SmsMessage.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        otp_deliver(challenge_id=str(unknown.id))  # login, no account: no text
        otp_deliver(challenge_id=str(known.id))
    message = SmsMessage.objects.get()
    assert (message.phone, message.status) == ("+84971234567", DeliveryStatus.CREATED)
    assert [(t.name, t.args, t.queue) for t in published_tasks][2:] == [
        ("notifications.send_sms", [str(message.id)], "sms")
    ]

    sent = deliver_sms()

    assert [(s.phone, s.reference) for s in sent] == [("+84971234567", str(message.id))]
    message.refresh_from_db()
    assert (message.status, message.body, message.attempts) == (DeliveryStatus.SENT, "", 1)


def test_the_code_is_stored_hashed(request_otp):
    code = request_otp(NEW_PHONE, "register")

    row = OtpChallenge.objects.values().get()
    assert [key for key, value in row.items() if code in str(value)] == []
    assert len(row["code_hash"]) == 64


def test_bad_input_is_refused_and_nothing_is_written(sms_outbox):
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        OTP_URL, {"phone": "0912345678", "purpose": "vote"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"purpose": ['"vote" is not a valid choice.']},
    }
    assert OtpChallenge.objects.count() == 0
    assert SmsMessage.objects.count() == 0
    assert sms_outbox == []


# --- No account enumeration -------------------------------------------------------------------


@pytest.mark.parametrize("purpose", OtpPurpose.values)
def test_known_and_unknown_numbers_get_the_same_answer(
    purpose, citizen, rewind_otps, published_tasks, django_capture_on_commit_callbacks
):
    with (
        CaptureQueriesContext(connection) as known_queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        known = ask(citizen.phone, purpose)
    with (
        CaptureQueriesContext(connection) as unknown_queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        unknown = ask(NEW_PHONE, purpose)
    assert known == unknown == (202, ACCEPTED_EN)
    # The same work too (queries, published tasks), so timing does not tell them apart.
    assert len(known_queries) == len(unknown_queries)
    assert [t.name for t in published_tasks] == ["accounts.deliver_otp"] * 2
    # Both wrote a challenge, so cool-down and caps behave the same too.
    assert OtpChallenge.objects.filter(phone=citizen.phone).count() == 1
    assert OtpChallenge.objects.filter(phone=NEW_PHONE).count() == 1

    rewind_otps(20)
    known = ask(citizen.phone, purpose)
    unknown = ask(NEW_PHONE, purpose)
    assert known == unknown == (202, {**ACCEPTED_EN, "resend_after": 40})


@pytest.mark.parametrize("purpose", ["login", "reset_password"])
def test_no_text_for_login_or_reset_to_a_number_without_an_account(
    purpose, request_otp, sms_outbox
):
    assert request_otp(NEW_PHONE, purpose) is None

    assert SmsMessage.objects.count() == 0
    assert sms_outbox == []
    challenge = OtpChallenge.objects.get()
    assert (challenge.phone, challenge.purpose, challenge.code_sealed) == (NEW_PHONE, purpose, "")
    assert challenge.dispatched_at is not None


def test_no_text_for_login_to_a_deactivated_account(citizen, request_otp, sms_outbox):
    User.objects.filter(pk=citizen.pk).update(is_active=False)

    assert request_otp(citizen.phone, "login") is None

    assert SmsMessage.objects.count() == 0
    assert sms_outbox == []
    assert OtpChallenge.objects.get().code_sealed == ""


def test_no_text_for_changing_to_a_number_that_has_an_account(citizen, request_otp, sms_outbox):
    assert request_otp(citizen.phone, "change_phone") is None

    assert SmsMessage.objects.count() == 0
    assert sms_outbox == []
    assert OtpChallenge.objects.get().code_sealed == ""


def test_register_for_a_known_number_texts_a_warning_that_cannot_be_used(
    citizen, password, request_otp, sms_outbox
):
    assert request_otp(citizen.phone, "register", HTTP_ACCEPT_LANGUAGE="en") is None

    assert [(s.phone, s.body) for s in sms_outbox] == [
        (
            citizen.phone,
            "Cong dan so: this number already has an account. Log in, or reset your password "
            "if you forgot it.",
        )
    ]
    challenge = OtpChallenge.objects.get()
    # Even the right code cannot pass it. The code was never texted; plant a known one.
    OtpChallenge.objects.filter(pk=challenge.pk).update(
        code_hash=_hash(str(challenge.id), "246810")
    )

    assert register(citizen.phone, "246810", "Một-mật-khẩu-mới-2026") == (400, INVALID_OTP_EN)
    assert User.objects.count() == 1
    citizen.refresh_from_db()
    assert citizen.check_password(password)
    assert citizen.full_name == "Nguyễn Văn An"


def test_otp_login_for_an_unknown_number_fails_like_a_wrong_code(citizen, request_otp):
    code = request_otp(citizen.phone, "login")
    request_otp(NEW_PHONE, "login")

    assert otp_login(citizen.phone, wrong(code)) == otp_login(NEW_PHONE, code)
    assert otp_login(NEW_PHONE, code) == (400, INVALID_OTP_EN)
    assert OutstandingToken.objects.count() == 0


# --- Expiry, single use, checks ---------------------------------------------------------------


def test_a_code_works_until_just_before_five_minutes(request_otp, rewind_otps, password):
    code = request_otp(NEW_PHONE, "register")
    rewind_otps(299)

    status, _body = register(NEW_PHONE, code, password)

    assert status == 201
    assert User.objects.filter(phone=NEW_PHONE).count() == 1


def test_a_code_expires_after_five_minutes(request_otp, rewind_otps, password):
    code = request_otp(NEW_PHONE, "register")
    rewind_otps(300)

    assert register(NEW_PHONE, code, password) == (400, INVALID_OTP_EN)
    assert User.objects.count() == 0


def test_a_code_is_single_use(citizen, request_otp):
    code = request_otp(citizen.phone, "login")
    status, _body = otp_login(citizen.phone, code)
    assert status == 200

    assert otp_login(citizen.phone, code) == (400, INVALID_OTP_EN)
    assert OutstandingToken.objects.count() == 1


def test_a_code_is_bound_to_its_purpose(citizen, request_otp):
    code = request_otp(citizen.phone, "reset_password")

    assert otp_login(citizen.phone, code) == (400, INVALID_OTP_EN)
    assert OutstandingToken.objects.count() == 0


def test_a_new_code_replaces_the_previous_one(citizen, request_otp, rewind_otps):
    first = request_otp(citizen.phone, "login")
    rewind_otps(61)
    second = request_otp(citizen.phone, "login")
    assert second is not None
    if second == first:  # one chance in a million
        pytest.skip("the same code was drawn twice")

    assert otp_login(citizen.phone, first) == (400, INVALID_OTP_EN)
    status, _body = otp_login(citizen.phone, second)
    assert status == 200
    # ...and stays replaced once the new one is used (it is not expired yet).
    assert otp_login(citizen.phone, first) == (400, INVALID_OTP_EN)
    assert OutstandingToken.objects.count() == 1


def test_the_fifth_check_may_still_be_right(citizen, request_otp):
    code = request_otp(citizen.phone, "login")
    for _ in range(4):
        assert otp_login(citizen.phone, wrong(code)) == (400, INVALID_OTP_EN)

    status, _body = otp_login(citizen.phone, code)

    assert status == 200


def test_after_five_checks_the_code_is_dead_even_when_right(citizen, request_otp):
    code = request_otp(citizen.phone, "login")
    for _ in range(5):
        assert otp_login(citizen.phone, wrong(code)) == (400, INVALID_OTP_EN)

    message = "Too many attempts with this code. Request a new code."
    assert otp_login(citizen.phone, code) == (
        400,
        {"code": "otp_attempts_exceeded", "message": message, "fields": {"otp": [message]}},
    )
    assert OutstandingToken.objects.count() == 0
    challenge = OtpChallenge.objects.get()
    assert (challenge.checks, challenge.failures, challenge.consumed_at) == (5, 5, None)


# --- Cool-down, caps, lock --------------------------------------------------------------------


def test_resend_cool_down_is_60_seconds(citizen, request_otp, rewind_otps, sms_outbox):
    assert request_otp(citizen.phone, "login") is not None

    assert ask(citizen.phone, "login") == (202, ACCEPTED_EN)
    assert ask(citizen.phone, "reset_password") == (202, ACCEPTED_EN)  # per number, any purpose
    rewind_otps(59)
    assert ask(citizen.phone, "login") == (202, {**ACCEPTED_EN, "resend_after": 1})
    assert OtpChallenge.objects.count() == 1
    assert SmsMessage.objects.count() == 1
    assert len(sms_outbox) == 1

    rewind_otps(1)
    assert request_otp(citizen.phone, "login") is not None
    assert OtpChallenge.objects.count() == 2
    assert len(sms_outbox) == 2


def test_daily_cap_per_phone(settings, request_otp, rewind_otps, sms_outbox):
    settings.OTP_DAILY_PER_PHONE = 3
    for _ in range(3):
        assert request_otp(NEW_PHONE, "register") is not None
        rewind_otps(61)

    assert ask(NEW_PHONE, "register") == (202, ACCEPTED_EN)
    assert OtpChallenge.objects.count() == 3
    assert SmsMessage.objects.count() == 3
    assert len(sms_outbox) == 3

    rewind_otps(24 * 3600 - 3 * 61)  # the first request is now a day old
    assert request_otp(NEW_PHONE, "register") is not None
    assert OtpChallenge.objects.count() == 4


def test_daily_cap_per_ip(settings, request_otp, sms_outbox):
    settings.OTP_DAILY_PER_IP = 2
    ip = {"REMOTE_ADDR": "203.0.113.7"}
    assert request_otp("+84934567891", "register", **ip) is not None
    assert request_otp("+84934567892", "register", **ip) is not None

    assert ask("+84934567893", "register", **ip) == (202, ACCEPTED_EN)
    assert OtpChallenge.objects.filter(phone="+84934567893").count() == 0
    assert SmsMessage.objects.filter(phone="+84934567893").count() == 0
    assert len(sms_outbox) == 2

    assert request_otp("+84934567893", "register", REMOTE_ADDR="203.0.113.8") is not None


def test_lock_after_repeated_failures(settings, citizen, request_otp, rewind_otps, sms_outbox):
    settings.OTP_LOCK_FAILURES = 3
    code = request_otp(citizen.phone, "login")
    for _ in range(3):
        assert otp_login(citizen.phone, wrong(code)) == (400, INVALID_OTP_EN)

    message = "Too many wrong codes for this number. Try again later."
    assert otp_login(citizen.phone, code) == (
        400,
        {"code": "otp_locked", "message": message, "fields": {"otp": [message]}},
    )
    assert OutstandingToken.objects.count() == 0
    # No new code while locked, and the answer does not say so.
    rewind_otps(61)
    assert ask(citizen.phone, "login") == (202, ACCEPTED_EN)
    assert OtpChallenge.objects.count() == 1
    assert len(sms_outbox) == 1

    rewind_otps(settings.OTP_LOCK_MINUTES * 60)
    code = request_otp(citizen.phone, "login")
    status, _body = otp_login(citizen.phone, code)
    assert status == 200


def test_the_otp_endpoint_is_throttled_per_client():
    for n in range(10):
        assert ask(f"+8493456780{n}", "register")[0] == 202

    assert ask("+84934567810", "register") == (
        429,
        {
            "code": "throttled",
            "message": "Request was throttled. Expected available in 60 seconds.",
            "fields": {},
        },
    )
    assert OtpChallenge.objects.count() == 10


def test_a_forged_x_forwarded_for_is_ignored_without_a_proxy(request_otp):
    assert request_otp(NEW_PHONE, "register", HTTP_X_FORWARDED_FOR="198.51.100.1") is not None
    assert OtpChallenge.objects.get().ip == "127.0.0.1"

    assert ask("+84934567891", "register", HTTP_X_FORWARDED_FOR="not-an-address")[0] == 202


def test_an_ipv6_client_is_capped_by_its_64(settings, request_otp):
    settings.OTP_DAILY_PER_IP = 2
    assert request_otp("+84934567891", "register", REMOTE_ADDR="2001:db8:1:2::10") is not None
    assert request_otp("+84934567892", "register", REMOTE_ADDR="2001:db8:1:2:ffff::1") is not None

    # Another address in the same /64 is the same subscriber: capped.
    assert request_otp("+84934567893", "register", REMOTE_ADDR="2001:db8:1:2::abcd") is None
    # The next /64 is someone else.
    assert request_otp("+84934567894", "register", REMOTE_ADDR="2001:db8:1:3::1") is not None
    assert sorted(set(OtpChallenge.objects.values_list("ip", flat=True))) == [
        "2001:db8:1:2::",
        "2001:db8:1:3::",
    ]


# --- Deliveries the broker lost ---------------------------------------------------------------


def test_the_sweeper_requeues_a_lost_delivery_once_per_interval(published_tasks):
    from accounts.actions.otp import UNDISPATCHED_AFTER, otp_sweep_undispatched

    assert ask(NEW_PHONE, "register")[0] == 202  # published to nowhere: on_commit never ran
    challenge = OtpChallenge.objects.get()
    assert otp_sweep_undispatched() == []  # too young to be called lost

    long_ago = timezone.now() - UNDISPATCHED_AFTER - timedelta(seconds=1)
    OtpChallenge.objects.update(created_at=long_ago)
    assert otp_sweep_undispatched() == [str(challenge.id)]
    assert otp_sweep_undispatched() == []  # still queued: not again at once
    OtpChallenge.objects.update(requeued_at=long_ago)
    assert otp_sweep_undispatched() == [str(challenge.id)]
    assert [(t.name, t.args) for t in published_tasks] == [
        ("accounts.deliver_otp", [str(challenge.id)])
    ] * 2


def test_the_sweeper_closes_deliveries_that_expired_unsent(deliver_sms):
    from accounts.actions.otp import otp_sweep_undispatched

    assert ask(NEW_PHONE, "register")[0] == 202
    OtpChallenge.objects.update(
        created_at=timezone.now() - timedelta(minutes=6),
        expires_at=timezone.now() - timedelta(minutes=1),
    )

    assert otp_sweep_undispatched() == []
    challenge = OtpChallenge.objects.get()
    assert (challenge.dispatched_at is not None, challenge.code_sealed) == (True, "")
    assert deliver_sms() == []
