"""Issue 12, item 5: no patient text in the logs, on any path. A unique phrase goes through each
failure path (an unknown "/command", a malformed request on every channel, an action that crashes,
an action that times out) and is then looked for in every file the servers wrote but the tracker store.

Before: Rasa logged an unknown "/..." command in full (and skipped the NLU pipeline, safety screen
included), the REST channel logged ``text=`` on a failure, and the action server answered a crash
with the whole conversation, which Rasa then logged."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml

from bot.clinic import load_clinic_config
from tests.support.servers import REST_PREFIX, RasaServers, free_port, grep_files
from tests.support.socketio_client import WidgetClient
from tests.support.telegram_standin import TELEGRAM_TEST_SECRET

pytestmark = pytest.mark.e2e

ACTION_TIMEOUT_S = 4  # Rasa 3.6 waits 5 minutes for an action; the timeout test shortens that (below)
SITECUSTOMIZE = f'''
import sys
if any("bot.rasa" in arg for arg in getattr(sys, "orig_argv", [])):
    import rasa.core.actions.action, rasa.core.constants, rasa.utils.endpoints
    for module in (rasa.core.actions.action, rasa.core.constants, rasa.utils.endpoints):
        module.DEFAULT_REQUEST_TIMEOUT = {ACTION_TIMEOUT_S}
'''


def unique_phrase() -> str:
    return f"zebracorn{uuid.uuid4().hex[:12]}"


def logs_with(folder: Path, phrase: str) -> list:
    """Every file under ``folder`` holding ``phrase``, except the conversations themselves."""
    return [hit for hit in grep_files(folder, [phrase]) if "tracker.db" not in hit.split(":")[0]]


def text_of(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_unknown_commands_are_not_logged_and_are_screened(servers):
    phrase = unique_phrase()
    sender = f"slash-{uuid.uuid4().hex[:8]}"
    for text in (f"/{phrase}", f"/{phrase} my hip hurts", f"//{phrase}", f"/{phrase}@0.9", f'/inform{{"{phrase}": "x"}}',
                 f'/inform{{"condition": "{phrase}"', f'/inform{{"condition": "{phrase}"}}', f"/ask_treatment{phrase}"):
        assert servers.rest(sender, text).status_code == 200, text
    emergency = text_of(servers.say(f"slash-{uuid.uuid4().hex[:8]}", f"/ {phrase} I have crushing chest pain and can't breathe"))
    assert load_clinic_config().emergency_number in emergency, "the safety screen ran on the '/' text"
    assert logs_with(servers.folder, phrase) == []
    assert phrase in json.dumps(servers.events(REST_PREFIX + sender)), "the messages did reach the conversation"


def test_malformed_requests_are_not_logged(servers):
    phrase = unique_phrase()
    url = f"{servers.url}/webhooks/rest/webhook"
    auth = {"Authorization": f"Bearer {servers.rest_token}", "Content-Type": "application/json"}
    for body in (f"not json {phrase}", f'{{"sender": 5, "message": "{phrase}"}}', f'{{"sender": "x", "message": ["{phrase}"]}}',
                 f'{{"sender": "{phrase}" ', f'{{"sender": "{"s" * 300}", "message": "{phrase}"}}'):
        assert requests.post(url, data=body.encode(), headers=auth, timeout=30).status_code == 400, body
    assert requests.post(url, json={"sender": "x", "message": phrase}, timeout=30).status_code == 401
    assert requests.post(url, json={"sender": "x", "message": phrase * 3000}, headers=auth, timeout=30).status_code == 413

    telegram = f"{servers.url}/webhooks/telegram/webhook"
    for update in ({"update_id": 1, "message": {"text": phrase}}, {"update_id": "x", "message": phrase},
                   {"update_id": 2, "callback_query": {"id": "1", "data": phrase}}, f"[{phrase}"):
        data = update.encode() if isinstance(update, str) else json.dumps(update).encode()
        response = requests.post(telegram, data=data, timeout=30, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_TEST_SECRET})
        assert 400 <= response.status_code < 500
    assert requests.post(telegram, json={"update_id": 3, "message": {"text": phrase}}, timeout=30).status_code == 403

    async def socketio() -> None:
        client = WidgetClient(servers.url)
        await client.connect()
        await client.send(phrase, metadata=f"{{not json {phrase}")
        await client.send(phrase, session_id=uuid.uuid4().hex)  # someone else's session
        await client.client.emit("user_uttered", {"message": [phrase], "session_id": client.session_id})
        await client.client.emit("user_uttered", f"{phrase}")
        await client.say("hello")
        await client.close()

    asyncio.run(socketio())
    assert logs_with(servers.folder, phrase) == []


class ActionProxy:
    """Stands between Rasa and the real action server: a call whose conversation holds "SLOW" is
    never answered in time (an action timeout); any other goes to the action server as it is."""

    def __init__(self, action_url: str) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if b"SLOW" in body:
                    proxy.slow_calls += 1
                    proxy.release.wait(ACTION_TIMEOUT_S * 4)
                    status, answer = 200, b'{"events": [], "responses": []}'
                else:
                    request = urllib.request.Request(f"{action_url}/webhook", data=body, method="POST",
                                                     headers={"Content-Type": "application/json"})
                    try:
                        with urllib.request.urlopen(request, timeout=60) as response:
                            status, answer = response.status, response.read()
                    except urllib.error.HTTPError as error:
                        status, answer = error.code, error.read()
                        proxy.failures.append(answer)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # Rasa gave up on this call

            def log_message(self, *_):
                pass

        self.slow_calls = 0
        self.failures: list = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture(scope="module")
def broken_servers(tmp_path_factory) -> Iterator[tuple]:
    """The servers with an empty condition store (every answer's action crashes), their action calls
    through ActionProxy, and Rasa's action timeout shortened to ACTION_TIMEOUT_S seconds."""
    folder = tmp_path_factory.mktemp("broken")
    (folder / "site").mkdir()
    (folder / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (folder / "empty-store.db").write_bytes(b"")
    servers = RasaServers(folder)
    proxy = ActionProxy(servers.action_url)
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({
        "action_endpoint": {"url": proxy.url},
        "tracker_store": {"type": "bot.rasa.tracker_store.PrivateSQLTrackerStore", "dialect": "sqlite", "db": str(servers.tracker_db)},
    }))
    servers.extra_env.update(RASA_ENDPOINTS=str(endpoints), DATABASE_URL=f"sqlite:///{folder / 'empty-store.db'}",
                             PYTHONPATH=str(folder / "site"))
    servers.start()
    yield servers, proxy
    proxy.stop()
    servers.stop()


def test_a_crashing_action_is_not_logged_with_the_conversation(broken_servers):
    servers, proxy = broken_servers
    phrase = unique_phrase()
    sender = f"crash-{uuid.uuid4().hex[:8]}"
    servers.rest(sender, f"does lupus cause hip pain? {phrase}")
    assert proxy.failures, "the action server reported the crash"
    assert all(phrase.encode() not in answer for answer in proxy.failures), "the crash answer held the conversation"
    assert "an action failed" in servers.logs()
    assert logs_with(servers.folder, phrase) == []


def test_an_action_timeout_is_not_logged_with_the_conversation(broken_servers):
    servers, proxy = broken_servers
    phrase = unique_phrase()
    started = time.monotonic()
    response = servers.rest(f"slow-{uuid.uuid4().hex[:8]}", f"what causes hip pain SLOW {phrase}")
    assert response.status_code == 200
    assert proxy.slow_calls >= 1 and time.monotonic() - started >= ACTION_TIMEOUT_S
    assert "Encountered an exception while running action" in servers.logs()
    assert logs_with(servers.folder, phrase) == []
