"""The review console in a real browser (Debian's chromium driven by Playwright; nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import async_playwright

from tests.console_rig import PASSWORD, held, start
from tests.helpers import BRANCH_A, Sink

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def test_a_reviewer_signs_in_reviews_and_releases_with_stripping(tmp_path: Path, sink: Sink) -> None:
    rig = await start(tmp_path, sink)
    await held(rig.store, "brw1", rig.clock.ago(days=2))
    await held(rig.store, "brw2", rig.clock.ago(days=1))
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page()
            await page.goto(rig.url + "/queue")
            assert page.url.endswith("/login")  # every page needs a session
            await page.fill("input[name=user]", "suzuki")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            assert await page.text_content("#held-now") == "2"
            await page.screenshot(path=str(tmp_path / "dashboard.png"))
            if shot := __import__("os").environ.get("DLP_SCREENSHOT"):
                await page.screenshot(path=shot, full_page=True)
            await page.click("text=保留キュー")
            await page.click("text=brw1")
            body = await page.text_content("main") or ""
            assert "81******00" in body and "8100000000" not in body  # masked values only
            assert "cross-insurer-bulk" in body
            await page.click("text=違反宛先を除いて配信")
            assert "brw1: released" in (await page.text_content("[role=status]") or "")
            assert "release_stripped" in (await page.text_content("main") or "")  # the audit trail on the page
            await page.goto(rig.url + "/queue?lang=en")
            assert await page.text_content("h1") == "Queue (1 total)"
            await browser.close()
    finally:
        await rig.runner.cleanup()
    assert [rcpts for _, rcpts, _ in sink.received] == [(BRANCH_A,)]
    item = await rig.store.get("brw1")
    assert (item.status, item.reviewer) == ("released", "suzuki")
