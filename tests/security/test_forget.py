"""Issue 12, item 6: "delete my conversation" is true when the bot says so.

Before: the bot said "I have deleted this conversation" before the tracker store tried, and Rasa's
fail-safe tracker store swallowed a failed delete; the deleted words stayed in SQLite's write-ahead
log and free pages; the retention purge ran only when some conversation was saved.
(The widget clearing its stored transcript on that reply: tests/channels/test_widget.py.)"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid

import pytest

from bot import texts
from tests.support.servers import REST_PREFIX, SOCKETIO_PREFIX, wait_until
from tests.support.socketio_client import WidgetClient

pytestmark = pytest.mark.e2e


def test_the_deletion_is_confirmed_only_when_it_succeeded(servers):
    sender = f"forget-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "does lupus cause hip pain?")
    assert servers.events(REST_PREFIX + sender)

    # Another process holds the database's write lock: the delete cannot happen now.
    blocker = sqlite3.connect(servers.tracker_db, timeout=30, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        replies = servers.say(sender, "delete my conversation")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    said = [r.get("text") for r in replies]
    assert texts.FORGOTTEN not in said and texts.FORGET_FAILED in said
    assert not any(r.get("forgotten") for r in replies)
    assert servers.events(REST_PREFIX + sender), "nothing was deleted, and the bot said so"

    replies = servers.say(sender, "delete my conversation")
    assert [r.get("text") for r in replies if r.get("forgotten")] == [texts.FORGOTTEN]
    assert servers.events(REST_PREFIX + sender) == []


def test_a_deleted_conversation_leaves_no_words_in_the_database_files(servers):
    phrase = f"okapi{uuid.uuid4().hex[:12]}"

    async def scenario() -> tuple:
        client = WidgetClient(servers.url)
        session_id = await client.connect()
        await client.say(f"my {phrase} hip hurts, what causes hip pain?", until="Source")
        stored = json.dumps(servers.events(SOCKETIO_PREFIX + session_id))
        deleted = await client.say("delete my conversation", until=texts.FORGOTTEN)
        await client.close()
        return session_id, stored, deleted

    session_id, stored, deleted = asyncio.run(scenario())
    assert phrase in stored
    assert [r for r in deleted if r.get("text") == texts.FORGOTTEN] == [{"text": texts.FORGOTTEN, "forgotten": True}]
    assert servers.events(SOCKETIO_PREFIX + session_id) == []
    database_files = [p for p in servers.folder.iterdir() if p.name.startswith("tracker.db")]
    assert database_files and [p.name for p in database_files if phrase.encode() in p.read_bytes()] == []


def test_expired_conversations_are_purged_on_a_timer(servers):
    """An old conversation disappears while nobody writes anything (the purge runs every
    RETENTION_PURGE_INTERVAL seconds: a few in this session's server, see conftest.py)."""
    interval = float(servers.extra_env["RETENTION_PURGE_INTERVAL"])
    stale = f"stale-{uuid.uuid4().hex[:8]}"
    old = time.time() - 400 * 86400
    with sqlite3.connect(servers.tracker_db, timeout=30) as db:
        db.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
                   (stale, "user", old, "greet", None, json.dumps({"event": "user", "timestamp": old, "text": "hello"})))
    assert servers.events(stale)
    wait_until(lambda: servers.events(stale) == [], interval * 15 + 10, "the purge did not run on its timer")
