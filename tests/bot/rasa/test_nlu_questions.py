"""The NLU component that keeps a real question out of small talk."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.nlu_questions import QuestionsAreNotSmallTalk


def ranked(text: str, *ranking: tuple) -> Message:
    message = Message(data={"text": text})
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message.set("intent", intents[0], add_to_output=True)
    message.set("intent_ranking", intents, add_to_output=True)
    return message


@pytest.mark.parametrize(
    "text, small_talk",
    [
        ("Will the swelling go away or will it get worse?", "goodbye"),
        ("okay, and can a heat pad help too?", "affirm"),
        ("Thanks. What does the sacroiliac joint do?", "thanks"),
        ("hi, why do my hips hurt in the morning?", "greet"),
    ],
)
def test_a_question_of_several_words_takes_the_next_reading(text, small_talk):
    [message] = QuestionsAreNotSmallTalk().process([ranked(text, (small_talk, 0.61), ("thanks", 0.2), ("ask_treatment", 0.12), ("out_of_scope", 0.07))])
    assert message.get("intent") == {"name": "ask_treatment", "confidence": 0.12}
    assert [i["name"] for i in message.get("intent_ranking")] == ["ask_treatment", "out_of_scope"]


@pytest.mark.parametrize("text", ["thanks!", "bye", "yes please", "is that all?", "no thank you", "/affirm", "ok. thanks a lot"])
def test_small_talk_stays_small_talk(text):
    [message] = QuestionsAreNotSmallTalk().process([ranked(text, ("affirm", 0.9), ("ask_treatment", 0.1))])
    assert message.get("intent")["name"] == "affirm"


def test_a_medical_intent_is_left_alone():
    [message] = QuestionsAreNotSmallTalk().process([ranked("how is lupus treated?", ("ask_treatment", 0.9), ("goodbye", 0.1))])
    assert message.get("intent")["name"] == "ask_treatment"
