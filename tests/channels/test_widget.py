"""The web widget on the demo clinic page, in real headless Chromium (Debian's, driven by Playwright).

A patient opens the chat, asks about hip pain, reads the conditions as a list with source and
disclaimer, clicks a quick reply, reloads the page and still sees (and continues) the conversation;
HTML they type is shown as text and never runs. At 390 x 800 the answer's opening, sources and
disclaimer fit on the screen with the quotes folded behind "What our documents say". Also: keyboard
only, phone width, and a Rasa server restart.

How the widget lays out the reply format (the common subset of Markdown) and that no bot text ever
becomes HTML is tested against a scripted socket.io server that sends exactly the replies a test
needs (a real bot never says ``<script>``).
"""
from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import Dict, List

import pytest

from bot import texts
from tests.support.servers import HOST, PROJECT_ROOT, SOCKETIO_PREFIX, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDGET = PROJECT_ROOT / "web" / "dist" / "clinic-chat.js"
README_SCREENSHOT = PROJECT_ROOT / "docs" / "widget.png"
XSS = "<img src=x onerror=alert(1)>"
TIMEOUT_MS = 60_000


def serve_demo_page(rasa_url: str, folder):
    """web/serve.py on a free port, pointing the demo page at ``rasa_url``: (its address, the process)."""
    if not WIDGET.exists():
        pytest.fail("web/dist/clinic-chat.js is missing: `make widget` (make test-prereqs) builds it")
    port = free_port()
    log = open(folder / "web-serve.log", "wb")
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "web" / "serve.py"), "--host", "127.0.0.1",
                                "--port", str(port), "--rasa-url", rasa_url], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}/"
    try:
        wait_until(lambda: http_ok(url), 20, "web/serve.py did not start",
                   gave_up=lambda: process.poll() is not None and "it exited")
    except AssertionError as error:
        process.kill()
        pytest.fail(str(error))
    return url, process


@pytest.fixture(scope="module")
def demo_page(channel_servers, tmp_path_factory):
    """The demo page talking to the test's real Rasa server."""
    url, process = serve_demo_page(channel_servers.url, tmp_path_factory.mktemp("web"))
    yield url
    process.terminate()
    process.wait(timeout=10)


class ScriptedBot:
    """A socket.io server speaking Rasa's socketio protocol (session_request / session_confirm,
    user_uttered / bot_uttered) that answers each message with the replies a test scripted for it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.replies: Dict[str, List[dict]] = {}
        self.received: List[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _run(self) -> None:
        import socketio
        from aiohttp import web

        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
        app = web.Application()
        sio.attach(app)

        @sio.on("session_request")
        async def session_request(sid, data):
            await sio.emit("session_confirm", "scripted-session", room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            message = data.get("message") if isinstance(data, dict) else None
            self.received.append(message)
            for reply in self.replies.get(message, []):
                await sio.emit("bot_uttered", reply, room=sid)

        async def start():
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            await web.TCPSite(self._runner, HOST, self.port).start()
            self._ready.set()

        async def stop():
            await sio.shutdown()
            await self._runner.cleanup()

        self._stop = stop
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(start())
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self) -> "ScriptedBot":
        self._thread.start()
        assert self._ready.wait(20), "the scripted socket.io server did not start"
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(20)


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """(the scripted bot, the demo page talking to it)."""
    bot = ScriptedBot().start()
    url, process = serve_demo_page(bot.url, tmp_path_factory.mktemp("web-scripted"))
    yield bot, url
    process.terminate()
    process.wait(timeout=10)
    bot.stop()


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

    def last_bot_bubble(self):
        return self.page.locator("#clinic-chat .msg.bot").last

    def wait_for_messages(self, selector: str, count: int):
        """Wait until there are ``count`` messages matching ``selector`` (".msg.bot", ".msg.user")."""
        wait_until(lambda: self.page.locator(f"#clinic-chat {selector}").count() >= count, TIMEOUT_MS / 1000,
                   f"fewer than {count} {selector}")

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

    def session_id(self) -> str:
        """The session the server issued to this tab (the widget keeps it in sessionStorage)."""
        return self.page.evaluate("""() => {
            const key = Object.keys(sessionStorage).find((k) => k.startsWith('clinic-chat:'));
            return key && JSON.parse(sessionStorage.getItem(key)).sessionId;
        }""")

    def focused_text(self) -> str:
        return self.page.evaluate(
            "() => { const e = document.querySelector('#clinic-chat').shadowRoot.activeElement; return e ? e.textContent : ''; }")


def normalised(text: str) -> str:
    return " ".join(text.split())


def in_view(page, locator) -> bool:
    """Whether the element is inside the chat log's visible area and the window, with nothing to scroll."""
    return page.evaluate("""(element) => {
        const log = element.closest('.log').getBoundingClientRect();
        const box = element.getBoundingClientRect();
        return box.height > 0 && box.top >= log.top - 1 && box.bottom <= log.bottom + 1
            && box.top >= 0 && box.bottom <= window.innerHeight;
    }""", locator.element_handle())


