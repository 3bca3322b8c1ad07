"""A dossier through the officials' admin in a real browser: submitted by a citizen through the
API, received, sent back for a supplement, answered by the citizen, decided by the leader and
returned, each click checked on the page and in the database; an official of another ward
neither lists nor opens it."""

from __future__ import annotations

import re
from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command

from accounts.models import DataAccessLog, User
from services.models import Dossier, DossierStatus
from tests.conftest import client_for
from tests.e2e.conftest import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.conftest import Screenshots

pytestmark = pytest.mark.e2e

S = DossierStatus
MARRIAGE = "1.004873"  # demo catalog: 3 working days, form {"purpose"}, no household
CHANGELIST = "/admin/services/dossier/"


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def submit(citizen: User) -> Dossier:
    response = client_for(citizen).post(
        "/api/v1/dossiers/",
        {"procedure": MARRIAGE, "unit": 6040, "form_data": {"purpose": "Đăng ký kết hôn"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Dossier.objects.get(code=response.json()["code"])


def timeline(dossier: Dossier) -> list[tuple]:
    return list(
        dossier.events.order_by("id").values_list("from_status", "to_status", "actor_id", "note")
    )


def open_dossier(page: Page, code: str, shot: Screenshots) -> None:
    """From the admin's home: Dịch vụ công › Hồ sơ, search the code, open it."""
    page.goto("/admin/")
    page.locator(".app-services").get_by_role("link", name="Hồ sơ", exact=True).click()
    expect(page.locator("#changelist")).to_be_visible()
    page.locator("#searchbar").fill(code)
    page.locator("#searchbar").press("Enter")
    found = page.locator("#result_list").get_by_role("link", name=code, exact=True)
    expect(found).to_be_visible()
    shot(page, "dossier list search")
    found.click()
    expect(page.locator("#content > h2")).to_have_text(code)


def status_shown(page: Page):
    return page.locator(".field-status .readonly")


def button(page: Page, label: str):
    return page.locator(".object-tools").get_by_role("link", name=label, exact=True)


def act(page: Page, label: str, fill: dict[str, str] | None = None, select=None) -> None:
    """Click a button of the dossier's page, fill its form, save; back on the dossier's page."""
    button(page, label).click()
    expect(page.locator("#content h1")).to_contain_text(f"{label}: ")
    for selector, value in (fill or {}).items():
        page.locator(selector).fill(value)
    for selector, option in (select or {}).items():
        page.locator(selector).select_option(label=option)


def save(page: Page) -> None:
    confirm = page.locator('#content form [type="submit"]')
    expect(confirm).to_have_value("Xác nhận")
    confirm.click()
    # message_user's default level: info (shown like a success by the admin's style).
    expect(page.locator(".messagelist li")).to_have_text("Đã thực hiện.")


def test_a_dossier_from_submission_to_the_returned_result(
    live_server, citizen, official, leader, log_in, shot
):
    dossier = submit(citizen)
    code, pk = dossier.code, dossier.pk
    # The admin keeps the list's search in the URL (?_changelist_filters=…).
    change_url = re.compile(re.escape(f"{live_server.url}{CHANGELIST}{pk}/change/") + r"(\?.*)?$")
    assert dossier.status == S.SUBMITTED

    # The ward's one-stop official (reception and processing roles) finds the new dossier.
    desk = log_in(official)
    expect(desk.locator("#content h1")).to_have_text("Quản trị")
    expect(desk.locator(".app-services caption")).to_have_text("Dịch vụ công")
    shot(desk, "admin home")
    open_dossier(desk, code, shot)
    expect(desk).to_have_url(change_url)
    expect(status_shown(desk)).to_have_text("Mới đăng ký")
    expect(button(desk, "Tiếp nhận")).to_be_visible()
    expect(button(desk, "Giải quyết")).to_have_count(0)
    shot(desk, "new dossier")

    act(desk, "Tiếp nhận", {"#id_note": "Đủ thành phần hồ sơ."})
    shot(desk, "receive form")
    save(desk)
    expect(desk).to_have_url(change_url)
    expect(status_shown(desk)).to_have_text("Đang xử lý")
    assert Dossier.objects.get(pk=pk).status == S.PROCESSING
    shot(desk, "received")

    missing = "Bản sao giấy khai sinh có chứng thực của hai bên."
    act(desk, "Yêu cầu bổ sung", {"#id_missing": missing})
    shot(desk, "supplement form")
    save(desk)
    expect(status_shown(desk)).to_have_text("Yêu cầu bổ sung")
    row = Dossier.objects.get(pk=pk)
    assert (row.status, row.supplement_requests) == (S.SUPPLEMENT_REQUESTED, 1)
    shot(desk, "supplement requested")

    # The citizen answers through the app.
    answered = client_for(citizen).post(
        f"/api/v1/dossiers/{code}/supplement/", {"note": "Đã nộp bản sao."}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == S.PROCESSING

    # The desk sees it back; deciding is the leader's, not theirs.
    desk.reload()
    expect(status_shown(desk)).to_have_text("Đang xử lý")
    expect(button(desk, "Giải quyết")).to_have_count(0)
    expect(button(desk, "Yêu cầu bổ sung")).to_be_visible()
    assert Dossier.objects.get(pk=pk).status == S.PROCESSING
    shot(desk, "supplement answered")

    # The leader approves.
    boss = log_in(leader)
    open_dossier(boss, code, shot)
    expect(status_shown(boss)).to_have_text("Đang xử lý")
    expect(button(boss, "Tiếp nhận")).to_have_count(0)
    act(
        boss,
        "Giải quyết",
        {"#id_note": "Đủ điều kiện đăng ký kết hôn."},
        select={"#id_outcome": "Chấp thuận"},
    )
    shot(boss, "decide form")
    save(boss)
    expect(status_shown(boss)).to_have_text("Đã xử lý xong")
    expect(boss.locator(".field-outcome .readonly")).to_have_text("Chấp thuận")
    row = Dossier.objects.get(pk=pk)
    assert (row.status, row.outcome) == (S.DECIDED, "approved")
    shot(boss, "decided")

    # The desk hands the result over.
    desk.reload()
    expect(status_shown(desk)).to_have_text("Đã xử lý xong")
    act(desk, "Trả kết quả", {"#id_note": "Đã trao giấy chứng nhận kết hôn."})
    save(desk)
    expect(status_shown(desk)).to_have_text("Đã trả kết quả")
    expect(desk.locator(".object-tools a[href*='/act/']")).to_have_count(0)
    shot(desk, "result returned")

    assert Dossier.objects.get(pk=pk).status == S.RETURNED
    assert timeline(dossier) == [
        (None, S.SUBMITTED, citizen.pk, ""),
        (S.SUBMITTED, S.RECEIVED, official.pk, "Đủ thành phần hồ sơ."),
        (S.RECEIVED, S.PROCESSING, official.pk, ""),
        (S.PROCESSING, S.SUPPLEMENT_REQUESTED, official.pk, missing),
        (S.SUPPLEMENT_REQUESTED, S.PROCESSING, citizen.pk, "Đã nộp bản sao."),
        (S.PROCESSING, S.DECIDED, leader.pk, "Đủ điều kiện đăng ký kết hôn."),
        (S.DECIDED, S.RETURNED, official.pk, "Đã trao giấy chứng nhận kết hôn."),
    ]


def test_an_official_of_another_ward_neither_lists_nor_opens_the_dossier(
    live_server, citizen, official, other_official, log_in, shot
):
    dossier = submit(citizen)
    before = (Dossier.objects.filter(pk=dossier.pk).values()[0], timeline(dossier))

    page = log_in(other_official)
    page.locator(".app-services").get_by_role("link", name="Hồ sơ", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}{CHANGELIST}")
    expect(page.locator("#changelist .paginator")).to_contain_text("0 hồ sơ")
    expect(page.locator("#result_list")).to_have_count(0)
    shot(page, "empty list")

    # The change URL typed in: Django's admin answers an object outside get_queryset as one that
    # does not exist, a redirect to the admin's home with a warning.
    response = page.goto(f"{CHANGELIST}{dossier.pk}/change/")
    assert response.request.redirected_from is not None
    assert (
        response.request.redirected_from.url == f"{live_server.url}{CHANGELIST}{dossier.pk}/change/"
    )
    assert response.request.redirected_from.response().status == 302
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator(".messagelist .warning")).to_have_text(
        f"Hồ sơ với ID “{dossier.pk}” không tồn tại. Có lẽ nó đã bị xóa?"
    )
    shot(page, "change url redirected")

    # A button's URL typed in: not found.
    response = page.goto(f"{CHANGELIST}{dossier.pk}/act/receive/")
    assert response.status == 404
    shot(page, "action url not found")

    assert (Dossier.objects.filter(pk=dossier.pk).values()[0], timeline(dossier)) == before
    assert DataAccessLog.objects.filter(official=other_official).exists() is False


# The buttons of the page that cover a part of the dossier's code (the heading's text).
COVERING_THE_CODE = """() => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector("#content > h2"));
  const code = range.getBoundingClientRect();
  return [...document.querySelectorAll(".object-tools a")]
    .filter((button) => {
      const b = button.getBoundingClientRect();
      const across = b.left < code.right && b.right > code.left;
      return across && b.top < code.bottom && b.bottom > code.top;
    })
    .map((button) => button.textContent.trim());
}"""


def test_the_buttons_of_a_dossier_being_processed_leave_its_code_readable(
    live_server, citizen, official, log_in, shot
):
    dossier = submit(citizen)
    received = client_for(official).post(
        f"/api/v1/official/dossiers/{dossier.code}/receive/", {}, format="json"
    )
    assert received.status_code == 200, received.content

    page = log_in(official)
    open_dossier(page, dossier.code, shot)
    expect(status_shown(page)).to_have_text("Đang xử lý")
    expect(page.locator(".object-tools li")).to_have_count(6)
    shot(page, "dossier being processed")
    assert page.evaluate(COVERING_THE_CODE) == []
