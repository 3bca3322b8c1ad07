"""An emergency broadcast approved in the officials' admin in a real browser, then sent: created
by the ward's broadcasting official through the API, approved by the ward's leader on the
broadcast's page (the button and its confirmation), fanned out and delivered by running, in
this process, the tasks the approval published, as the worker would; the inbox rows, the push
and the SMS are there and the page says it was sent."""

from __future__ import annotations

import pytest

from config.celery import app
from notifications import tasks as _tasks  # noqa: F401 (registers the tasks run below)
from notifications.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Notification
from notifications.providers.push import MemoryPushProvider
from notifications.providers.sms import MemorySmsProvider
from tests.conftest import PublishedTask, client_for
from tests.e2e.conftest import expect
from tests.factories import DeviceFactory, UserFactory

pytestmark = pytest.mark.e2e

B = BroadcastStatus
TITLE = "Cảnh báo lũ quét"
BODY = "Nước sông Kỳ Cùng dâng cao. Người dân vùng trũng di chuyển lên chỗ cao ngay."
SMS_TEXT = (
    "Canh bao lu quet. Nuoc song Ky Cung dang cao. Nguoi dan vung trung di chuyen len cho cao ngay."
)
CHANGELIST = "/admin/notifications/broadcast/"
# A task that publishes itself again stops well before this; a loop here would be a bug.
MOST_TASKS = 50


@pytest.fixture(autouse=True)
def _clean_push_provider() -> None:
    # tests/conftest.py resets the SMS one.
    MemoryPushProvider.reset()
    yield
    MemoryPushProvider.reset()


def run_published(published: list[PublishedTask], start: int) -> list[PublishedTask]:
    """Do what the worker does: run each task published from ``start`` on, in order, here, and
    the tasks those publish in turn, until none is left. Returns what was run."""
    ran = []
    while len(published) > start:
        assert len(ran) < MOST_TASKS, ran
        task = published[start]
        start += 1
        app.tasks[task.name](*task.args)
        ran.append(task)
    return ran


def test_an_emergency_broadcast_approved_in_the_admin_is_sent(
    live_server,
    settings,
    ward,
    citizen,
    other_citizen,
    broadcaster,
    leader,
    published_tasks,
    log_in,
    shot,
):
    settings.BROADCAST_EMERGENCY_APPROVAL = True
    device = DeviceFactory(user=citizen)
    no_app = UserFactory(phone="+84913000001", full_name="Hoàng Thị Không Máy", ward=ward)

    created = client_for(broadcaster).post(
        "/api/v1/official/broadcasts/",
        {"title": TITLE, "body": BODY, "kind": "emergency", "wards": [6040], "send_sms": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == B.PENDING_APPROVAL
    broadcast = Broadcast.objects.get()
    change_url = f"{live_server.url}{CHANGELIST}{broadcast.pk}/change/"
    assert published_tasks == []

    # The leader opens it from the list.
    page = log_in(leader)
    page.locator(".app-notifications").get_by_role("link", name="Thông báo chung").click()
    listed = page.locator("#result_list").get_by_role("link", name=TITLE, exact=True)
    expect(listed).to_be_visible()
    shot(page, "broadcast list")
    listed.click()
    expect(page).to_have_url(change_url)
    expect(page.locator(".field-status .readonly")).to_have_text("Chờ phê duyệt")
    shot(page, "waiting for approval")

    approve = page.locator(".object-tools").get_by_role("link", name="Phê duyệt", exact=True)
    expect(approve).to_have_attribute("data-transition", "approve")
    expect(approve).to_have_attribute("href", f"{CHANGELIST}{broadcast.pk}/act/approve/")
    approve.click()
    expect(page).to_have_url(f"{live_server.url}{CHANGELIST}{broadcast.pk}/act/approve/")
    confirm = page.locator('#content form[data-transition="approve"] [type="submit"]')
    expect(confirm).to_have_value("Xác nhận")
    shot(page, "approve confirmation")
    # Nothing happens before the official confirms.
    assert Broadcast.objects.get().status == B.PENDING_APPROVAL
    confirm.click()

    expect(page).to_have_url(change_url)
    expect(page.locator(".messagelist li")).to_have_text("Đã thực hiện.")
    expect(page.locator(".field-status .readonly")).to_have_text("Đang gửi")
    expect(page.locator(".field-approved_by .readonly")).to_have_text(leader.full_name)
    row = Broadcast.objects.get()
    assert (row.status, row.approved_by_id, row.recipients) == (B.SENDING, leader.pk, 0)
    shot(page, "approved sending")

    # The worker's part: the fan-out of each lane, then the deliveries it published.
    ran = run_published(published_tasks, 0)
    assert [(t.name, t.args) for t in ran] == [
        ("notifications.fan_out_broadcast", [broadcast.pk, 0]),
        ("notifications.fan_out_broadcast", [broadcast.pk, 1]),
        ("notifications.deliver", ["push"]),
        ("notifications.deliver", ["sms"]),
    ]

    row = Broadcast.objects.get()
    assert (row.status, row.recipients, row.inbox_written) == (B.SENT, 2, 2)
    assert list(
        Notification.objects.order_by("user_id").values_list(
            "user_id", "broadcast_id", "category", "title", "body", "read_at"
        )
    ) == [
        (citizen.pk, broadcast.pk, "emergency", TITLE, BODY, None),
        (no_app.pk, broadcast.pk, "emergency", TITLE, BODY, None),
    ]
    assert list(
        Delivery.objects.order_by("notification__user_id").values_list(
            "notification__user_id", "channel", "status"
        )
    ) == [(citizen.pk, "push", DeliveryStatus.SENT), (no_app.pk, "sms", DeliveryStatus.SENT)]
    assert [(m.token, m.title, m.body) for m in MemoryPushProvider.outbox] == [
        (device.token, TITLE, BODY)
    ]
    assert [(s.phone, s.body) for s in MemorySmsProvider.outbox] == [(no_app.phone, SMS_TEXT)]
    assert other_citizen.notifications.exists() is False

    page.reload()
    expect(page.locator(".field-status .readonly")).to_have_text("Đã gửi")
    expect(page.locator(".field-recipients .readonly")).to_have_text("2")
    expect(page.locator(".field-progress .readonly")).to_have_text(
        "PUSH: 1 đã gửi, 0 đã nhận, 0 thất bại, 0 đang chờ"
        "SMS: 1 đã gửi, 0 đã nhận, 0 thất bại, 0 đang chờ"
    )
    expect(page.locator('.object-tools a[data-transition="approve"]')).to_have_count(0)
    shot(page, "sent")
