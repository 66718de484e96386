"""Attacks on the servers as `make run` starts them (scripts/serve.sh with credentials.yml), plus the
Telegram channel pointed at a local stand-in of the Bot API: the session's ``chat_servers`` and
``telegram_api`` (tests/conftest.py), shared with the channel and end-to-end tests. The tests that
need a differently configured server (the API on, a broken condition store, a scaled layout) start
their own. README, "Security", says what each test defends.
"""
from __future__ import annotations

import pytest

from tests.support.servers import RasaServers


@pytest.fixture(scope="session")
def servers(chat_servers) -> RasaServers:
    return chat_servers
