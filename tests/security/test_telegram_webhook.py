"""Issue 12, item 3: only Telegram can post to the Telegram webhook, and nobody can move it.

Before: the channel started without ``secret_token`` (then any POST was taken as Telegram's), a
header that was not ASCII made ``hmac.compare_digest`` raise (a 500), and ``POST /set_webhook``
re-registered the webhook for anyone."""
from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import requests
import yaml

from tests.support.servers import PROJECT_ROOT, RASA, free_port, server_env
from tests.support.telegram_standin import TELEGRAM_TEST_BOT, TELEGRAM_TEST_SECRET, TELEGRAM_TEST_TOKEN

pytestmark = pytest.mark.e2e


def update(chat_id: int, text: str) -> dict:
    update_id = int(time.time() * 1000) % 10**9
    return {"update_id": update_id, "message": {
        "message_id": 1, "from": {"id": chat_id, "is_bot": False, "first_name": "Pat"}, "date": int(time.time()),
        "text": text, "chat": {"id": chat_id, "first_name": "Pat", "type": "private"}}}


def post(servers, body: dict, headers: dict) -> requests.Response:
    return requests.post(f"{servers.url}/webhooks/telegram/webhook", data=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json", **headers}, timeout=60)


@pytest.mark.parametrize("header", [
    {},
    {"X-Telegram-Bot-Api-Secret-Token": ""},
    {"X-Telegram-Bot-Api-Secret-Token": "guess"},
    {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_TEST_SECRET + "x"},
    {"X-Telegram-Bot-Api-Secret-Token": "sécret-tökén".encode("utf-8")},  # not ASCII: was a 500
    {"X-Telegram-Bot-Api-Secret-Token": "\u00e9".encode("latin-1")},
], ids=["none", "empty", "wrong", "longer", "utf8", "latin1"])
def test_an_update_without_the_secret_is_refused(servers, telegram_api, header):
    chat = 9100000 + uuid.uuid4().int % 99999
    before = len(telegram_api.sent(chat))
    response = post(servers, update(chat, "what causes hip pain?"), header)
    assert response.status_code == 403
    assert servers.events(f"tg:{chat}") == []
    assert len(telegram_api.sent(chat)) == before
    assert servers.alive()


def test_set_webhook_is_not_callable(servers, telegram_api):
    before = len([c for c in telegram_api.calls if c.method == "setWebhook"])
    for method in (requests.post, requests.get):
        response = method(f"{servers.url}/webhooks/telegram/set_webhook", timeout=30)
        assert response.status_code in (404, 405)
    assert len([c for c in telegram_api.calls if c.method == "setWebhook"]) == before


@pytest.mark.parametrize("secret", [None, "", "has spaces", "x" * 257])
def test_the_server_refuses_to_start_with_a_webhook_but_no_valid_secret(tmp_path, secret):
    channel = {"access_token": TELEGRAM_TEST_TOKEN, "verify": TELEGRAM_TEST_BOT,
               "webhook_url": "https://clinic.example.org/webhooks/telegram/webhook", "api_url": "http://127.0.0.1:9"}
    if secret is not None:
        channel["secret_token"] = secret
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"bot.rasa.telegram.TelegramInputWithServer": channel}))
    result = subprocess.run([*RASA, "run", "--interface", "127.0.0.1", "--port", str(free_port()),
                             "--credentials", str(credentials), "--endpoints", str(tmp_path / "none.yml"),
                             "--model", str(tmp_path / "no-model.tar.gz")],
                            cwd=PROJECT_ROOT, env=server_env(), capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "needs a secret_token" in output
    assert "Rasa server is up and running" not in output
