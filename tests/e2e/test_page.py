"""The call-history page (GET /) in headless Chromium: rows and a player per recording render."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.crm_api_support import new_api_key, stack_dynamodb
from tests.integration.crm_api_helpers import call, seed_calls

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/ringbridge-call-history.png")


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
            page.fill("input[name=phone]", "0 22 111 00 77")
            page.select_option("select[name=status]", "missed")
            page.click("button[type=submit]")
            page.wait_for_selector("tr[data-call-id='page-1']", state="detached", timeout=10_000)
            page.wait_for_selector("tr[data-call-id='page-2']", timeout=10_000)  # the filtered list has rendered
            assert rows.count() == 1
            page.select_option("select[name=status]", "")
            page.click("button[type=submit]")
            page.wait_for_selector("tr[data-call-id='page-1']", timeout=10_000)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 1000
