"""Shared fixtures: the real corpus built once into in-memory SQLite, scratch corpora, and the servers
`make run` and `make scale-up` start, once per test session for every test that talks to them."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.servers import RasaServers, ScaledLayout, require
from tests.support.telegram_standin import TELEGRAM_TEST_BOT, TELEGRAM_TEST_TOKEN, TelegramStandIn, write_credentials_with_telegram

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = PROJECT_ROOT / "data" / "documents"
# The retention purge runs on this timer (seconds) in the session's servers, so a test can watch it.
PURGE_INTERVAL_S = 2


@pytest.fixture(scope="session")
def corpus_store():
    """The condition store built from data/documents into in-memory SQLite (once per test run)."""
    from tests.support.stores import in_memory_store

    return in_memory_store(DOCUMENTS)


@pytest.fixture
def scratch_corpus(tmp_path: Path) -> Path:
    """A writable copy of the real documents folder."""
    folder = tmp_path / "documents"
    shutil.copytree(DOCUMENTS, folder)
    return folder


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    """A file-backed SQLite engine (so a failed transaction can be checked from a new connection)."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}", future=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[TelegramStandIn]:
    """The local stand-in of the Telegram Bot API (records every call the bot makes)."""
    standin = TelegramStandIn(token=TELEGRAM_TEST_TOKEN, username=TELEGRAM_TEST_BOT).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def chat_servers(tmp_path_factory, telegram_api) -> Iterator[RasaServers]:
    """What `make run` starts (scripts/serve.sh: the action server and the Rasa server with the channels
    of credentials.yml: REST, socket.io with session persistence), plus Telegram pointed at the
    stand-in, and the retention purge every PURGE_INTERVAL_S seconds. One for the whole test session
    (the channel, end-to-end and security tests), since loading the model is the slow part; every
    test names its own senders, so none sees another's conversations. The tests that need a server
    configured otherwise (the API on, a broken condition store, a restart) start their own."""
    folder = tmp_path_factory.mktemp("chat-servers")
    credentials = write_credentials_with_telegram(folder / "credentials.yml", telegram_api.url)
    running = RasaServers(folder, credentials=credentials, env={"RETENTION_PURGE_INTERVAL": str(PURGE_INTERVAL_S)})
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def scaled_layout() -> Iterator[ScaledLayout]:
    """The scaled layout (scripts/scale-up.sh) under a temporary state folder, once per test session
    (tests/scale and tests/security): use ``scaled``, which brings back what an earlier test stopped."""
    require(services=True)
    root = Path(tempfile.mkdtemp(prefix="clinic-scale-"))
    root.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its data directory
    layout = ScaledLayout(root)
    try:
        layout.startup_s = layout.up()
        yield layout
    finally:
        layout.down()
        leftovers = layout.listening()
        shutil.rmtree(root, ignore_errors=True)
        assert not leftovers, f"scale-down left servers listening on {leftovers}"


@pytest.fixture
def scaled(scaled_layout: ScaledLayout) -> ScaledLayout:
    """The scaled layout whole: whatever an earlier test stopped is started again first."""
    scaled_layout.ensure_up()
    return scaled_layout
