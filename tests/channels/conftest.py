"""Fixtures for the channel tests: one Rasa server per test session serves every channel (socketio,
REST, and Telegram against the local stand-in of the Bot API), since loading the model is the slow
part: the session's ``chat_servers`` and ``telegram_api`` (tests/conftest.py), shared with the
end-to-end and security tests. The server handling itself is tests/support/servers.py.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterable, List, NamedTuple

import pytest
import yaml

from bot.topics import FEEDBACK_INTENT
from tests.support.servers import PROJECT_ROOT, RasaServers


@pytest.fixture(scope="session")
def clinic_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "config" / "clinic.yml").read_text())


@pytest.fixture(scope="session")
def disclaimer(clinic_config) -> str:
    return " ".join(clinic_config["disclaimer"].split())


@pytest.fixture(scope="session")
def channel_servers(chat_servers) -> RasaServers:
    """Action server + Rasa server with the channels of credentials.yml (REST, socketio with session
    persistence) plus Telegram pointed at the stand-in."""
    return chat_servers


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: `make test-prereqs` installs it (apt-get install -y chromium)")
    return path


class Feedback(NamedTuple):
    """One tap on "Was this helpful?" as the tracker store holds it."""

    helpful: str  # the entity's value: "yes" or "no"
    rated: str  # the bot's reply just before the tap (the answer it rates)
    reply: str  # what the bot said to the tap


def feedback_of(events: Iterable[dict]) -> List[Feedback]:
    """The feedback in a stored conversation, in order: each user event whose intent is the feedback
    intent, with the answer it followed and the bot's reply to it."""
    found: List[Feedback] = []
    said: List[str] = []  # the bot's texts since the latest user event
    tap = None
    for event in events:
        if event.get("event") == "user":
            if tap is not None:
                found.append(tap._replace(reply="\n".join(said)))
            parse = event.get("parse_data") or {}
            tap = None
            if (parse.get("intent") or {}).get("name") == FEEDBACK_INTENT:
                value = next((str(e.get("value")) for e in parse.get("entities") or [] if e.get("entity") == "helpful"), "")
                tap = Feedback(helpful=value, rated="\n".join(said), reply="")
            said = []
        elif event.get("event") == "bot" and event.get("text"):
            said.append(event["text"])
    if tap is not None:
        found.append(tap._replace(reply="\n".join(said)))
    return found


@pytest.fixture(scope="session")
def stored_feedback(channel_servers) -> Callable[[str], List[Feedback]]:
    """The feedback the channel servers' tracker store holds for a conversation (sender id as
    stored: "sio:<session>", "tg:<chat id>")."""
    return lambda sender_id: feedback_of(channel_servers.events(sender_id))
