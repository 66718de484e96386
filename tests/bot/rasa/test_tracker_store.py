"""The tracker store that forgets: on request, and after the retention period."""
from __future__ import annotations

import asyncio
import time

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.tracker_store import PrivateSQLTrackerStore

def conversation(sender: str, *texts: str, at: float | None = None, forget: bool = False) -> DialogueStateTracker:
    events = []
    for text in texts:
        events += [UserUttered(text, timestamp=at), ActionExecuted("action_answer", timestamp=at), BotUttered("answer", timestamp=at), ActionExecuted("action_listen", timestamp=at)]
    if forget:
        events += [UserUttered("delete my conversation", timestamp=at), ActionExecuted("action_forget_conversation", timestamp=at)]
    return DialogueStateTracker.from_events(sender, events)


@pytest.fixture
def tracker_store(tmp_path):
    return PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=30)


def stored(store, sender):
    tracker = asyncio.run(store.retrieve(sender))
    return [] if tracker is None else [e for e in tracker.events if isinstance(e, UserUttered)]


def test_a_conversation_is_kept_until_the_user_asks_to_forget_it(tracker_store):
    asyncio.run(tracker_store.save(conversation("alice", "what causes hip pain")))
    asyncio.run(tracker_store.save(conversation("bob", "what is lupus")))
    assert [e.text for e in stored(tracker_store, "alice")] == ["what causes hip pain"]
    asyncio.run(tracker_store.save(conversation("alice", "what causes hip pain", forget=True)))
    assert stored(tracker_store, "alice") == []
    assert [e.text for e in stored(tracker_store, "bob")] == ["what is lupus"]


def test_conversations_older_than_the_retention_period_are_purged(tracker_store):
    old = time.time() - 31 * 86400
    asyncio.run(tracker_store.save(conversation("old", "what causes bone pain", at=old)))
    asyncio.run(tracker_store.save(conversation("recent", "what causes bone pain")))
    assert tracker_store.purge_expired() == 1
    assert stored(tracker_store, "old") == []
    assert stored(tracker_store, "recent")
