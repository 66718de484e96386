"""The Rasa adapters: the safety override inside the NLU pipeline and the tracker store that forgets."""
from __future__ import annotations

import asyncio
import time

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_adapters import PrivateSQLTrackerStore, SafetyIntentOverride


def classified(text: str, intent: str = "ask_conditions_for_pain", confidence: float = 0.97) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


@pytest.mark.parametrize(
    "text, intent",
    [
        ("what causes hip pain? also my chest is crushing and i can't breathe", "emergency"),
        ("how many mg of prednisone should I take", "request_dose"),
        ("should I stop taking my methotrexate", "request_medication_change"),
        ("do I have lupus?", "request_diagnosis"),
    ],
)
def test_the_safety_screen_overrides_the_classifier(text, intent):
    [message] = SafetyIntentOverride().process([classified(text)])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == intent


@pytest.mark.parametrize("text", ["what causes hip pain", "can lupus cause chest pain?", "I don't have a fever", "/ask_stress", ""])
def test_ordinary_messages_and_payloads_keep_their_intent(text):
    [message] = SafetyIntentOverride().process([classified(text)])
    assert message.get("intent")["name"] == "ask_conditions_for_pain"


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
