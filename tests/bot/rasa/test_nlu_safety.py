"""The NLU safety component: a red flag or a restricted request overrides the classifier."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.nlu_safety import SafetyIntentOverride, is_payload


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
    assert message.get("safety")["category"]  # passed on, so the action need not screen again


@pytest.mark.parametrize("text", ["what causes hip pain", "can lupus cause chest pain?", "I don't have a fever", "/ask_stress", '/inform{"condition": "lupus"}', ""])
def test_ordinary_messages_and_payloads_keep_their_intent(text):
    [message] = SafetyIntentOverride().process([classified(text)])
    assert message.get("intent")["name"] == "ask_conditions_for_pain"




def test_a_message_that_only_starts_like_a_payload_is_screened():
    assert is_payload("/ask_stress") and is_payload('/inform{"pain_type":"hip"}')
    assert not is_payload("/ chest pain and I can't breathe")
    [message] = SafetyIntentOverride().process([classified("/ my chest is crushing and i can't breathe")])
    assert message.get("intent")["name"] == "emergency"


def test_an_urgent_finding_keeps_the_intent_and_is_passed_on():
    text = "i'm on methotrexate and since last night i have a fever of 38.5, how is RA treated?"
    [message] = SafetyIntentOverride().process([classified(text, "ask_treatment")])
    assert message.get("intent")["name"] == "ask_treatment"
    assert message.get("safety")["kind"] == "urgent"


def test_the_override_has_the_last_word_over_an_ambiguous_classifier():
    """With a second intent within the ambiguity threshold, a fallback placed after the override
    would turn the red flag into "did you mean": config.yml runs the override last."""
    from pathlib import Path

    import yaml
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    pipeline = yaml.safe_load((Path(__file__).resolve().parents[3] / "config.yml").read_text())["pipeline"]
    names = [step["name"] for step in pipeline]
    assert names[-1] == "bot.rasa.nlu_safety.SafetyIntentOverride"
    fallback = next(step for step in pipeline if step["name"] == "FallbackClassifier")
    message = classified("what's the treatment for RA? also crushing chest pain right now and can't breathe", "ask_treatment", 0.95)
    message.set("intent_ranking", [{"name": "ask_treatment", "confidence": 0.95}, {"name": "emergency", "confidence": 0.04}])
    config = {**FallbackClassifier.get_default_config(), **{k: v for k, v in fallback.items() if k != "name"}}
    [message] = SafetyIntentOverride().process(FallbackClassifier(config).process([message]))
    assert message.get("intent") == {"name": "emergency", "confidence": 1.0}
