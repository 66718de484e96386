"""The NLU component that runs the safety screen (bot.safety, patterns in data/safety/).

It runs on every message last, after the intent classifier and the fallback classifier. A red flag
overrides whatever they said, in any turn, so emergency advice wins over every FAQ intent and over
"did you mean"; requests for a diagnosis, a dose or a medicine change do the same. What was found is passed
on in the parse data under ``safety`` ({"kind", "category"}), so no action screens the text again;
an "urgent today" finding (see a doctor today) is passed on the same way without changing the intent.
"""
from __future__ import annotations

import logging
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.questions import is_payload
from bot.rasa.rule_component import RuleComponent
from bot.topics import SAFETY_INTENTS

log = logging.getLogger(__name__)

#: The parse-data key under which the finding travels to the actions.
SAFETY_KEY = "safety"
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyIntentOverride(RuleComponent):
    def process(self, messages: List[Message]) -> List[Message]:
        from bot.safety import default_screen

        screen = default_screen()
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or is_payload(text):
                continue
            finding = screen.screen(text)
            if finding is None:
                # Not for an ambulance but for a doctor today: the answer goes ahead with that advice first.
                urgent = screen.urgent(text)
                if urgent is not None:
                    log.info("safety: urgent today (%s)", urgent.category)
                    message.set(SAFETY_KEY, {"kind": urgent.kind, "category": urgent.category}, add_to_output=True)
                continue
            override = SAFETY_INTENTS[finding.kind]
            # Category only, never the patient's words: logs must not hold patient text.
            log.info("safety override: %s (%s)", override, finding.category)
            intent = {INTENT_NAME_KEY: override, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [intent] + [i for i in (message.get("intent_ranking") or []) if i.get(INTENT_NAME_KEY) != override]
            message.set(INTENT, intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            message.set(SAFETY_KEY, {"kind": finding.kind, "category": finding.category}, add_to_output=True)
        return messages
