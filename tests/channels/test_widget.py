"""The web widget on the demo clinic page, in real headless Chromium (Debian's, driven by Playwright).

A patient opens the chat, asks about hip pain, reads the conditions with source and disclaimer,
clicks a quick reply, reloads the page and still sees (and continues) the conversation; HTML they
type is shown as text and never runs. Also: keyboard only, phone width, and a Rasa server restart.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.support.servers import PROJECT_ROOT, free_port, http_ok

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDGET = PROJECT_ROOT / "web" / "dist" / "clinic-chat.js"
README_SCREENSHOT = PROJECT_ROOT / "docs" / "widget.png"
XSS = "<img src=x onerror=alert(1)>"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def demo_page(channel_servers, tmp_path_factory):
    """web/serve.py on a free port, pointing the demo page at the test's Rasa server."""
    if not WIDGET.exists():
        pytest.fail("web/dist/clinic-chat.js is missing: `make widget` (make test-prereqs) builds it")
    port = free_port()
    log = open(tmp_path_factory.mktemp("web") / "web-serve.log", "wb")
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "web" / "serve.py"), "--host", "127.0.0.1",
                                "--port", str(port), "--rasa-url", channel_servers.url], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}/"
    deadline = time.monotonic() + 20
    while not http_ok(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("web/serve.py did not start")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Chat:
    """The widget on one page, as a patient sees it (Playwright's CSS selectors enter the shadow root)."""

    def __init__(self, page):
        self.page = page
        self.dialogs = []
        self.errors = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.set_default_timeout(TIMEOUT_MS)

    @property
    def panel(self):
        return self.page.locator("#clinic-chat .panel")

    @property
    def launcher(self):
        return self.page.locator("#clinic-chat .launcher")

    def bot_messages(self):
        return self.page.locator("#clinic-chat .msg.bot .text")

    def user_messages(self):
        return self.page.locator("#clinic-chat .msg.user .text")

    def open(self):
        self.launcher.click()
        self.panel.wait_for(state="visible")

    def say(self, text: str):
        box = self.page.locator("#clinic-chat textarea")
        box.fill(text)
        box.press("Enter")

    def wait_for_bot(self, pattern: str, after: int = 0) -> str:
        """The text of the first bot message after the first ``after`` ones that matches ``pattern``."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            texts = self.bot_messages().all_inner_texts()[after:]
            for text in texts:
                if re.search(pattern, text, re.I | re.S):
                    return text
            time.sleep(0.2)
        raise AssertionError(f"no bot message matching {pattern!r}; bot said: {self.bot_messages().all_inner_texts()}")

    def watch_typing(self):
        self.page.evaluate("""() => {
            const typing = document.querySelector('#clinic-chat').shadowRoot.querySelector('.typing');
            window.__typingSeen = false;
            new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
                .observe(typing, { attributes: true });
        }""")

    def typing_was_seen(self) -> bool:
        return self.page.evaluate("() => window.__typingSeen")


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_patient_conversation_in_the_widget(browser, demo_page, disclaimer, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    chat = Chat(page)
    page.goto(demo_page)

    # The header carries the clinic's disclaimer.
    chat.open()
    assert normalised(page.locator("#clinic-chat .panel header .disclaimer").inner_text()) == disclaimer

    # Ask: the scope notice comes first, then the conditions with their source and the disclaimer.
    chat.watch_typing()
    chat.say("what causes hip pain")
    answer = chat.wait_for_bot(r"Sources?:.*not a diagnosis")
    assert chat.typing_was_seen(), "the typing indicator was never shown"
    assert "I am not for emergencies" in normalised(chat.bot_messages().first.inner_text())
    for condition in ("Rheumatoid arthritis", "Systemic lupus erythematosus", "Ankylosing spondylitis"):
        assert condition in answer
    assert disclaimer in normalised(answer)
    page.locator("#clinic-chat .typing").wait_for(state="hidden")
    page.screenshot(path=str(tmp_path / "widget-answer.png"))
    README_SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "widget-answer.png", README_SCREENSHOT)

    # Quick replies are buttons; clicking one sends it and shows its title as the patient's message.
    count = chat.bot_messages().count()
    chat.say("what can you help me with?")
    replies = page.locator("#clinic-chat .replies button.reply")
    replies.first.wait_for()
    titles = replies.all_inner_texts()
    assert "What is lupus?" in titles, titles
    replies.filter(has_text="What is lupus?").click()
    lupus = chat.wait_for_bot(r"lupus.*Sources?:", after=count)
    assert disclaimer in normalised(lupus)
    assert chat.user_messages().last.inner_text() == "What is lupus?"
    assert replies.count() == 0, "old quick replies stay clickable"

    # Links are links (the clinic's booking page), opened safely in a new tab.
    count = chat.bot_messages().count()
    chat.say("I want to talk to a person")
    chat.wait_for_bot(r"example-clinic\.org/book", after=count)
    link = page.locator("#clinic-chat .msg.bot a[href='https://example-clinic.org/book']")
    assert link.count() >= 1
    assert "noopener" in link.last.get_attribute("rel") and link.last.get_attribute("target") == "_blank"

    # Reload: the conversation is still there, and the bot still knows it (no new scope notice).
    before = chat.bot_messages().all_inner_texts()
    page.reload()
    chat.panel.wait_for(state="visible")
    assert chat.bot_messages().all_inner_texts() == before
    assert "what causes hip pain" in chat.user_messages().all_inner_texts()
    count = chat.bot_messages().count()
    chat.say("thanks")
    chat.wait_for_bot(r"welcome", after=count)
    assert not any("not for emergencies" in t for t in chat.bot_messages().all_inner_texts()[count:])

    # HTML typed by the patient is shown as text; nothing runs.
    count = chat.bot_messages().count()
    chat.say(XSS)
    chat.wait_for_bot(r".", after=count)
    assert chat.user_messages().last.inner_text() == XSS
    assert page.locator("#clinic-chat img").count() == 0 and page.locator("img").count() == 0
    page.wait_for_timeout(500)
    assert chat.dialogs == [], f"a script ran: {chat.dialogs}"
    assert chat.errors == [], chat.errors
    page.screenshot(path=str(tmp_path / "widget-after-html.png"))
    context.close()


def test_keyboard_only_at_phone_width(browser, demo_page, disclaimer, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    chat = Chat(page)
    page.goto(demo_page)

    focused = "() => { const r = document.querySelector('#clinic-chat').shadowRoot; return r.activeElement && r.activeElement.className; }"
    for _ in range(10):  # Tab to the launcher (the page has no other focusable element)
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "launcher":
            break
    assert page.evaluate(focused) == "launcher"
    page.keyboard.press("Enter")
    chat.panel.wait_for(state="visible")
    assert page.evaluate(focused) is not None and page.evaluate(
        "() => document.querySelector('#clinic-chat').shadowRoot.activeElement.tagName") == "TEXTAREA"

    page.keyboard.type("what causes hip pain")
    page.keyboard.press("Enter")
    answer = chat.wait_for_bot(r"Sources?:")
    assert disclaimer in normalised(answer)

    # The panel fills the phone's screen and nothing sticks out sideways.
    box = chat.panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375 + 0.5
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    assert page.locator("#clinic-chat .panel header .disclaimer").is_visible()
    page.screenshot(path=str(tmp_path / "widget-phone.png"))

    # Quick replies are reachable and usable by keyboard.
    count = chat.bot_messages().count()
    chat.say("what can you help me with?")
    reply = page.locator("#clinic-chat .replies button.reply").filter(has_text="Does stress matter?")
    reply.wait_for()
    reply.focus()
    page.keyboard.press("Enter")
    chat.wait_for_bot(r"stress.*Sources?:", after=count)

    # Escape closes the chat and gives the focus back to the launcher.
    page.locator("#clinic-chat textarea").focus()
    page.keyboard.press("Escape")
    chat.panel.wait_for(state="hidden")
    assert page.evaluate(focused) == "launcher"
    assert chat.dialogs == [] and chat.errors == []
    context.close()


def test_widget_recovers_when_the_server_restarts(browser, demo_page, channel_servers, tmp_path):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    chat = Chat(page)
    page.goto(demo_page)
    chat.open()
    chat.say("hello")
    chat.wait_for_bot(r"What would you like to know")

    channel_servers.stop_rasa()
    status = page.locator("#clinic-chat .status")
    status.wait_for(state="visible")
    assert re.search(r"reconnect|can't reach", status.inner_text(), re.I)
    chat.say("what causes back pain")  # typed while the server is down: kept, sent on reconnection
    assert page.locator("#clinic-chat .typing").is_visible()

    channel_servers.start_rasa()
    answer = chat.wait_for_bot(r"back pain.*Sources?:")
    assert "not a diagnosis" in answer
    status.wait_for(state="hidden")
    page.screenshot(path=str(tmp_path / "widget-after-restart.png"))
    assert chat.errors == []
    page.close()
