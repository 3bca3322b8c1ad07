"""End-to-end tests of the officials' admin: Debian's chromium, headless, driven by Playwright's
sync API against pytest-django's ``live_server``, at 1366×768 in Vietnamese (locale vi-VN).

The browser is ``E2E_CHROMIUM`` (default /usr/bin/chromium, Debian's ``chromium`` package), never
one Playwright downloads. Without it, or without the playwright package, the tests skip with the
reason; with CI=true such a skip fails (tests/conftest.py). Each step is screenshotted to
``E2E_ARTIFACTS`` (default ``var/e2e-artifacts``, git-ignored; a relative path is taken from the
repository root) as ``<test name>/NN-step.png``, a failed test adds a picture of each page it had
open, and the directory is printed at the end of the session."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connections

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from tests.factories import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the tests skip, saying why (browser below); collection must not fail
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / os.environ.get("E2E_ARTIFACTS", "var/e2e-artifacts")
VIEWPORT = {"width": 1366, "height": 768}
LOCALE = "vi-VN"
# The admin site's header in Vietnamese (locale/vi): every diacritic must survive.
SITE_HEADER = "Công dân số: trang làm việc của cán bộ"
# Generous for a loaded 2-core CI machine; Playwright waits only as long as a page needs.
ACTION_TIMEOUT_MS = 15_000
EXPECT_TIMEOUT_MS = 10_000

# Test directories written this session, for the summary at the end.
_written: list[Path] = []
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Keep each phase's report on the item: a failed test's fixture then screenshots its pages."""
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report


def pytest_terminal_summary(terminalreporter) -> None:
    if not _written:
        return
    shots = sum(len(list(d.glob("*.png"))) for d in _written if d.is_dir())
    terminalreporter.write_sep("-", "e2e screenshots")
    terminalreporter.write_line(f"{ARTIFACTS}  ({len(_written)} tests, {shots} screenshots)")


def _sync_playwright_or_skip():
    if expect is None:
        pytest.skip("e2e: the playwright package is not installed (bash scripts/install test)")
    from playwright.sync_api import sync_playwright

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"e2e: no Chromium at {CHROMIUM} (apt-get install chromium, or set E2E_CHROMIUM)"
        )
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return sync_playwright


def _slug(text: str) -> str:
    """File-name safe, Vietnamese letters without their marks: "Lý Thị Cán Bộ" → ly-thi-can-bo."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Screenshots:
    """``shot(page, "receive dossier")`` saves ``NN-receive-dossier.png`` in the test's folder,
    numbered across every page of the test in the order taken."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.directory / f"{self.count:02d}-{_slug(step)}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Screenshots:
    directory = ARTIFACTS / _slug(request.node.name)
    # Only this run's pictures: a step removed since the last run leaves no stale file.
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    _written.append(directory)
    return Screenshots(directory)


@pytest.fixture
def browser(live_server, monkeypatch) -> Iterator[Browser]:
    """Headless chromium for one test (started and stopped with it, so nothing of Playwright
    outlives the test)."""
    sync_playwright = _sync_playwright_or_skip()
    # Playwright's sync API runs an asyncio event loop in this thread (in a greenlet) for as long
    # as it is started, so Django takes the test body for async code and refuses the ORM in it
    # (SynchronousOnlyOperation). Nothing here is async: the test's queries, and the API client's
    # requests, run one at a time in this thread as in any other test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        # CI runs as root, where Chromium refuses to start with its sandbox; containers have a
        # small /dev/shm, which Chromium would fill.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        # While Playwright runs, the test body is in a contextvars context of its own, where
        # Django's connection handler (context-local) opened connections of its own: closed
        # here, still inside it, or they outlive the test and PostgreSQL refuses to drop the test
        # database at the end of the session ("being accessed by other users").
        connections.close_all()
        browser.close()
        playwright.stop()


def typed(phone: str) -> str:
    """The number as an official types it on the login form: +84900000011 → 0900000011."""
    assert phone.startswith("+84"), phone
    return "0" + phone[3:]


@pytest.fixture
def log_in(
    request: pytest.FixtureRequest, browser: Browser, live_server, shot: Screenshots
) -> Iterator[Callable[[User], Page]]:
    """Open a browser of the official's own (cookies of their own) and log in through the
    admin's login form, typing the phone number and the password."""
    pages: list[Page] = []

    def log_in_as(user: User) -> Page:
        context = browser.new_context(
            viewport=VIEWPORT,
            locale=LOCALE,
            timezone_id="Asia/Ho_Chi_Minh",
            base_url=live_server.url,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        page = context.new_page()
        pages.append(page)
        page.goto("/admin/")
        expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
        expect(page.locator("#site-name")).to_have_text(SITE_HEADER)
        page.locator("#id_username").fill(typed(user.phone))
        page.locator("#id_password").fill(PASSWORD)
        login = page.locator('#login-form [type="submit"]')
        expect(login).to_have_value("Đăng nhập")
        shot(page, f"login {user.full_name}")
        login.click()
        expect(page).to_have_url(f"{live_server.url}/admin/")
        expect(page.locator("#user-tools")).to_contain_text(f"Chào mừng bạn, {user.full_name}")
        return page

    yield log_in_as
    report = request.node.stash.get(_REPORTS, {}).get("call")
    if report is not None and report.failed:
        for page in pages:
            if not page.is_closed():
                shot(page, "failed")


@pytest.fixture
def leader(ward) -> User:
    """The ward's leader (Role.APPROVAL): decides dossiers, approves emergency broadcasts."""
    return official_create_or_update(
        phone="+84900000031",
        full_name="Nông Văn Lãnh Đạo",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[ward.code],
        title="Phó Chủ tịch UBND xã",
    )
