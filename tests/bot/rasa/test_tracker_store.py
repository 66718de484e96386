"""The tracker store that forgets: on request (and says whether it could), after the retention period
(in batches, on a timer), and without leaving the deleted words in the SQLite files."""
from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from bot.rasa.tracker_store import PrivateSQLTrackerStore, pop_forget_outcome


def conversation(sender: str, *texts: str, at: float | None = None, forget: bool = False) -> DialogueStateTracker:
    events = []
    for text in texts:
        events += [UserUttered(text, timestamp=at), ActionExecuted("action_answer", timestamp=at), BotUttered("answer", timestamp=at), ActionExecuted("action_listen", timestamp=at)]
    if forget:
        events += [UserUttered("delete my conversation", timestamp=at), ActionExecuted("action_forget_conversation", timestamp=at),
                   SlotSet("delete_conversation", True, timestamp=at)]
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
    assert pop_forget_outcome("alice") is None  # nobody asked yet
    asyncio.run(tracker_store.save(conversation("alice", "what causes hip pain", forget=True)))
    assert pop_forget_outcome("alice") is True
    assert pop_forget_outcome("alice") is None  # told once
    assert stored(tracker_store, "alice") == []
    assert [e.text for e in stored(tracker_store, "bob")] == ["what is lupus"]


def test_a_failed_delete_is_reported_not_swallowed(tracker_store, monkeypatch):
    asyncio.run(tracker_store.save(conversation("carol", "what causes back pain")))

    def broken(_sender):
        raise OSError("disk full")

    monkeypatch.setattr(tracker_store, "delete_conversation", broken)
    asyncio.run(tracker_store.save(conversation("carol", "what causes back pain", forget=True)))  # does not raise
    assert pop_forget_outcome("carol") is False
    assert [e.text for e in stored(tracker_store, "carol")] == ["what causes back pain"]


@pytest.mark.parametrize("checkpointed", [False, True], ids=["words-in-the-wal", "words-in-the-database-file"])
def test_deleted_words_are_not_left_in_the_database_files(tmp_path, checkpointed):
    """secure_delete zeroes the freed pages and the WAL is checkpointed and truncated: the words are in
    no file of the database afterwards (without either, they stay readable with `strings`)."""
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=30)
    phrase = f"quokka{uuid.uuid4().hex}"
    long_text = f"{phrase} " + "my knees hurt every morning " * 400  # spills into overflow pages
    asyncio.run(store.save(conversation("dave", f"{phrase} hip pain", long_text)))
    asyncio.run(store.save(conversation("erin", "what is lupus")))
    if checkpointed:  # as SQLite does by itself on a busy server: the words move into tracker.db
        with sqlite3.connect(tmp_path / "tracker.db") as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert phrase.encode() in (tmp_path / "tracker.db").read_bytes()
    files = lambda: [p for p in tmp_path.iterdir() if p.name.startswith("tracker.db")]  # noqa: E731
    assert any(phrase.encode() in p.read_bytes() for p in files())
    asyncio.run(store.save(conversation("dave", f"{phrase} hip pain", long_text, forget=True)))
    assert pop_forget_outcome("dave") is True
    assert [p.name for p in files() if phrase.encode() in p.read_bytes()] == []
    assert [e.text for e in stored(store, "erin")] == ["what is lupus"]
    with store.engine.connect() as connection:  # on by default in Debian's SQLite build, not in every build
        assert connection.exec_driver_sql("PRAGMA secure_delete").fetchone()[0] == 1


def test_conversations_older_than_the_retention_period_are_purged(tracker_store):
    old = time.time() - 31 * 86400
    asyncio.run(tracker_store.save(conversation("old", "what causes bone pain", at=old)))
    asyncio.run(tracker_store.save(conversation("recent", "what causes bone pain")))
    assert tracker_store.purge_expired() == 1
    assert stored(tracker_store, "old") == []
    assert stored(tracker_store, "recent")


def test_the_purge_deletes_in_batches(tracker_store):
    old = time.time() - 40 * 86400
    for i in range(7):
        asyncio.run(tracker_store.save(conversation(f"old-{i}", "what causes joint pain", at=old)))
    tracker_store.PURGE_BATCH = 3
    deletes = []

    @event.listens_for(tracker_store.engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(len(parameters))

    assert tracker_store.purge_expired() == 7
    assert deletes and max(deletes) <= 3 and len(deletes) == 3  # 3 + 3 + 1, never one IN of them all
    assert all(stored(tracker_store, f"old-{i}") == [] for i in range(7))


def test_the_purge_also_runs_on_a_timer(tmp_path, monkeypatch):
    """Inside a server (an event loop runs), expired conversations go without anyone saving anything."""
    monkeypatch.setenv("RETENTION_PURGE_INTERVAL", "0.2")

    async def scenario() -> tuple:
        store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=30)
        await store.save(conversation("stale", "what causes nerve pain", at=time.time() - 31 * 86400))
        before = await store.retrieve("stale")
        deadline = time.monotonic() + 20
        while await store.retrieve("stale") is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return before, await store.retrieve("stale")

    before, after = asyncio.run(scenario())
    assert before is not None and after is None


def test_a_forget_action_that_only_asked_to_confirm_deletes_nothing(tracker_store):
    tracker = conversation("carol", "what causes hip pain")
    tracker.update(UserUttered("please send me all the news on lupus by mail"))
    tracker.update(ActionExecuted("action_forget_conversation"))  # it asked "Do you want me to delete ...?"
    asyncio.run(tracker_store.save(tracker))
    assert [e.text for e in stored(tracker_store, "carol")][-1] == "please send me all the news on lupus by mail"
