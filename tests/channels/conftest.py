"""Fixtures for the channel tests: one Rasa server per test session serves every channel (socketio,
REST, and Telegram against the local stand-in of the Bot API), since loading the model is the slow
part. The server handling itself is tests/support/servers.py, shared with the end-to-end tests.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from tests.support.servers import PROJECT_ROOT, RasaServers
from tests.support.telegram_standin import TELEGRAM_TEST_BOT, TELEGRAM_TEST_TOKEN, TelegramStandIn, write_credentials_with_telegram


@pytest.fixture(scope="session")
def clinic_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "config" / "clinic.yml").read_text())


@pytest.fixture(scope="session")
def disclaimer(clinic_config) -> str:
    return " ".join(clinic_config["disclaimer"].split())


@pytest.fixture(scope="session")
def telegram_api():
    """The local stand-in of the Telegram Bot API (records every call the bot makes)."""
    standin = TelegramStandIn(token=TELEGRAM_TEST_TOKEN, username=TELEGRAM_TEST_BOT).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def channel_servers(tmp_path_factory, telegram_api) -> Iterator[RasaServers]:
    """Action server + Rasa server with the channels of credentials.yml (REST, socketio with session
    persistence) plus Telegram pointed at the stand-in."""
    folder = tmp_path_factory.mktemp("channel-servers")
    path = write_credentials_with_telegram(folder / "credentials.yml", telegram_api.url)
    servers = RasaServers(folder, credentials=path)
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: `make test-prereqs` installs it (apt-get install -y chromium)")
    return path
