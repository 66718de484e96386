"""The embedded default (scripts/serve.sh + endpoints.yml): SQLite tracker store and SQLite condition
store. A restart of both servers keeps the conversation and its slots."""
from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

pytestmark = pytest.mark.e2e  # real servers


def test_a_restart_keeps_the_conversation_and_its_slots(embedded):
    embedded.build_store()
    first_start = embedded.start()
    sender = f"embedded-{uuid.uuid4().hex[:10]}"

    first = " ".join(embedded.send(sender, "What is rheumatoid arthritis?")).lower()
    assert "rheumatoid arthritis" in first
    assert embedded.slots(sender)["condition"] == "rheumatoid arthritis"

    embedded.stop()
    assert embedded.listening() == []
    second_start = embedded.start()

    # The new processes read the conversation back from the SQLite file ...
    assert embedded.slots(sender)["condition"] == "rheumatoid arthritis"
    # ... and the follow-up ("it") is answered about the condition named before the restart.
    follow_up = " ".join(embedded.send(sender, "Can it cause hip pain?")).lower()
    assert "rheumatoid arthritis" in follow_up and "hip" in follow_up

    with sqlite3.connect(embedded.root / "tracker.db") as db:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    user_turns = [json.loads(data)["text"] for kind, data in rows if kind == "user"]
    assert user_turns == ["What is rheumatoid arthritis?", "Can it cause hip pain?"]
    print(f"\nembedded: start {first_start:.1f} s, restart {second_start:.1f} s, {len(rows)} events in SQLite")
