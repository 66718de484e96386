"""Thin rasa-sdk adapters: read the tracker, ask bot.answers.AnswerComposer, send what it composed.

Each action takes its composer in the constructor (tests pass one over an in-memory store); the
action server builds them with no arguments and they use the configured store on first use.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.answers import AnswerComposer, Reply, Topic, default_composer

UMBRELLA = "autoimmune disease"
INTENT_TOPICS = {
    "ask_conditions_for_pain": Topic.CONDITIONS_FOR_PAIN,
    "ask_condition_causes_pain": Topic.CONDITION_CAUSES_PAIN,
    "ask_pain_types": Topic.PAIN_TYPES,
    "ask_condition_info": Topic.CONDITION_INFO,
    "ask_symptoms": Topic.SYMPTOMS,
    "ask_mechanism": Topic.MECHANISM,
    "ask_diagnosis": Topic.DIAGNOSIS,
    "ask_diagnosis_difficulty": Topic.DIAGNOSIS_DIFFICULTY,
    "ask_stress": Topic.STRESS,
    "ask_treatment": Topic.TREATMENT,
    "ask_when_to_see_doctor": Topic.WHEN_TO_SEE_DOCTOR,
}
RESTRICTED_KINDS = {
    "request_diagnosis": "diagnosis_request",
    "request_dose": "dose_request",
    "request_medication_change": "medication_change",
}
# Intents whose missing entity is taken from earlier in the conversation ("what about RA?",
# "can it cause hip pain?"); any other question that names something is about just that.
MERGING_INTENTS = {"inform", "ask_condition_causes_pain"}


class ComposerAction:
    """Mixin for actions that reply through the composer (not an Action itself, so the action
    server does not register it)."""

    def __init__(self, composer: Optional[AnswerComposer] = None):
        self._composer = composer

    @property
    def composer(self) -> AnswerComposer:
        if self._composer is None:
            self._composer = default_composer()
        return self._composer

    @staticmethod
    def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
        buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
        dispatcher.utter_message(text=reply.text, buttons=buttons or None)


def latest_entity(tracker: Tracker, entity: str, composer: Optional[AnswerComposer] = None) -> Optional[str]:
    """The entity's value in the latest message: one the store knows ("nerve" rather than a stray
    "burning" from "burning nerve pain"), and a specific condition rather than the umbrella."""
    values = [v for v in tracker.get_latest_entity_values(entity) if isinstance(v, str) and v.strip()]
    if composer is not None and len(values) > 1:
        resolve = composer.store.resolve_condition if entity == "condition" else composer.store.resolve_pain_type
        values = [v for v in values if resolve(v)] or values
    specific = [v for v in values if v.lower() != UMBRELLA]
    return (specific or values or [None])[0]


class ActionAnswer(ComposerAction, Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        intent = tracker.get_intent_of_latest_message() or "inform"
        condition = latest_entity(tracker, "condition", self.composer)
        pain = latest_entity(tracker, "pain_type", self.composer)
        if intent in MERGING_INTENTS or (condition is None and pain is None):
            condition = condition or tracker.get_slot("condition")
            pain = pain or tracker.get_slot("pain_type")
        topic = INTENT_TOPICS.get(intent) or _follow_up_topic(tracker.get_slot("last_topic"), condition, pain)
        reply = self.composer.answer(topic, condition, pain)
        self.send(dispatcher, reply)
        return [
            SlotSet("condition", reply.condition or condition),
            SlotSet("pain_type", reply.pain_type or pain),
            SlotSet("last_topic", topic.value),
        ]


def _follow_up_topic(last_topic: Optional[str], condition: Optional[str], pain: Optional[str]) -> Topic:
    if last_topic:
        return Topic(last_topic)
    return Topic.CONDITIONS_FOR_PAIN if pain and not condition else Topic.CONDITION_INFO


class ActionCapabilities(ComposerAction, Action):
    def name(self) -> Text:
        return "action_capabilities"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.capabilities())
        return []


class ActionOutOfScope(ComposerAction, Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.out_of_scope())
        return []


class ActionContact(ComposerAction, Action):
    def name(self) -> Text:
        return "action_contact"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.contact())
        return []


class ActionEmergency(ComposerAction, Action):
    def name(self) -> Text:
        return "action_emergency"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        from bot.safety import default_screen

        finding = default_screen().red_flag(tracker.latest_message.get("text") or "")
        self.send(dispatcher, self.composer.emergency(finding.category if finding else None))
        return []


class ActionRestrictedRequest(ComposerAction, Action):
    def name(self) -> Text:
        return "action_restricted_request"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        kind = RESTRICTED_KINDS.get(tracker.get_intent_of_latest_message() or "", "diagnosis_request")
        condition = latest_entity(tracker, "condition", self.composer) or tracker.get_slot("condition")
        self.send(dispatcher, self.composer.restricted(kind, condition, latest_entity(tracker, "pain_type", self.composer)))
        return []


class ActionForgetConversation(ComposerAction, Action):
    """Says so; the tracker store (bot.rasa.tracker_store) then deletes the whole conversation."""

    def name(self) -> Text:
        return "action_forget_conversation"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.forgotten())
        return []


class ActionDefaultFallback(ComposerAction, Action):
    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.not_understood())
        return []


class ActionDefaultAskAffirmation(ComposerAction, Action):
    """Two-stage fallback, stage one: "Did you mean ...?" with the likeliest intent as a button."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        ranking = [i for i in tracker.latest_message.get("intent_ranking", []) if i.get("name") != "nlu_fallback"]
        entities = {e["entity"]: e["value"] for e in tracker.latest_message.get("entities", []) if isinstance(e.get("value"), str)}
        self.send(dispatcher, self.composer.did_you_mean(ranking[0]["name"] if ranking else "", entities))
        return []


class ActionDefaultAskRephrase(ComposerAction, Action):
    """Two-stage fallback, stage two: the user said it was something else."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.ask_rephrase())
        return []


class ActionSessionStart(ComposerAction, Action):
    """Every conversation starts by saying what the bot is for and that it is not for emergencies."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.welcome())
        return [SessionStarted(), ActionExecuted("action_listen")]
