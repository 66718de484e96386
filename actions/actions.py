"""Thin rasa-sdk adapters: read the tracker, ask bot.answers.AnswerComposer, send what it composed.

Each action takes its composer in the constructor (tests pass one over an in-memory store); the
action server builds them with no arguments and they use the configured store on first use.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from spacy.lang.en.stop_words import STOP_WORDS

from bot.answers import AnswerComposer, Button, Question, Reply, default_composer
from bot.questions import is_payload, question_parts, shouting
from bot.topics import INFORM_INTENT, RESTRICTED_INTENTS, Topic, topic_for_intent

UMBRELLA = "autoimmune disease"
SAFETY_KEY = "safety"
FORGET_SLOT = "delete_conversation"  # bot.rasa.tracker_store deletes a conversation in which this is set  # where the NLU safety component (bot.rasa.nlu_safety) puts its finding
# Intents whose missing entity is taken from earlier in the conversation ("what about RA?",
# "can it cause hip pain?"); any other question that names something is about just that.
MERGING_INTENTS = {INFORM_INTENT, "ask_condition_causes_pain"}
#: Above config.yml's fallback threshold (0.45) but below this, the classifier's reading is unsure: the
#: composer lets the question's own cue words settle the topic (bot.answers.Question.unsure).
UNSURE_CONFIDENCE = 0.6


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
        buttons = [{"title": b.title, "payload": payload(b)} for b in reply.buttons]
        dispatcher.utter_message(text=reply.text, buttons=buttons or None)


def payload(button: Button) -> str:
    """Rasa's payload for a button: "/intent" or '/intent{"entity": "value"}'."""
    entities = {name: value for name, value in button.entities if value}
    return f"/{button.intent}{json.dumps(entities)}" if entities else f"/{button.intent}"


def entity_values(tracker: Tracker, entity: str, composer: Optional[AnswerComposer] = None) -> Tuple[str, ...]:
    """The entity's values in the latest message: the ones the store knows first ("nerve" rather
    than a stray "burning" from "burning nerve pain"), and specific conditions before the umbrella.
    A short abbreviation that is also an English word ("as", "ms") counts only in capitals ("AS")."""
    text = tracker.latest_message.get("text") or ""
    values = [
        e["value"] for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == entity and isinstance(e.get("value"), str) and e["value"].strip() and not _lower_case_word(e, text)
    ]
    values = list(dict.fromkeys(values))  # "hip hip hip ..." is one value, looked up once
    if composer is not None and len(values) > 1:
        resolve = composer.store.resolve_condition if entity == "condition" else composer.store.resolve_pain_type
        values = sorted(values, key=lambda v: resolve(v) is None)
    return tuple(sorted(values, key=lambda v: v.lower() == UMBRELLA))


def _lower_case_word(entity: Dict[str, Any], text: str) -> bool:
    start, end = entity.get("start"), entity.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return False
    written = text[start:end]
    return len(written) <= 3 and (not written.isupper() or shouting(text)) and written.lower() in STOP_WORDS


def latest_entity(tracker: Tracker, entity: str, composer: Optional[AnswerComposer] = None) -> Optional[str]:
    return next(iter(entity_values(tracker, entity, composer)), None)


def question_from(tracker: Tracker, composer: AnswerComposer, topic: Optional[Topic] = None) -> Question:
    """The latest message as the composer's Question: its words, what the NLU found in them, and the
    conversation so far."""
    intent = tracker.get_intent_of_latest_message() or INFORM_INTENT
    last_topic = tracker.get_slot("last_topic")
    safety = tracker.latest_message.get(SAFETY_KEY) or {}
    return Question(
        text=tracker.latest_message.get("text") or "",
        topic=topic or topic_for_intent(intent),
        conditions=entity_values(tracker, "condition", composer),
        pains=entity_values(tracker, "pain_type", composer),
        context_condition=tracker.get_slot("condition"),
        context_pain=tracker.get_slot("pain_type"),
        last_topic=Topic(last_topic) if last_topic in {t.value for t in Topic} else None,
        follow_up=intent in MERGING_INTENTS,
        urgent=safety.get("category") if safety.get("kind") == "urgent" else None,
        restricted=RESTRICTED_INTENTS.get(intent),
        unsure=_confidence(tracker) < UNSURE_CONFIDENCE,
    )


