"""Attacks on the servers as `make run` starts them (scripts/serve.sh with credentials.yml), plus the
Telegram channel pointed at a local stand-in of the Bot API. One server per test session; the tests
that need a differently configured server (the API on, a broken condition store, a scaled layout)
start their own. README, "Security", says what each test defends.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.servers import RasaServers
from tests.support.telegram_standin import TELEGRAM_TEST_BOT, TELEGRAM_TEST_TOKEN, TelegramStandIn, write_credentials_with_telegram

# The retention purge runs on this timer (seconds) in the session's server, so a test can watch it.
PURGE_INTERVAL_S = 2


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[TelegramStandIn]:
    standin = TelegramStandIn(token=TELEGRAM_TEST_TOKEN, username=TELEGRAM_TEST_BOT).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def servers(tmp_path_factory, telegram_api) -> Iterator[RasaServers]:
    folder = tmp_path_factory.mktemp("security")
    credentials = write_credentials_with_telegram(folder / "credentials.yml", telegram_api.url)
    running = RasaServers(folder, credentials=credentials, env={"RETENTION_PURGE_INTERVAL": str(PURGE_INTERVAL_S)})
    running.start()
    yield running
    running.stop()
