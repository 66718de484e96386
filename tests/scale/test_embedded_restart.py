"""The embedded default (scripts/serve.sh + endpoints.yml, what `make run` starts): SQLite tracker store
and SQLite condition store. A restart of both servers keeps the conversation and its slots.

The servers are the session's ``chat_servers`` (tests/conftest.py): stopping and starting them again
is the test, so it needs no servers of its own."""
from __future__ import annotations

import uuid

import pytest

from tests.support.servers import REST_PREFIX

pytestmark = pytest.mark.e2e  # real servers


def test_a_restart_keeps_the_conversation_and_its_slots(chat_servers):
    embedded = chat_servers
    sender = f"embedded-{uuid.uuid4().hex[:10]}"

    first = " ".join(r.get("text", "") for r in embedded.say(sender, "What is rheumatoid arthritis?")).lower()
    assert "rheumatoid arthritis" in first
    assert embedded.slots(REST_PREFIX + sender)["condition"] == "rheumatoid arthritis"

    embedded.stop()
    assert embedded.listening() == []
    restart = embedded.start()

    # The follow-up ("it") is answered about the condition named before the restart: the new
    # processes read the conversation back from the SQLite file.
    follow_up = " ".join(r.get("text", "") for r in embedded.say(sender, "Can it cause hip pain?")).lower()
    assert "rheumatoid arthritis" in follow_up and "hip" in follow_up

    events = embedded.events(REST_PREFIX + sender)
    assert [e["text"] for e in events if e["event"] == "user"] == ["What is rheumatoid arthritis?", "Can it cause hip pain?"]
    print(f"\nembedded: restart {restart:.1f} s, {len(events)} events in SQLite")
