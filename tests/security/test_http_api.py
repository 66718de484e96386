"""Issue 12, item 1: nobody reads, rewrites or deletes a conversation, or replaces the model, through
Rasa's HTTP API; the action server and the demo page are not on the network.

Before: `make run` started Rasa with ``--enable-api --cors "*"`` and no token on 0.0.0.0, so
``GET /conversations/<id>/tracker`` returned anyone's conversation; the action server and the demo
page listened on every interface."""
from __future__ import annotations

import os
import stat
import subprocess
import uuid

import pytest
import requests

from tests.support.servers import PROJECT_ROOT, REST_PREFIX, RasaServers, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e


def listening_addresses(port: int) -> set:
    """The local addresses a TCP socket on ``port`` listens on ("0.0.0.0", "127.0.0.1", "::", ...)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                    continue
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(".".join(str(b) for b in raw[::-1]))
                else:
                    words = [raw[i:i + 4][::-1].hex() for i in range(0, 16, 4)]
                    found.add("::" if set("".join(words)) == {"0"} else ":".join(words))
    return found


def test_the_conversation_api_is_not_exposed(servers):
    sender = f"victim-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "does lupus cause bone pain?")
    assert servers.events(REST_PREFIX + sender)
    for conversation in (sender, REST_PREFIX + sender):
        url = f"{servers.url}/conversations/{conversation}"
        assert requests.get(f"{url}/tracker", timeout=30).status_code == 404
        assert requests.put(f"{url}/tracker/events", json=[], timeout=30).status_code in (404, 405)
        assert requests.post(f"{url}/messages", json={"text": "hi", "sender": "user"}, timeout=30).status_code in (404, 405)
    assert requests.put(f"{servers.url}/model", json={"model_file": "/tmp/x.tar.gz"}, timeout=30).status_code in (404, 405)
    assert requests.post(f"{servers.url}/model/parse", json={"text": "hi"}, timeout=30).status_code in (404, 405)
    assert requests.get(f"{servers.url}/status", timeout=30).status_code == 404
    assert servers.events(REST_PREFIX + sender), "the conversation is untouched"


def test_the_action_server_listens_on_loopback_only(servers):
    assert listening_addresses(servers.action_port) == {"127.0.0.1"}


def test_the_demo_page_listens_on_loopback_only(tmp_path):
    port = free_port()
    env = dict(os.environ, WEB_PORT=str(port))
    with open(tmp_path / "web.log", "wb") as log:
        process = subprocess.Popen([str(PROJECT_ROOT / "scripts" / "web-serve.sh")], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not (PROJECT_ROOT / "web" / "dist" / "clinic-chat.js").exists():
            pytest.fail("web/dist/clinic-chat.js is missing: `make widget` builds it")
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/"), 30, "web-serve.sh did not start",
                   gave_up=lambda: process.poll() is not None and "it exited")
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_with_the_api_on_every_call_needs_the_token(tmp_path):
    """RASA_API=1 (for the bench): the API is behind a generated token, and Rasa moves to loopback."""
    servers = RasaServers(tmp_path, api=True)
    servers.start()
    try:
        sender = f"api-{uuid.uuid4().hex[:8]}"
        servers.say(sender, "what causes hip pain?")
        url = f"{servers.url}/conversations/{REST_PREFIX}{sender}/tracker"
        assert requests.get(url, timeout=30).status_code == 401
        assert requests.get(url, params={"token": "guess"}, timeout=30).status_code == 401
        assert requests.put(f"{servers.url}/model", params={"token": "guess"}, json={}, timeout=30).status_code == 401
        tracker = requests.get(url, params={"token": servers.api_token}, timeout=30)
        assert tracker.status_code == 200 and tracker.json()["sender_id"] == REST_PREFIX + sender
        assert listening_addresses(servers.rasa_port) == {"127.0.0.1"}

        token_file = servers.secrets_dir / "rasa-token"
        assert len(servers.api_token) >= 64
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(servers.secrets_dir.stat().st_mode) == 0o700
        assert servers.api_token not in servers.logs()
    finally:
        servers.stop()


@pytest.mark.parametrize("path", ["var/secrets/rasa-token", "var/secrets/rest-token", "var/scale/secrets/db-password"])
def test_secret_files_are_git_ignored(path):
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr
