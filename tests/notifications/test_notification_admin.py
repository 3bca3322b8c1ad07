"""The notifications' admin: the delivery log (superusers: filters, resend, per-provider daily
counts, logged reads) and the templates (province administrators: checked on save, previewed)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import DataAccessLog, User
from notifications.actions import notify
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationTemplate,
    SmsMessage,
)
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

LOG = "/admin/notifications/delivery/"
DAILY = "/admin/notifications/delivery/daily/"
TEMPLATES = "/admin/notifications/notificationtemplate/"


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(
        phone="+84900000099", password="Mat-khau-9", full_name="Quản Trị Kỹ Thuật"
    )


def admin_client(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def deliveries(citizen, other_citizen) -> dict[str, Delivery]:
    """A push delivery to the citizen (sent) and one to the other citizen (failed)."""
    for user in (citizen, other_citizen):
        DeviceFactory(user=user)
    notify(users=[citizen, other_citizen], event="dossier.received", key="k", context={"code": "X"})
    sent = Delivery.objects.get(notification__user=citizen)
    failed = Delivery.objects.get(notification__user=other_citizen)
    Delivery.objects.filter(pk=sent.pk).update(status=DeliveryStatus.SENT, provider="fcm")
    Delivery.objects.filter(pk=failed.pk).update(
        status=DeliveryStatus.PERMANENT_FAILURE, provider="fcm", attempts=1, error="token gone"
    )
    return {"sent": sent, "failed": failed}


def test_the_delivery_log_lists_and_filters_for_superusers(superuser, deliveries):
    client = admin_client(superuser)

    everything = client.get(LOG)
    failed = client.get(LOG, {"status__exact": "permanent-failure"})

    assert everything.status_code == 200
    assert sorted(row.pk for row in everything.context["cl"].result_list) == sorted(
        [deliveries["sent"].pk, deliveries["failed"].pk]
    )
    assert [row.pk for row in failed.context["cl"].result_list] == [deliveries["failed"].pk]
    assert DAILY.encode() in everything.content


def test_officials_and_province_administrators_do_not_see_the_delivery_log(
    official, province_admin, deliveries
):
    for user in (official, province_admin):
        client = admin_client(user)
        assert client.get(LOG).status_code == 403
        assert client.get(DAILY).status_code == 403
        assert client.get(f"{LOG}{deliveries['failed'].pk}/change/").status_code == 403
    assert DataAccessLog.objects.count() == 0


def test_opening_a_delivery_is_a_logged_read_of_its_recipient(superuser, citizen, deliveries):
    response = admin_client(superuser).get(f"{LOG}{deliveries['sent'].pk}/change/")

    assert response.status_code == 200
    assert "Hồ sơ X đã được tiếp nhận" in response.content.decode()
    assert list(
        DataAccessLog.objects.values_list(
            "official_id", "subject_id", "resource", "purpose", "channel", "object_id"
        )
    ) == [
        (
            superuser.pk,
            citizen.pk,
            "notification",
            "admin_view",
            "admin",
            str(deliveries["sent"].pk),
        )
    ]


def test_resend_queues_the_failed_deliveries_again_and_leaves_the_sent_ones(
    superuser, deliveries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client(superuser).post(
            LOG,
            {
                "action": "resend",
                "_selected_action": [str(deliveries["sent"].pk), str(deliveries["failed"].pk)],
            },
            follow=True,
        )

    assert response.status_code == 200
    assert "1 delivery queued again." in response.content.decode()
    assert list(
        Delivery.objects.order_by("status").values_list("pk", "status", "attempts", "error")
    ) == sorted(
        [
            (deliveries["failed"].pk, "created", 0, ""),
            (deliveries["sent"].pk, "sent", 0, ""),
        ],
        key=lambda row: row[1],
    )


def test_daily_counts_per_provider_include_the_otp_sms(superuser, deliveries):
    SmsMessage.objects.create(
        phone="+84912345678", body="", purpose="login", status="sent", provider="http"
    )
    SmsMessage.objects.create(
        phone="+84912345678", body="", purpose="login", status="technical-failure", provider="http"
    )

    response = admin_client(superuser).get(DAILY)

    today = timezone.localdate()
    rows = [
        (
            r["day"],
            r["channel"],
            r["provider"],
            r["sent"],
            r["delivered"],
            r["failed"],
            r["waiting"],
        )
        for r in response.context["rows"]
    ]
    assert rows == [
        (today, "push", "fcm", 1, 0, 1, 0),
        (today, "sms (OTP)", "http", 1, 0, 1, 0),
    ]


# --- templates --------------------------------------------------------------------------------


def template_form(**fields) -> dict:
    return {
        "event": "dossier.received",
        "language": "vi",
        "channel": "push",
        "title": "",
        "body": "",
        **fields,
    }


def test_a_province_administrator_overrides_a_text_and_the_next_message_uses_it(
    province_admin, citizen
):
    client = admin_client(province_admin)

    response = client.post(
        f"{TEMPLATES}add/",
        template_form(channel="inbox", title="Đã nhận hồ sơ {{ code }}", body="Hẹn {{ date }}."),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    notify(
        users=[citizen],
        event="dossier.received",
        key="k",
        context={"code": "X", "date": "10/12/2026"},
    )
    assert list(Notification.objects.values_list("title", "body")) == [
        ("Đã nhận hồ sơ X", "Hẹn 10/12/2026.")
    ]


def test_a_template_that_does_not_compile_is_refused(province_admin):
    response = admin_client(province_admin).post(
        f"{TEMPLATES}add/", template_form(title="{% if code %}", body="{{ code }}")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["title"]
    assert errors["title"][0].startswith("This template does not compile:")
    assert NotificationTemplate.objects.count() == 0


def test_an_sms_longer_than_two_segments_with_the_sample_is_refused(province_admin):
    body = "Hồ sơ {{ code }} " + "đã được tiếp nhận và đang xử lý. " * 5

    response = admin_client(province_admin).post(
        f"{TEMPLATES}add/", template_form(channel="sms", body=body)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["body"] == [
        "With the sample values this SMS takes 3 segments (UCS-2); at most 2."
    ]
    # Unaccented, the same text fits in GSM-7.
    accepted = admin_client(province_admin).post(
        f"{TEMPLATES}add/", template_form(channel="sms", body=body, strip_diacritics="on")
    )
    assert accepted.status_code == 302


def test_the_template_page_previews_the_sample_and_shows_the_built_in_text(province_admin):
    template = NotificationTemplate.objects.create(
        event="dossier.received",
        language="vi",
        channel="sms",
        body="Ho so {{ code }} da duoc tiep nhan",
        strip_diacritics=True,
    )

    page = admin_client(province_admin).get(f"{TEMPLATES}{template.pk}/change/").content.decode()

    assert "Ho so G22.20.01-261126-0001 da duoc tiep nhan" in page
    assert "GSM-7, 45 characters, 1 segment(s)" in page
    assert "Hồ sơ {{ code }} đã được tiếp nhận. Hồ sơ của bạn đã được tiếp nhận." in page


def test_citizens_and_desk_officials_cannot_edit_templates(official):
    assert admin_client(official).get(TEMPLATES).status_code == 403
