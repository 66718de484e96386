"""Issue 12, item 6, in the browser: once the server confirms "delete my conversation", the widget
forgets the transcript it kept in the tab (sessionStorage) and shows it no more, not even on reload.
Before, the words stayed in the tab for the next person at a shared computer."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bot import texts
from tests.support.servers import PROJECT_ROOT, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e

WIDGET = PROJECT_ROOT / "web" / "dist" / "clinic-chat.js"


@pytest.fixture(scope="module")
def demo_page(servers, tmp_path_factory):
    if not WIDGET.exists():
        pytest.fail("web/dist/clinic-chat.js is missing: `make widget` (make test-prereqs) builds it")
    port = free_port()
    with open(tmp_path_factory.mktemp("web") / "web-serve.log", "wb") as log:
        process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "web" / "serve.py"), "--port", str(port),
                                    "--rasa-url", servers.url], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: http_ok(url), 30, "web/serve.py did not start", gave_up=lambda: process.poll() is not None and "it exited")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def stored_transcript(page) -> str:
    return page.evaluate("() => JSON.stringify(Object.keys(sessionStorage).map(k => sessionStorage.getItem(k)))")


def test_the_widget_forgets_the_transcript_once_the_server_deleted_it(servers, demo_page):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Chromium is missing: `make test-prereqs` installs it (apt-get install -y chromium)")
    phrase = f"wombat{uuid.uuid4().hex[:10]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.set_default_timeout(90_000)
            page.goto(demo_page)
            page.locator("#clinic-chat .launcher").click()
            box = page.locator("#clinic-chat textarea")
            box.fill(f"my {phrase} hip hurts, what causes hip pain?")
            box.press("Enter")
            page.locator("#clinic-chat .msg.bot", has_text="Source").first.wait_for()
            assert phrase in stored_transcript(page)

            box.fill("delete my conversation")
            box.press("Enter")
            page.locator("#clinic-chat .msg.bot", has_text=texts.FORGOTTEN).wait_for()
            assert phrase not in stored_transcript(page)
            assert phrase not in page.locator("#clinic-chat").inner_text()
            transcript = [json.loads(s) for s in json.loads(stored_transcript(page)) if s]
            assert [m["text"] for t in transcript for m in t["messages"]] == [texts.FORGOTTEN]

            page.reload()
            page.locator("#clinic-chat .panel").wait_for(state="visible")
            assert phrase not in page.locator("#clinic-chat").inner_text()
            assert phrase not in stored_transcript(page)
        finally:
            browser.close()
