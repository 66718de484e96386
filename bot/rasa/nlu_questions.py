"""The NLU component that keeps a real question out of small talk.

Runs after the intent classifier and before the fallback classifier. The classifier learns greetings,
thanks, yes and no from short messages, and a question it cannot place may land on one of them ("Will
the cyst go away or will it burst?" read as goodbye, "okay can Monistat help too?" as affirm). When a
message holds a question of several words, small-talk intents are taken off the top of the ranking,
so the next reading (or, if it is unsure, the fallback that reads the patient's words) decides.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.questions import is_payload, question_parts
from bot.rasa.rule_component import RuleComponent
from bot.topics import SMALL_TALK_INTENTS

#: "is that all?" may still be small talk; a question this long is not.
MIN_QUESTION_WORDS = 4


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionsAreNotSmallTalk(RuleComponent):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT)
            if intent.get(INTENT_NAME_KEY) not in SMALL_TALK_INTENTS or not isinstance(text, str) or is_payload(text):
                continue
            if not any(len(part.text.split()) >= MIN_QUESTION_WORDS for part in question_parts(text)):
                continue
            ranking = [i for i in message.get(INTENT_RANKING_KEY) or [] if i.get(INTENT_NAME_KEY) not in SMALL_TALK_INTENTS]
            if ranking:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
