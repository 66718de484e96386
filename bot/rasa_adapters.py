"""The only place where bot/ meets Rasa: a custom NLU component (and, for privacy, a tracker store).

SafetyIntentOverride runs the rule-based safety screen (bot.safety, patterns in data/safety/) on
every message inside the NLU pipeline, after the intent classifier and before the fallback
classifier. A red flag overrides whatever the classifier said, in any turn, so emergency advice
wins over every FAQ intent; requests for a diagnosis, a dose or a medicine change do the same.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

# What the safety screen found -> the intent the dialogue answers it with (see data/stories/rules.yml).
FINDING_INTENTS = {
    "emergency": "emergency",
    "diagnosis_request": "request_diagnosis",
    "dose_request": "request_dose",
    "medication_change": "request_medication_change",
}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyIntentOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyIntentOverride":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.safety import default_screen

        screen = default_screen()
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue  # button payloads ("/intent{...}") are already exact intents
            finding = screen.screen(text)
            if finding is None:
                continue
            override = FINDING_INTENTS[finding.kind]
            # Category only, never the patient's words: logs must not hold patient text.
            log.info("safety override: %s (%s)", override, finding.category)
            intent = {INTENT_NAME_KEY: override, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [intent] + [i for i in (message.get("intent_ranking") or []) if i.get(INTENT_NAME_KEY) != override]
            message.set(INTENT, intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
