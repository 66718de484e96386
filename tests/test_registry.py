"""The topic registry (bot/topics.py) and the files that must agree with it: domain.yml, the NLU
data, the dialogue rules and data/fact_rules.yml. Adding a topic in one place and not the others fails here."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Set

import yaml

from bot import topics

ROOT = Path(__file__).resolve().parent.parent


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _nlu_intents() -> Set[str]:
    intents = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for item in _yaml(path).get("nlu", []):
            if "intent" in item:
                intents.add(item["intent"])
    return intents


def _rule_actions() -> Dict[str, str]:
    answers = {}
    for path in (ROOT / "data" / "stories").glob("*.yml"):
        for rule in _yaml(path).get("rules", []):
            steps = rule.get("steps", [])
            for first, second in zip(steps, steps[1:]):
                if "intent" in first and "action" in second:
                    answers[first["intent"]] = second["action"]
    return answers


def test_every_registry_intent_is_in_the_domain_has_examples_and_a_rule():
    domain_intents = set(_yaml(ROOT / "domain.yml")["intents"])
    registry = {*topics.topic_intents(), *topics.RESTRICTED_INTENTS, *topics.SAFETY_INTENTS.values(),
                topics.INFORM_INTENT, topics.HUMAN_INTENT, topics.OUT_OF_SCOPE_INTENT}
    assert registry <= domain_intents
    assert registry <= _nlu_intents()
    rules = _rule_actions()
    for intent in topics.topic_intents():
        assert rules.get(intent) == "action_answer", intent
    for intent in topics.RESTRICTED_INTENTS:
        assert rules.get(intent) == "action_restricted_request", intent


def test_every_fact_topic_has_its_fact_kind_and_every_fact_kind_a_topic():
    kinds = set(_yaml(ROOT / "data" / "fact_rules.yml")["fact_kinds"])
    assert set(topics.fact_kinds()) == kinds


def test_every_domain_question_intent_is_known_to_the_registry():
    social = {"greet", "goodbye", "thanks", "bot_challenge", "ask_capabilities", "affirm", "deny", "forget"}
    domain_intents = set(_yaml(ROOT / "domain.yml")["intents"])
    asks = {i for i in domain_intents - social if i.startswith("ask_")}
    assert asks == set(topics.topic_intents())


def test_each_topic_words_its_answer_and_its_did_you_mean():
    for spec in topics.TOPICS:
        assert "{subject}" in spec.introduction and "{subject}" in spec.did_you_mean, spec.topic
        assert spec.cues, spec.topic
        assert topics.topic_for_intent(spec.intent) is spec.topic
