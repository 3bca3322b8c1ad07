"""SMS providers: the file outbox (development), the console, the in-memory one, the registry."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
from django.utils import timezone

from notifications.actions import SendOutcome, sms_send
from notifications.models import DeliveryStatus, SmsMessage
from notifications.phone_display import mask_phone
from notifications.providers.sms import (
    ConsoleSmsProvider,
    FileSmsProvider,
    MemorySmsProvider,
    ProviderError,
    SentSms,
    SmsResult,
    get_sms_provider,
)
from tests.factories import SmsMessageFactory

OTP_TEXT = "Mã xác thực Công dân số của bạn là 123456. Không chia sẻ mã này."
PHONE = "+84912345678"


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- file ---------------------------------------------------------------------------------------


def test_file_provider_writes_one_json_line_per_message_with_vietnamese_intact(tmp_path):
    path = tmp_path / "outbox" / "sms.jsonl"  # the folder does not exist yet
    provider = FileSmsProvider(path)
    before = timezone.now()

    first = provider.send(phone=PHONE, body=OTP_TEXT, reference="ref-1")
    second = provider.send(phone="+84987654321", body="Đã nhận hồ sơ.", reference="ref-2")

    assert (first, second) == (
        SmsResult(provider_reference="ref-1"),
        SmsResult(provider_reference="ref-2"),
    )
    raw = path.read_text(encoding="utf-8")
    assert raw.count("\n") == 2
    assert raw.endswith("\n")
    assert OTP_TEXT in raw  # ensure_ascii=False: readable, not \u escapes
    assert "\\u" not in raw
    lines = _lines(path)
    stamps = [datetime.fromisoformat(line.pop("at")) for line in lines]
    assert lines == [
        {"id": "ref-1", "to": PHONE, "body": OTP_TEXT},
        {"id": "ref-2", "to": "+84987654321", "body": "Đã nhận hồ sơ."},
    ]
    for stamp in stamps:
        assert stamp.tzinfo is not None
        assert before <= stamp <= timezone.now()


def test_file_provider_appends_from_many_threads_without_interleaving(tmp_path):
    path = tmp_path / "sms.jsonl"
    provider = FileSmsProvider(path)
    # Longer than the IO buffer, so an unlocked write would reach the file in pieces.
    body = "Thông báo của UBND tỉnh Lạng Sơn về phòng chống lũ quét. " * 200
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            start.wait()
            for i in range(50):
                provider.send(phone=PHONE, body=body, reference=f"{t}-{i}")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    lines = _lines(path)  # every line parses
    assert len(lines) == 400
    assert sorted(line["id"] for line in lines) == sorted(
        f"{t}-{i}" for t in range(8) for i in range(50)
    )
    assert {line["body"] for line in lines} == {body}


def test_file_provider_raises_a_temporary_provider_error_when_the_file_cannot_be_written(
    tmp_path,
):
    path = tmp_path / "outbox"
    path.mkdir()  # a directory where the file should be

    with pytest.raises(ProviderError) as excinfo:
        FileSmsProvider(path).send(phone=PHONE, body=OTP_TEXT, reference="ref-1")

    assert excinfo.value.permanent is False
    assert str(excinfo.value) == "cannot write the outbox: Is a directory"
    assert list(path.iterdir()) == []


def test_file_provider_raises_a_temporary_provider_error_when_its_folder_cannot_be_made(
    tmp_path,
):
    blocker = tmp_path / "var"
    blocker.write_text("a file, not a folder")

    with pytest.raises(ProviderError) as excinfo:
        FileSmsProvider(blocker / "sms" / "outbox.jsonl").send(
            phone=PHONE, body=OTP_TEXT, reference="ref-1"
        )

    assert excinfo.value.permanent is False
    assert str(excinfo.value) == "cannot write the outbox: Not a directory"
    assert blocker.read_text() == "a file, not a folder"


@pytest.mark.django_db
def test_sms_send_through_the_file_provider_records_it(settings, tmp_path):
    settings.SMS_PROVIDER = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    message = SmsMessageFactory(phone=PHONE, body=OTP_TEXT, sensitive=True)

    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT

    assert [(line["id"], line["to"], line["body"]) for line in _lines(tmp_path / "sms.jsonl")] == [
        (str(message.id), PHONE, OTP_TEXT)
    ]
    row = SmsMessage.objects.get(pk=message.pk)
    assert (row.status, row.provider, row.provider_reference, row.body) == (
        DeliveryStatus.SENT,
        "file",
        str(message.id),
        "",
    )


@pytest.mark.django_db
def test_sms_send_retries_when_the_file_outbox_cannot_be_written(settings, tmp_path):
    settings.SMS_PROVIDER = "file"
    settings.SMS_FILE_PATH = tmp_path  # a directory
    message = SmsMessageFactory(phone=PHONE, body=OTP_TEXT, sensitive=True)

    assert sms_send(message_id=str(message.id)) is SendOutcome.RETRY

    row = SmsMessage.objects.get(pk=message.pk)
    assert (row.status, row.attempts, row.error, row.body) == (
        DeliveryStatus.TEMPORARY_FAILURE,
        1,
        "cannot write the outbox: Is a directory",
        OTP_TEXT,
    )


# --- console ------------------------------------------------------------------------------------


def test_console_provider_masks_the_phone_number(capsys):
    result = ConsoleSmsProvider().send(phone=PHONE, body="Đã nhận hồ sơ.", reference="ref-1")

    assert result == SmsResult(provider_reference="ref-1")
    out, err = capsys.readouterr()
    assert out == "[SMS ref-1] to +849*****678: Đã nhận hồ sơ.\n"
    assert err == ""
    assert PHONE not in out
    assert "912345678" not in out


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+84912345678", "+849*****678"),
        ("+842053812345", "+842******345"),
        ("0912345678", "0912***678"),
        ("123456", "******"),
        ("", ""),
    ],
)
def test_mask_phone(phone, shown):
    assert mask_phone(phone) == shown


# --- memory -------------------------------------------------------------------------------------


def test_memory_provider_keeps_messages_and_raises_the_queued_errors_in_order(sms_outbox):
    provider = MemorySmsProvider()
    busy = ProviderError("busy")
    blocked = ProviderError("blocked", permanent=True)
    MemorySmsProvider.fail_next.extend([busy, blocked])

    with pytest.raises(ProviderError) as first:
        provider.send(phone=PHONE, body="một", reference="r1")
    with pytest.raises(ProviderError) as second:
        provider.send(phone=PHONE, body="hai", reference="r2")
    result = provider.send(phone=PHONE, body="ba", reference="r3")

    assert (first.value, second.value) == (busy, blocked)
    assert (first.value.permanent, second.value.permanent) == (False, True)
    assert result == SmsResult(provider_reference="r3")
    assert sms_outbox == [SentSms(phone=PHONE, body="ba", reference="r3")]
    MemorySmsProvider.reset()
    assert sms_outbox == []
    assert MemorySmsProvider.fail_next == []


def test_provider_errors_are_temporary_unless_said_otherwise():
    assert ProviderError("timeout").permanent is False
    assert ProviderError("unknown number", permanent=True).permanent is True


# --- registry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [("file", FileSmsProvider), ("console", ConsoleSmsProvider), ("memory", MemorySmsProvider)],
)
def test_registry_returns_the_named_provider(name, cls):
    provider = get_sms_provider(name)
    assert type(provider) is cls
    assert provider.name == name


def test_registry_defaults_to_the_configured_provider(settings, tmp_path):
    assert type(get_sms_provider()) is MemorySmsProvider  # the test settings
    settings.SMS_PROVIDER = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    provider = get_sms_provider()
    assert type(provider) is FileSmsProvider
    assert provider.path == tmp_path / "sms.jsonl"


def test_registry_refuses_an_unknown_provider():
    with pytest.raises(ValueError) as excinfo:
        get_sms_provider("viettel")
    assert str(excinfo.value) == (
        "Unknown SMS_PROVIDER 'viettel'; choose from ['console', 'file', 'http', 'memory']"
    )


@pytest.mark.django_db
def test_an_unknown_configured_provider_fails_before_anything_is_claimed(settings, sms_outbox):
    settings.SMS_PROVIDER = "viettel"
    message = SmsMessageFactory()

    with pytest.raises(ValueError):
        sms_send(message_id=str(message.id))

    row = SmsMessage.objects.get(pk=message.pk)
    assert (row.status, row.attempts, row.provider) == (DeliveryStatus.CREATED, 0, "")
    assert sms_outbox == []
