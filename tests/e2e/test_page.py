"""The page (GET /) in headless Chromium: calls with players, every tab, filters, a card won and a task done.

Screenshots of every tab at 1280 px and at a phone's 375 px go to ``.artifacts/page/`` (git-ignored).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.conftest import RunningStack
from tests.e2e.crm_api_support import new_api_key, stack_dynamodb
from tests.integration.crm_api_helpers import call, seed_calls

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/ringbridge-call-history.png")
ARTIFACTS = ROOT / ".artifacts" / "page"
TABS = ("calls", "missed", "contacts", "cards", "tasks", "stats")
WORK_PHONE = "+48221110088"
BACK_PHONE = "+48221110099"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_l1_l2_page_lists_calls_with_players_in_headless_chromium(local_stack: RunningStack) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (see requirements-dev.txt)")
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("no Chromium: apt-get install -y chromium (Playwright's own browser download is not used)")
    from ringbridge.domain.calls import CallStatus

    now = datetime.now(UTC).replace(microsecond=0)
    seed_calls(
        "CallsTable",
        [
            call("page-1", (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"), phone="+48221110077"),
            call(
                "page-2",
                (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                phone="+48221110077",
                status=CallStatus.MISSED,
                comment="<b>not bold</b>",
            ),
        ],
        stack_dynamodb(local_stack),
    )
    key = new_api_key(local_stack, "page")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        try:
            page = browser.new_page()
            page.goto(f"{local_stack.base_url}/?key={key}")
            page.wait_for_selector("tr[data-call-id='page-1']", timeout=10_000)
            assert "key=" not in page.url  # the key leaves the address bar and the history
            rows = page.locator("#calls tbody tr")
            assert rows.count() >= 2
            assert page.locator("tr[data-call-id='page-1'] audio").count() == 1
            assert page.locator("tr[data-call-id='page-2'] audio").count() == 0  # missed: no recording
            assert page.locator("tr[data-call-id='page-2'] b").count() == 0  # text, never markup
            calls_form = "form[data-for=calls]"
            page.fill(f"{calls_form} input[name=phone]", "0 22 111 00 77")
            page.select_option(f"{calls_form} select[name=status]", "missed")
            page.click(f"{calls_form} button[type=submit]")
            page.wait_for_selector("tr[data-call-id='page-1']", state="detached", timeout=10_000)
            page.wait_for_selector("tr[data-call-id='page-2']", timeout=10_000)  # the filtered list has rendered
            assert rows.count() == 1
            page.select_option(f"{calls_form} select[name=status]", "")
            page.click(f"{calls_form} button[type=submit]")
            page.wait_for_selector("tr[data-call-id='page-1']", timeout=10_000)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 1000


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
        args=["--headless", "--no-sandbox", "--disable-gpu"],
    )


def _seed_workbench(stack: RunningStack, key: str) -> None:
    """A contact with an open card, a missed call and its open call-back task, an answered call."""
    from ringbridge.domain.calls import CallStatus, Direction
    from ringbridge.domain.crm import CrmContact, TaskDraft
    from ringbridge.storage.builtin_crm import BuiltinCrm

    headers = {"X-Api-Key": key}
    created = requests.post(
        stack.base_url + "/contacts", json={"phone": WORK_PHONE, "name": "Hurtownia Kowalski"}, headers=headers, timeout=10
    )
    assert created.status_code in (200, 201), created.text
    card = requests.post(
        stack.base_url + "/cards", json={"phone": WORK_PHONE, "title": "Quote for 20 seats"}, headers=headers, timeout=10
    )
    assert card.status_code == 201, card.text
    now = datetime.now(UTC).replace(microsecond=0)
    dynamodb = stack_dynamodb(stack)
    seed_calls(
        "CallsTable",
        [
            call(
                "work-miss", (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), phone=WORK_PHONE, status=CallStatus.MISSED
            ),
            call("work-talk", (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), phone=WORK_PHONE, manager="anna"),
            # another number, missed and called back 40 minutes later: the call-back chart has a bar
            call("work-miss-2", stamp(now - timedelta(hours=5)), phone=BACK_PHONE, status=CallStatus.MISSED),
            call(
                "work-back-2",
                stamp(now - timedelta(hours=5) + timedelta(minutes=40)),
                phone=BACK_PHONE,
                direction=Direction.OUTGOING,
                manager="anna",
            ),
        ],
        dynamodb,
    )
    crm = BuiltinCrm("ContactsTable", "CardsTable", "TasksTable", "CallsTable", dynamodb)
    contact = CrmContact(crm_id=created.json()["contact_id"], phone=WORK_PHONE, name="Hurtownia Kowalski")
    due = (now + timedelta(hours=1)).isoformat()
    crm.create_task(TaskDraft(call_id="work-miss", phone=WORK_PHONE, contact=contact, due_at=due, text="Call back Hurtownia"))


def _screenshots(page: Any, prefix: str) -> list[Path]:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    written = []
    for width, label in ((1280, "1280"), (375, "375")):
        page.set_viewport_size({"width": width, "height": 900})
        for tab in TABS:
            page.click(f"a[data-tab={tab}]")
            page.wait_for_selector(f"[data-panel={tab}]:not([hidden])", timeout=10_000)
            expect(page.locator("#status")).not_to_have_text("Loading...", timeout=10_000)
            path = ARTIFACTS / f"{prefix}-{tab}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(path)
    return written


def test_f2_t1_s1_page_tabs_filters_win_a_card_and_finish_a_task(local_stack: RunningStack) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (see requirements-dev.txt)")
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("no Chromium: apt-get install -y chromium (Playwright's own browser download is not used)")
    key = new_api_key(local_stack, "workbench")
    _seed_workbench(local_stack, key)
    with playwright_api.sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{local_stack.base_url}/")
            page.wait_for_selector("#signin:not([hidden])", timeout=10_000)
            page.fill("#signin input[name=key]", "rbk_wrong")
            page.click("#signin button[type=submit]")
            page.wait_for_selector("#signin-error:has-text('refused')", timeout=10_000)  # a form again, not raw JSON
            page.fill("#signin input[name=key]", key)
            page.press("#signin input[name=key]", "Enter")  # the keyboard signs in
            page.wait_for_selector("tr[data-call-id='work-miss']", timeout=10_000)
            started = page.locator("tr[data-call-id='work-miss'] td").first
            assert "(UTC)" in (started.get_attribute("title") or "")  # the project's time, UTC on hover

            page.click("a[data-tab=missed]")
            page.wait_for_selector("#missed tr[data-call-id='work-miss']", timeout=10_000)

            page.click("a[data-tab=contacts]")
            page.fill("form[data-for=contacts] input[name=q]", "hurt")
            page.click("form[data-for=contacts] button[type=submit]")
            page.wait_for_selector("#contacts tr:has-text('Hurtownia Kowalski')", timeout=10_000)
            page.click("#contacts tr:has-text('Hurtownia Kowalski') a:has-text('Open card')")  # a link to its card

            card_row = "#cards tr:has-text('Quote for 20 seats')"
            page.wait_for_selector(card_row, timeout=10_000)
            page.click(f"{card_row} button[data-action=won]")
            page.wait_for_selector(f"{card_row} td.won", timeout=10_000)

            page.click("a[data-tab=tasks]")
            page.fill("form[data-for=tasks] input[name=phone]", WORK_PHONE)
            page.select_option("form[data-for=tasks] select[name=status]", "open")
            page.click("form[data-for=tasks] button[type=submit]")
            task_row = "#tasks tr[data-task-id='task-work-miss']"
            page.wait_for_selector(task_row, timeout=10_000)
            page.click(f"{task_row} button[data-action=done]")
            page.wait_for_selector(task_row, state="detached", timeout=10_000)  # done: gone from the open tasks

            page.click("a[data-tab=stats]")
            page.wait_for_selector("#chart-days svg rect", timeout=10_000)
            page.wait_for_selector("#chart-callbacks svg rect", timeout=10_000)
            assert page.locator("#stats-tiles .tile").count() == 5
            written = _screenshots(page, "page")
        finally:
            browser.close()
    print("page screenshots:", " ".join(str(path.relative_to(ROOT)) for path in written))
    assert all(path.stat().st_size > 1000 for path in written)