def _confidence(tracker: Tracker) -> float:
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    return float(confidence) if isinstance(confidence, (int, float)) else 1.0


def remember(reply: Reply, question: Question) -> List[EventType]:
    topic = question.topic or question.last_topic
    events: List[EventType] = [SlotSet("condition", reply.condition), SlotSet("pain_type", reply.pain_type),
                               SlotSet("not_covered", reply.not_covered)]
    if topic is not None:
        events.append(SlotSet("last_topic", topic.value))
    return events


class ActionAnswer(ComposerAction, Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        question = question_from(tracker, self.composer)
        reply = self.composer.respond(question)
        self.send(dispatcher, reply)
        return remember(reply, question)


class ActionCapabilities(ComposerAction, Action):
    def name(self) -> Text:
        return "action_capabilities"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        question = question_from(tracker, self.composer)
        if question_parts(question.text) and not is_payload(question.text):
            # "Okay can Monistat help too?" read as "what can you help with": a subject the documents
            # don't cover is declined by name
            clear = self.composer.answer_if_clear(replace(question, topic=None))
            if clear is not None and clear.not_covered:
                self.send(dispatcher, clear)
                return remember(clear, question)
        self.send(dispatcher, self.composer.capabilities())
        return []


class ActionOutOfScope(ComposerAction, Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        question = question_from(tracker, self.composer)
        reply = self.composer.out_of_scope(question)
        self.send(dispatcher, reply)
        return remember(reply, question) if reply.medical or reply.not_covered else []


class ActionContact(ComposerAction, Action):
    def name(self) -> Text:
        return "action_contact"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.contact())
        return []


class ActionEmergency(ComposerAction, Action):
    def name(self) -> Text:
        return "action_emergency"

    #: Below this, an emergency only the classifier saw (no red-flag rule fired) is told as "if this is
    #: an emergency, call ..." before the answer, instead of replacing it ("what is the treatment for thrush?").
    SURE_CONFIDENCE = 0.9

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        finding = tracker.latest_message.get(SAFETY_KEY) or {}
        text = tracker.latest_message.get("text") or ""
        if finding or _confidence(tracker) >= self.SURE_CONFIDENCE or is_payload(text) or not text.strip():
            self.send(dispatcher, self.composer.emergency(finding.get("category")))
            return []
        ranking = tracker.latest_message.get("intent_ranking", [])
        topics = [t for t in (topic_for_intent(i.get("name")) for i in ranking) if t is not None]
        question = question_from(tracker, self.composer, topic=topics[0] if topics else None)
        reply = self.composer.emergency_first(self.composer.did_you_mean(topics, question))
        self.send(dispatcher, reply)
        return remember(reply, question) if reply.medical or reply.not_covered else []


class ActionRestrictedRequest(ComposerAction, Action):
    """Declines the restricted part (a diagnosis, a dose, a medicine change) and answers the rest."""

    SURE_CONFIDENCE = 0.8

    def name(self) -> Text:
        return "action_restricted_request"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        question = question_from(tracker, self.composer)
        if question.restricted is None:  # reached by a rule on another intent: decline a diagnosis
            question = replace(question, restricted="diagnosis_request")
        confirmed = tracker.latest_message.get(SAFETY_KEY) or is_payload(question.text)
        confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
        if not confirmed:
            # Only the classifier read a request into it: a medicine or subject our documents don't
            # cover ("side effects of doxycycline?") gets its honest decline, not a refusal.
            clear = self.composer.answer_if_clear(replace(question, restricted=None))
            if clear is not None and clear.not_covered:
                self.send(dispatcher, clear)
                return remember(clear, question)
        if not confirmed and confidence < self.SURE_CONFIDENCE:
            # Only the classifier thought so, and not firmly: answer the likeliest question instead
            # (the composer never diagnoses, doses or changes a medicine in any answer).
            ranking = tracker.latest_message.get("intent_ranking", [])
            topics = [t for t in (topic_for_intent(i.get("name")) for i in ranking) if t is not None]
            question = replace(question, restricted=None, topic=topics[0] if topics else None)
        reply = self.composer.respond(question)
        self.send(dispatcher, reply)
        return [SlotSet("condition", reply.condition or question.context_condition)]


class ActionForgetConversation(ComposerAction, Action):
    """A clear request (the button, or a short message the classifier is sure of) sets
    ``delete_conversation``, and the tracker store (bot.rasa.tracker_store) deletes the whole
    conversation instead of saving it; anything less asks the patient to confirm first, so a long
    question misread as "forget me" never wipes a conversation."""

    SURE_CONFIDENCE = 0.9
    SURE_MAX_WORDS = 12

    def name(self) -> Text:
        return "action_forget_conversation"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        message = tracker.latest_message
        text = (message.get("text") or "").strip()
        confidence = float((message.get("intent") or {}).get("confidence") or 0.0)
        if not is_payload(text):
            # A question misread as "forget me" ("do you have information about vitamin A") gets its
            # answer when its words make it clear, with the delete button still offered; a short
            # request the classifier is sure of and that names no subject deletes; anything else asks.
            question = question_from(tracker, self.composer)
            clear = self.composer.answer_if_clear(question)
            confirm = self.composer.confirm_forget()
            if clear is not None:
                self.send(dispatcher, replace(clear, buttons=clear.buttons + confirm.buttons[:1]))
                return remember(clear, question)
            if confidence < self.SURE_CONFIDENCE or len(text.split()) > self.SURE_MAX_WORDS:
                self.send(dispatcher, confirm)
                return []
        self.send(dispatcher, self.composer.forgotten())
        return [SlotSet(FORGET_SLOT, True)]


class ActionFeedback(ComposerAction, Action):
    """A tap on "Was this helpful?": recorded in the conversation (its user event) and thanked."""

    def name(self) -> Text:
        return "action_feedback"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        value = (latest_entity(tracker, "helpful") or "").strip().lower()
        helpful = {"yes": True, "no": False}.get(value)
        self.send(dispatcher, self.composer.feedback(helpful))
        return []


class ActionDefaultFallback(ComposerAction, Action):
    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        question = question_from(tracker, self.composer)
        reply = self.composer.not_understood(question)
        self.send(dispatcher, reply)
        return remember(reply, question) if reply.medical or reply.not_covered else []


class ActionDefaultAskAffirmation(ComposerAction, Action):
    """Two-stage fallback, stage one: the composer answers or declines when the words make it clear,
    else offers the two likeliest readings in the patient's terms."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking", [])
        topics = [t for t in (topic_for_intent(i.get("name")) for i in ranking) if t is not None]
        question = question_from(tracker, self.composer, topic=topics[0] if topics else None)
        reply = self.composer.did_you_mean(topics, question)
        self.send(dispatcher, reply)
        return remember(reply, question) if reply.medical or reply.not_covered else []


class ActionDefaultAskRephrase(ComposerAction, Action):
    """Two-stage fallback, stage two: the user said it was something else."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        self.send(dispatcher, self.composer.ask_rephrase())
        return []


SESSION_START_INTENT = "session_start"  # Rasa's own intent for "/session_start"


class ActionSessionStart(ComposerAction, Action):
    """Every conversation starts by saying what the bot is for and that it is not for emergencies."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        if not _welcomed_this_turn(tracker):
            self.send(dispatcher, self.composer.welcome())
        return [SessionStarted(), ActionExecuted("action_listen")]


def _welcomed_this_turn(tracker: Tracker) -> bool:
    """A client that opens with "/session_start" starts a session twice: Rasa's for the new sender,
    then the payload's own. The welcome of the first is already on screen."""
    if (tracker.latest_message.get("intent") or {}).get("name") != SESSION_START_INTENT:
        return False
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    before = events[: users[-1]] if users else events
    for event in reversed(before):
        if event.get("event") == "user":
            return False
        if event.get("event") == "session_started":
            return True
    return False
