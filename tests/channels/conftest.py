"""Fixtures for the channel tests: one Rasa server per test session serves every channel (socketio,
REST, and Telegram against the local stand-in of the Bot API), since loading the model is the slow
part. The server handling itself is tests/support/servers.py, shared with the end-to-end tests.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # telegram_standin.py, next to this file

from tests.support.servers import PROJECT_ROOT, RasaServers  # noqa: E402

# A token of the shape Telegram issues (aiogram checks the shape); it is only ever sent to the stand-in.
TELEGRAM_TEST_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklm"
TELEGRAM_TEST_BOT = "clinic_test_bot"
TELEGRAM_TEST_SECRET = "test-secret-token"


@pytest.fixture(scope="session")
def clinic_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "config" / "clinic.yml").read_text())


@pytest.fixture(scope="session")
def disclaimer(clinic_config) -> str:
    return " ".join(clinic_config["disclaimer"].split())


@pytest.fixture(scope="session")
def telegram_api():
    """The local stand-in of the Telegram Bot API (records every call the bot makes)."""
    from telegram_standin import TelegramStandIn

    standin = TelegramStandIn(token=TELEGRAM_TEST_TOKEN, username=TELEGRAM_TEST_BOT).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def channel_servers(tmp_path_factory, telegram_api) -> Iterator[RasaServers]:
    """Action server + Rasa server with the channels of credentials.yml (REST, socketio with session
    persistence) plus Telegram pointed at the stand-in."""
    folder = tmp_path_factory.mktemp("channel-servers")
    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text()) or {}
    credentials["bot.rasa.telegram.TelegramInputWithServer"] = {
        "access_token": TELEGRAM_TEST_TOKEN,
        "verify": TELEGRAM_TEST_BOT,
        "webhook_url": "https://clinic.example.org/webhooks/telegram/webhook",
        "api_url": telegram_api.url,
        "secret_token": TELEGRAM_TEST_SECRET,
    }
    path = folder / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials, sort_keys=False))
    servers = RasaServers(path, folder).start()
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: `make test-prereqs` installs it (apt-get install -y chromium)")
    return path