def evidence_open(bubble) -> bool:
    return bubble.locator("details.evidence").first.evaluate("(details) => details.open")


def test_patient_conversation_in_the_widget(browser, demo_page, disclaimer, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    chat = Chat(page)
    page.goto(demo_page)

    # The header carries the clinic's disclaimer.
    chat.open()
    assert normalised(page.locator("#clinic-chat .panel header .disclaimer").inner_text()) == disclaimer

    # Ask: the scope notice comes first, then the answer: the conditions as a list of quotes (open on a
    # wide screen), the sources and the disclaimer each a paragraph of their own.
    chat.watch_typing()
    chat.say("what causes hip pain")
    answer = chat.wait_for_bot(r"Sources?:.*not a diagnosis")
    assert chat.typing_was_seen(), "the typing indicator was never shown"
    assert "I am not for emergencies" in normalised(chat.bot_messages().first.inner_text())
    bubble = chat.last_bot_bubble()
    assert evidence_open(bubble), "the evidence is folded on a wide screen"
    quotes = bubble.locator("details.evidence li").all_inner_texts()
    assert len(quotes) >= 4, quotes
    for condition in ("Rheumatoid arthritis", "Systemic lupus erythematosus", "Ankylosing spondylitis"):
        assert any(condition in quote for quote in quotes), (condition, quotes)
    assert re.match(r"Sources?: ", bubble.locator("p.sources").inner_text())
    assert normalised(bubble.locator("p").last.inner_text()) == disclaimer
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
    example = next((t for t in titles if re.fullmatch(r"What is .+\?", t)), None)  # "What is <a condition>?"
    assert example, titles
    replies.filter(has_text=example).click()
    condition = example[len("What is "):-1]
    answer = chat.wait_for_bot(re.escape(condition) + r".*Sources?:", after=count)
    assert disclaimer in normalised(answer)
    assert chat.user_messages().last.inner_text() == example
    assert not set(replies.all_inner_texts()) & set(titles), "old quick replies stay clickable"

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
    chat.wait_for_bot(r"not for emergencies")

    channel_servers.stop()  # both servers, as Ctrl-C on `make run` would
    status = page.locator("#clinic-chat .status")
    status.wait_for(state="visible")
    assert re.search(r"reconnect|can't reach", status.inner_text(), re.I)
    chat.say("what causes back pain")  # typed while the server is down: kept, sent on reconnection
    assert page.locator("#clinic-chat .typing").is_visible()

    channel_servers.start()
    answer = chat.wait_for_bot(r"back pain.*Sources?:")
    assert "not a diagnosis" in answer
    status.wait_for(state="hidden")
    page.screenshot(path=str(tmp_path / "widget-after-restart.png"))
    assert chat.errors == []
    page.close()


def test_answer_fits_a_phone_screen_with_the_evidence_folded(browser, demo_page, disclaimer, tmp_path):
    """Issue 16: at 390 x 800, the answer's opening, its sources and the disclaimer are on the screen
    at once; the quotes are behind "What our documents say", which opens with a tap or the keyboard."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    chat = Chat(page)
    page.goto(demo_page)
    chat.open()
    chat.say("what causes hip pain?")
    chat.wait_for_bot(r"Sources?:")
    page.locator("#clinic-chat .typing").wait_for(state="hidden")
    bubble = chat.last_bot_bubble()

    opening = bubble.locator(".text > p").first
    sources = bubble.locator("p.sources")
    note = bubble.locator(".text > p").last
    assert re.search(r"hip pain", opening.inner_text()) and "rheumatoid arthritis" in opening.inner_text().lower()
    assert normalised(note.inner_text()) == disclaimer
    assert not evidence_open(bubble), "the evidence is open on a narrow screen"
    for name, locator in (("opening sentence", opening), ("sources line", sources), ("disclaimer", note)):
        assert in_view(page, locator), f"the {name} is not on the screen without scrolling"
    assert bubble.locator("details.evidence li").first.is_hidden()
    page.screenshot(path=str(tmp_path / "widget-390-folded.png"))

    # Tap to open: the quotes, one per condition; the disclaimer and the sources are not in the fold.
    summary = bubble.locator("details.evidence summary")
    assert summary.inner_text() == texts.EVIDENCE_HEADING.rstrip(":")
    summary.tap()
    quotes = bubble.locator("details.evidence li")
    quotes.first.wait_for(state="visible")
    assert quotes.count() >= 4 and all(q.strip() for q in quotes.all_inner_texts())
    assert bubble.locator("details.evidence p.sources, details.evidence p.note").count() == 0
    page.screenshot(path=str(tmp_path / "widget-390-open.png"))

    # The keyboard: Enter on the summary closes it again, Space opens it; the choice survives a reload.
    summary.focus()
    page.keyboard.press("Enter")
    quotes.first.wait_for(state="hidden")
    page.keyboard.press(" ")
    quotes.first.wait_for(state="visible")
    # The details element opens at once; its toggle event, which stores the choice, runs a moment later.
    page.wait_for_function("""() => Object.keys(sessionStorage).filter((k) => k.startsWith('clinic-chat:')).some((k) =>
        JSON.parse(sessionStorage.getItem(k)).messages.some((m) => m.evidenceOpen && Object.values(m.evidenceOpen).includes(true)))""")
    page.reload()
    chat.panel.wait_for(state="visible")
    assert evidence_open(chat.last_bot_bubble())
    assert chat.dialogs == [] and chat.errors == []
    context.close()


def test_feedback_buttons_under_answers_in_the_widget(browser, demo_page, channel_servers, stored_feedback, disclaimer):
    """Issue 13: "Was this helpful?" as quick replies under each medical answer; 👎 by mouse gets the
    optional "what were you looking for?", skipped by asking the next question; 👍 by keyboard; both
    stored as events of the conversation."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    chat = Chat(page)
    page.goto(demo_page)
    chat.open()
    replies = page.locator("#clinic-chat .replies button.reply")
    thumbs = [texts.FEEDBACK_HELPFUL, texts.FEEDBACK_NOT_HELPFUL]

    chat.say("what causes hip pain?")
    chat.wait_for_bot(r"hip pain.*Sources?:.*not a diagnosis")
    replies.first.wait_for()
    assert replies.all_inner_texts() == thumbs

    # 👎 with the mouse: shown as the patient's message, answered with the optional follow-up.
    count = chat.bot_messages().count()
    replies.filter(has_text=texts.FEEDBACK_NOT_HELPFUL).click()
    chat.wait_for_bot(re.escape(texts.FEEDBACK_WHAT_WAS_MISSING), after=count)
    assert chat.user_messages().last.inner_text() == texts.FEEDBACK_NOT_HELPFUL
    assert replies.count() == 0, "the follow-up asks for nothing to tap"

    # Skipped: the next question is answered as any question is, with its own 👍 / 👎.
    count = chat.bot_messages().count()
    chat.say("what causes back pain?")
    answer = chat.wait_for_bot(r"back pain.*Sources?:", after=count)
    assert disclaimer in normalised(answer) and texts.FEEDBACK_THANKS not in answer
    replies.first.wait_for()
    assert replies.all_inner_texts() == thumbs

    # 👍 with the keyboard: back from the message box to the button, Enter.
    page.locator("#clinic-chat textarea").focus()
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if chat.focused_text() == texts.FEEDBACK_HELPFUL:
            break
    assert chat.focused_text() == texts.FEEDBACK_HELPFUL
    count = chat.bot_messages().count()
    page.keyboard.press("Enter")
    chat.wait_for_bot("^" + re.escape(texts.FEEDBACK_THANKS) + "$", after=count)
    assert chat.user_messages().last.inner_text() == texts.FEEDBACK_HELPFUL

    # Both in the tracker store, as events of this conversation, each on the answer it rated.
    sender = SOCKETIO_PREFIX + chat.session_id()

    def both_stored():
        found = stored_feedback(sender)
        return found if len(found) == 2 and all(f.reply for f in found) else None

    feedback = wait_until(both_stored, 30, f"two taps answered in the tracker store of {sender}")
    assert [f.helpful for f in feedback] == ["no", "yes"], feedback
    assert "hip pain" in feedback[0].rated and feedback[0].reply == texts.FEEDBACK_WHAT_WAS_MISSING
    assert "back pain" in feedback[1].rated and feedback[1].reply == texts.FEEDBACK_THANKS
    assert chat.dialogs == [] and chat.errors == []
    context.close()


# -- the reply format, against the scripted bot ------------------------------------------------------
HOSTILE = [
    "<script>window.__ran = true; alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    '<a href="javascript:alert(1)">a link</a>',
    "[click me](javascript:alert(1)) and [data](data:text/html,<script>alert(1)</script>)",
    "javascript:alert(1)",
]


def scripted_chat(browser, scripted, width: int = 1000, height: int = 800):
    bot, url = scripted
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    chat = Chat(page)
    page.goto(url)
    chat.open()
    return bot, context, page, chat


def test_html_from_the_bot_or_the_patient_is_shown_as_text(browser, scripted):
    bot, context, page, chat = scripted_chat(browser, scripted)
    bot.replies["hostile"] = [{"text": "\n\n".join(HOSTILE) + "\n\n- " + HOSTILE[1] + "\n- " + HOSTILE[0]}]
    bot.replies[HOSTILE[0]] = [{"text": "You said: " + HOSTILE[0],
                                "quick_replies": [{"title": HOSTILE[1], "payload": "/greet"}]}]

    chat.say("hostile")
    chat.wait_for_messages(".msg.bot", 1)
    shown = chat.last_bot_bubble().locator(".text").inner_text()
    for text in HOSTILE:
        assert text in shown, (text, shown)
    assert chat.last_bot_bubble().locator("li").count() == 2

    chat.say(HOSTILE[0])  # the patient's own message, and a quick reply titled with HTML
    chat.wait_for_messages(".msg.bot", 2)
    assert chat.user_messages().last.inner_text() == HOSTILE[0]
    assert page.locator("#clinic-chat .replies button.reply").inner_text() == HOSTILE[1]

    page.wait_for_timeout(300)
    for tag in ("script", "img", "iframe", "object", "embed"):
        assert page.locator(f"#clinic-chat .log {tag}").count() == 0, tag
    assert page.locator("#clinic-chat .log a").count() == 0, "a link that is not http(s)"
    assert page.evaluate("() => window.__ran") is None
    assert chat.dialogs == [] and chat.errors == []
    context.close()


def test_the_markdown_subset_is_laid_out(browser, scripted):
    bot, context, page, chat = scripted_chat(browser, scripted)
    bot.replies["layout"] = [{"text": (
        "First paragraph, with a [booking page](https://clinic.example.org/book?x=1&y=2) and "
        "https://clinic.example.org/info.\nIts second line.\n\n"
        "Lead-in:\n- one\n- two\n\n- three\n\nLast paragraph with *stars* and `ticks` kept as they are."
    )}]
    chat.say("layout")
    chat.wait_for_messages(".msg.bot", 1)
    text = chat.last_bot_bubble().locator(".text")
    paragraphs = text.locator(":scope > p").all_inner_texts()
    assert paragraphs[0] == ("First paragraph, with a booking page and https://clinic.example.org/info.\nIts second line.")
    assert paragraphs[1] == "Lead-in:"
    assert paragraphs[-1] == "Last paragraph with *stars* and `ticks` kept as they are."
    assert text.locator(":scope > ul li").all_inner_texts() == ["one", "two", "three"]
    links = text.locator("a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "https://clinic.example.org/book?x=1&y=2", "https://clinic.example.org/info"]
    assert all(links.nth(i).get_attribute("target") == "_blank" and "noopener" in links.nth(i).get_attribute("rel")
               for i in range(links.count()))
    context.close()


def medical_reply(disclaimer: str) -> List[dict]:
    """A reply shaped as the composer shapes a medical answer (placeholder quotes, no medical facts),
    one message per paragraph, as Rasa's socketio channel sends it."""
    return [{"text": paragraph} for paragraph in (
        "The opening sentence that answers.",
        texts.EVIDENCE_HEADING, "- First: “Quote one.”\n- Second: “Quote two.”",
        texts.GENERAL_TOO, "- “A general quote.”",
        texts.SOURCES.format(titles="Document A"),
        disclaimer,
    )]


@pytest.mark.parametrize("width, folded", [(390, True), (599, True), (600, False), (1280, False)])
def test_evidence_folds_on_narrow_screens_only(browser, scripted, disclaimer, width, folded):
    bot, context, page, chat = scripted_chat(browser, scripted, width=width)
    bot.replies["medical"] = medical_reply(disclaimer)
    chat.say("medical")
    chat.wait_for_bot(re.escape(disclaimer))
    assert chat.bot_messages().count() == 1, "one reply, sent paragraph by paragraph, is one bubble"
    bubble = chat.last_bot_bubble()
    details = bubble.locator("details.evidence")
    assert details.count() == 1
    assert evidence_open(bubble) is not folded
    # Inside the fold: both lists and the "in general" heading; outside: the opening, sources, disclaimer.
    assert details.locator("li").count() == 3
    assert details.locator("p.subheading").text_content() == texts.GENERAL_TOO
    outside = bubble.locator(".text > p").all_inner_texts()
    assert outside == ["The opening sentence that answers.", "Source: Document A", disclaimer]
    assert bubble.locator(".text > p.note").inner_text() == disclaimer
    assert texts.EVIDENCE_HEADING not in bubble.locator(".text").inner_text()  # said once, by the summary
    context.close()


def test_the_welcome_and_each_answer_are_replies_of_their_own(browser, scripted, clinic_config, disclaimer):
    bot, context, page, chat = scripted_chat(browser, scripted)
    welcome = " ".join(clinic_config["scope_notice"].split())
    bot.replies["first"] = [{"text": welcome}, *medical_reply(disclaimer)]
    bot.replies["second"] = [*medical_reply(disclaimer), {"text": "Anything else?", "quick_replies": [
        {"title": "Yes", "payload": "/affirm"}]}]
    chat.say("first")
    chat.wait_for_bot(re.escape(disclaimer))
    chat.say("second")
    chat.wait_for_bot("Anything else")
    shown = chat.bot_messages().all_inner_texts()
    assert len(shown) == 4, shown
    assert normalised(shown[0]) == welcome
    assert shown[1].startswith("The opening sentence") and normalised(shown[1]).endswith(disclaimer)
    assert shown[2].startswith("The opening sentence") and shown[3] == "Anything else?"
    assert page.locator("#clinic-chat .replies button.reply").all_inner_texts() == ["Yes"]
    context.close()
