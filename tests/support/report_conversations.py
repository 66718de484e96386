"""Scripted conversations for the staff report (bot/report.py): its tests, its benchmark and the README
screenshot.

Each patient message runs the real action (actions/actions.py, over a real composer) the way the action
server runs it, and the turn is recorded as the Rasa server records it: the user event with its
parse data, ``ActionExecuted`` for the action, the action's messages as ``BotUttered`` (Rasa's own
``create_bot_utterance``) and its events, then ``action_listen``. The two-stage fallback is recorded as
Rasa 3.6 records it: only ``action_two_stage_fallback`` with its loop events, and a reading chosen after
"Did you mean ...?" as a reverted message followed by its replay.

Alongside, each conversation says what the report must count for it (``Expect``), written from the
script, not from the events.
"""
from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot.answers import AnswerComposer
from bot.topics import topic_for_intent

TWO_STAGE = "action_two_stage_fallback"
LISTEN = "action_listen"
SLOTS = ("condition", "pain_type", "last_topic", "not_covered")


@dataclass
class Expect:
    """One question as the report must count it."""

    at: float
    outcome: str  # answered | unanswered | declined
    topic: str
    text: str  # as the report shows it (masked)
    reason: Optional[str] = None
    subject: Optional[str] = None
    typed: bool = True
    confirmed_intent: Optional[str] = None
    sources: Tuple[str, ...] = ()  # the documents the answer cited (from the composer's Reply)
    helpful: Optional[bool] = None
    said_next: Optional[str] = None


@dataclass
class Conversation:
    sender: str
    events: List[Event] = field(default_factory=list)
    expected: List[Expect] = field(default_factory=list)
    escalations: List[float] = field(default_factory=list)
    ratings: List[Tuple[float, bool]] = field(default_factory=list)
    secrets: List[str] = field(default_factory=list)  # words that must never reach the report

    def tracker(self) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(self.sender, self.events)


class Scripter:
    """Writes conversations: ``c = scripter.start(sender, at)``, then ``scripter.ask(c, ...)`` etc.
    Every step takes ``step`` seconds; the real actions' replies are cached per input (the benchmark
    writes thousands of conversations from a few dozen messages)."""

    def __init__(self, composer: AnswerComposer, step: float = 7.0):
        self.composer = composer
        self.step = step
        self._clock: Dict[str, float] = {}
        self._slots: Dict[str, Dict[str, Any]] = {}
        self._pending: Dict[str, Expect] = {}  # "Did you mean" offered for this question
        self._last_answer: Dict[str, Expect] = {}
        self._awaiting: Dict[str, Expect] = {}
        self._offered: Dict[str, List[dict]] = {}
        self._cache: Dict[str, Tuple[List[dict], List[dict], Tuple[str, ...]]] = {}
        self.sources: Tuple[str, ...] = ()  # cited by the latest composed answer

    # -- plumbing ---------------------------------------------------------------------------------
    def _tick(self, c: Conversation) -> float:
        self._clock[c.sender] += self.step
        return self._clock[c.sender]

    def start(self, sender: str, at: float) -> Conversation:
        c = Conversation(sender)
        self._clock[sender] = at
        self._slots[sender] = {}
        messages, events = self._run(actions.ActionSessionStart, c, "", "session_start_probe", {}, [])
        c.events += [ActionExecuted("action_session_start", timestamp=self._tick(c))]
        c.events += self._bot(c, messages)
        c.events += [SessionStarted(timestamp=self._tick(c)), ActionExecuted(LISTEN, timestamp=self._tick(c))]
        return c

    def _user(self, c: Conversation, text: str, intent: str, entities: Dict[str, str], ranking: Sequence[Tuple[str, float]] = (),
              confidence: float = 0.93, safety: Optional[dict] = None) -> UserUttered:
        ranking = list(ranking) or [(intent, confidence)]
        parse = {
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "entities": [{"entity": k, "value": v, "extractor": "DIETClassifier"} for k, v in entities.items()],
            "intent_ranking": [{"name": n, "confidence": p} for n, p in ranking],
        }
        if safety:
            parse["safety"] = safety
        return UserUttered(text, parse["intent"], parse["entities"], parse_data=parse, timestamp=self._tick(c),
                           input_channel="rest", metadata={"sender_name": c.sender})

    def _run(self, action_class, c: Conversation, text: str, intent: str, entities: Dict[str, str],
             ranking: Sequence[Tuple[str, float]], safety: Optional[dict] = None) -> Tuple[List[dict], List[dict]]:
        slots = self._slots[c.sender]
        key = json.dumps([action_class.__name__, text, intent, entities, list(ranking), safety, slots], sort_keys=True)
        if key not in self._cache:
            message = {
                "text": text,
                "intent": {"name": intent, "confidence": 0.9},
                "intent_ranking": [{"name": n, "confidence": p} for n, p in ranking] or [{"name": intent, "confidence": 0.9}],
                "entities": [{"entity": k, "value": v} for k, v in entities.items()],
            }
            if safety:
                message["safety"] = safety
            tracker = Tracker("scripted", dict(slots), message, [], False, None, {}, LISTEN)
            dispatcher = CollectingDispatcher()
            events = asyncio.run(action_class(self.composer).run(dispatcher, tracker, {}))
            sources: Tuple[str, ...] = ()
            if action_class in (actions.ActionAnswer, actions.ActionRestrictedRequest):
                sources = self.composer.respond(actions.question_from(tracker, self.composer)).sources
            self._cache[key] = (dispatcher.messages, events or [], sources)
        messages, events, self.sources = self._cache[key]
        return [dict(m) for m in messages], [dict(e) for e in events]

    def _bot(self, c: Conversation, messages: List[dict]) -> List[Event]:
        out: List[Event] = []
        for message in messages:
            event = create_bot_utterance({k: v for k, v in message.items() if v})
            event.timestamp = self._tick(c)
            out.append(event)
            if message.get("buttons"):
                self._offered[c.sender] = message["buttons"]
        return out

    def _action(self, c: Conversation, name: str, messages: List[dict], events: List[dict], listen: bool = True) -> None:
        c.events.append(ActionExecuted(name, timestamp=self._tick(c)))
        c.events += self._bot(c, messages)
        for event in events:
            converted = Event.from_parameters({**event, "timestamp": self._tick(c)})
            c.events.append(converted)
            if isinstance(converted, SlotSet):
                self._slots[c.sender][converted.key] = converted.value
        if listen:
            c.events.append(ActionExecuted(LISTEN, timestamp=self._tick(c)))

    def _new_message(self, c: Conversation, typed: bool, text: str, at: float, outcome: str) -> None:
        """After a 👎, the next typed message (not an emergency) is what the patient said next."""
        awaiting = self._awaiting.pop(c.sender, None)
        if awaiting is not None and typed and outcome != "emergency":
            awaiting.said_next = text
        self._pending.pop(c.sender, None)

    @staticmethod
    def _is_answer(messages: List[dict]) -> bool:
        return any(str(b.get("payload", "")).startswith("/feedback") for m in messages for b in m.get("buttons") or [])

    # -- what a patient does -------------------------------------------------------------------------
    def ask(self, c: Conversation, text: str, intent: str, entities: Optional[Dict[str, str]] = None, *, expect: str = "answered",
            subject: Optional[str] = None, shown: Optional[str] = None, topic: Optional[str] = None) -> Expect:
        """A question action_answer replies to; ``expect``: answered, or not_covered with its ``subject``."""
        entities = entities or {}
        user = self._user(c, text, intent, entities)
        messages, events = self._run(actions.ActionAnswer, c, text, intent, entities, [])
        answered = self._is_answer(messages)
        assert answered == (expect == "answered"), f"the composer did not answer as scripted: {text!r} -> {messages[0]['text'][:120]!r}"
        if expect == "not_covered":
            got = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}.get("not_covered")
            assert got == subject, f"{text!r}: not_covered is {got!r}, the script says {subject!r}"
        topic = topic or _topic(intent, self._slots[c.sender].get("last_topic"))
        self._new_message(c, not text.startswith("/"), shown or text, user.timestamp, expect)
        c.events.append(user)
        self._action(c, "action_answer", messages, events)
        record = Expect(user.timestamp, "answered" if answered else "unanswered", topic, shown or text,
                        reason=None if answered else "not_covered", subject=None if answered else subject, typed=not text.startswith("/"),
                        sources=self.sources if answered else ())
        c.expected.append(record)
        if answered:
            self._last_answer[c.sender] = record
        return record

    def tap(self, c: Conversation, title: str, expect: str = "answered") -> Expect:
        """A tap on one of the buttons the bot showed last (its payload is the message)."""
        button = next(b for b in self._offered[c.sender] if b["title"] == title)
        intent, _, entities = button["payload"][1:].partition("{")
        values = json.loads("{" + entities) if entities else {}
        return self.ask(c, button["payload"], intent, values, expect=expect, shown=title)

    def restricted(self, c: Conversation, text: str, intent: str, entities: Optional[Dict[str, str]] = None,
                   *, answered: bool) -> Expect:
        """A request for a diagnosis, a dose or a medicine change: refused, with documents (answered) or without (declined)."""
        from bot.safety import default_screen

        entities = entities or {}
        finding = default_screen().screen(text)  # what the NLU's safety component passes on
        safety = {"kind": finding.kind, "category": finding.category} if finding else None
        user = self._user(c, text, intent, entities, safety=safety)
        messages, events = self._run(actions.ActionRestrictedRequest, c, text, intent, entities, [], safety=safety)
        assert self._is_answer(messages) == answered, f"{text!r}: {messages[0]['text'][:100]!r}"
        self._new_message(c, True, text, user.timestamp, "declined")
        c.events.append(user)
        self._action(c, "action_restricted_request", messages, events)
        record = Expect(user.timestamp, "answered" if answered else "declined", intent, text, sources=self.sources if answered else ())
        c.expected.append(record)
        if answered:
            self._last_answer[c.sender] = record
        return record

    def out_of_scope(self, c: Conversation, text: str, shown: Optional[str] = None) -> Expect:
        user = self._user(c, text, "out_of_scope", {})
        messages, events = self._run(actions.ActionOutOfScope, c, text, "out_of_scope", {}, [])
        assert messages[0]["text"].startswith("Sorry, that's outside"), (
            f"out of scope {text!r} (conversation slots {self._slots[c.sender]}) got {messages[0]['text'][:80]!r}, not the decline")
        self._new_message(c, True, shown or text, user.timestamp, "unanswered")
        c.events.append(user)
        self._action(c, "action_out_of_scope", messages, events)
        record = Expect(user.timestamp, "unanswered", "out_of_scope", shown or text, reason="out_of_scope")
        c.expected.append(record)
        return record

    def emergency(self, c: Conversation, text: str, category: str = "chest_pain") -> None:
        """A red flag: the safety screen sets the intent; emergency advice only. Counted, never shown."""
        safety = {"kind": "emergency", "category": category}
        user = self._user(c, text, "emergency", {}, safety=safety)
        messages, events = self._run(actions.ActionEmergency, c, text, "emergency", {}, [], safety=safety)
        self._new_message(c, True, text, user.timestamp, "emergency")
        c.events.append(user)
        self._action(c, "action_emergency", messages, events)
        c.escalations.append(user.timestamp)
        c.secrets.append(text)

    def not_understood(self, c: Conversation, text: str, intent: str, shown: Optional[str] = None) -> Expect:
        """The dialogue policy's own fallback (action_default_fallback)."""
        user = self._user(c, text, intent, {}, confidence=0.5)
        messages, events = self._run(actions.ActionDefaultFallback, c, text, intent, {}, [])
        assert messages[0]["text"].startswith("Sorry, I didn't understand"), f"{text!r} got {messages[0]['text'][:80]!r}"
        self._new_message(c, True, shown or text, user.timestamp, "unanswered")
        c.events.append(user)
        self._action(c, "action_default_fallback", messages, events)
        record = Expect(user.timestamp, "unanswered", "nlu_fallback", shown or text, reason="fallback")
        c.expected.append(record)
        return record

    def unsure(self, c: Conversation, text: str, ranking: Sequence[Tuple[str, float]], entities: Optional[Dict[str, str]] = None,
               shown: Optional[str] = None) -> Expect:
        """The classifier is unsure (nlu_fallback): the two-stage fallback asks "Did you mean ...?"."""
        entities = entities or {}
        ranking = [("nlu_fallback", 0.45), *ranking]
        user = self._user(c, text, "nlu_fallback", entities, ranking=ranking)
        messages, events = self._run(actions.ActionDefaultAskAffirmation, c, text, "nlu_fallback", entities, ranking)
        assert messages[0]["text"].startswith("I'm not sure"), f"{text!r} got {messages[0]['text'][:80]!r}, not a did-you-mean"
        self._new_message(c, True, shown or text, user.timestamp, "unanswered")
        c.events.append(user)
        c.events.append(ActionExecuted(TWO_STAGE, timestamp=self._tick(c)))
        c.events.append(ActiveLoop(TWO_STAGE, timestamp=self._tick(c)))
        c.events += self._bot(c, messages)
        c.events.append(ActionExecuted(LISTEN, timestamp=self._tick(c)))
        record = Expect(user.timestamp, "unanswered", "nlu_fallback", shown or text, reason="did_you_mean")
        c.expected.append(record)
        self._pending[c.sender] = record
        return record

    def choose(self, c: Conversation, index: int = 0) -> Expect:
        """The patient taps a reading: Rasa reverts the tap, replays it with confidence 1, and answers it."""
        record = self._pending.pop(c.sender)
        button = self._offered[c.sender][index]
        intent, _, raw = button["payload"][1:].partition("{")
        entities = json.loads("{" + raw) if raw else {}
        tap = self._user(c, button["payload"], intent, entities)
        c.events += [tap, ActionExecuted(TWO_STAGE, timestamp=self._tick(c)), ActiveLoop(None, timestamp=self._tick(c)),
                     UserUtteranceReverted(timestamp=self._tick(c)), ActionExecuted(LISTEN, timestamp=self._tick(c))]
        replay = self._user(c, button["payload"], intent, entities, confidence=1.0)
        c.events.append(replay)
        messages, events = self._run(actions.ActionAnswer, c, button["payload"], intent, entities, [])
        assert self._is_answer(messages), f"the reading {button['title']!r} was not answered"
        self._action(c, "action_answer", messages, events)
        record.outcome, record.reason, record.confirmed_intent = "answered", None, intent
        record.topic = _topic(intent, None)
        record.sources = self.sources
        self._last_answer[c.sender] = record
        return record

    def something_else(self, c: Conversation) -> Expect:
        """The patient taps "Something else": the bot asks to say it another way."""
        record = self._pending.pop(c.sender)
        tap = self._user(c, "/out_of_scope", "out_of_scope", {})
        messages, events = self._run(actions.ActionDefaultAskRephrase, c, "/out_of_scope", "out_of_scope", {}, [])
        c.events += [tap]
        self._action(c, TWO_STAGE, messages, events)
        record.reason = "rephrase"
        return record

    def rephrase_understood(self, c: Conversation, text: str, intent: str, entities: Optional[Dict[str, str]] = None) -> Expect:
        """After "say it another way", a new wording the classifier understands: Rasa reverts and replays
        it, and it is answered (a new question)."""
        entities = entities or {}
        first = self._user(c, text, intent, entities)
        c.events += [first, ActionExecuted(TWO_STAGE, timestamp=self._tick(c)), ActiveLoop(None, timestamp=self._tick(c)),
                     UserUtteranceReverted(timestamp=self._tick(c)), ActionExecuted(LISTEN, timestamp=self._tick(c))]
        return self.ask(c, text, intent, entities)

    def give_up(self, c: Conversation) -> Expect:
        """A second "Did you mean" also refused: the bot gives up (not understood)."""
        record = self._pending.pop(c.sender)
        tap = self._user(c, "/out_of_scope", "out_of_scope", {})
        messages, events = self._run(actions.ActionDefaultFallback, c, "/out_of_scope", "out_of_scope", {}, [])
        c.events += [tap, ActionExecuted(TWO_STAGE, timestamp=self._tick(c)), ActiveLoop(None, timestamp=self._tick(c))]
        c.events += self._bot(c, messages)
        c.events.append(ActionExecuted(LISTEN, timestamp=self._tick(c)))
        record.reason = "fallback"
        return record

    def feedback(self, c: Conversation, helpful: bool) -> None:
        """A tap on 👍 / 👎 under the latest answer."""
        value = "yes" if helpful else "no"
        text = f'/feedback{{"helpful": "{value}"}}'
        user = self._user(c, text, "feedback", {"helpful": value})
        messages, events = self._run(actions.ActionFeedback, c, text, "feedback", {"helpful": value}, [])
        self._new_message(c, False, text, user.timestamp, "other")
        c.events.append(user)
        self._action(c, "action_feedback", messages, events)
        answer = self._last_answer[c.sender]
        answer.helpful = helpful
        c.ratings.append((user.timestamp, helpful))
        if not helpful:
            self._awaiting[c.sender] = answer

    def greet(self, c: Conversation, text: str = "hello") -> None:
        user = self._user(c, text, "greet", {})
        self._new_message(c, True, text, user.timestamp, "other")
        c.events.append(user)
        c.events += [ActionExecuted("utter_greet", timestamp=self._tick(c)),
                     create_bot_utterance({"text": "Hello! What would you like to know about autoimmune conditions and pain?"}),
                     ActionExecuted(LISTEN, timestamp=self._tick(c))]
        c.events[-2].timestamp = self._tick(c)

    def forget(self, c: Conversation) -> None:
        """ "delete my conversation": the tracker store deletes it when it is saved."""
        user = self._user(c, "/forget", "forget", {})
        messages, events = self._run(actions.ActionForgetConversation, c, "/forget", "forget", {}, [])
        c.events.append(user)
        self._action(c, "action_forget_conversation", messages, events, listen=False)


def _topic(intent: str, last_topic: Optional[str]) -> str:
    topic = topic_for_intent(intent)
    if topic is not None:
        return topic.value
    if intent == "inform" and last_topic:
        return last_topic
    return intent


# -- a varied set ------------------------------------------------------------------------------------------
# Questions written for these tests (never copied from an evaluation set).
ANSWERED = [
    ("what causes hip pain", "ask_conditions_for_pain", {"pain_type": "hip"}),
    ("which autoimmune diseases give you bone pain", "ask_conditions_for_pain", {"pain_type": "bone"}),
    ("does lupus cause nerve pain", "ask_condition_causes_pain", {"condition": "lupus", "pain_type": "nerve"}),
    ("what is ankylosing spondylitis", "ask_condition_info", {"condition": "ankylosing spondylitis"}),
    ("how is rheumatoid arthritis treated", "ask_treatment", {"condition": "rheumatoid arthritis"}),
    ("can stress make fibromyalgia worse", "ask_stress", {"condition": "fibromyalgia"}),
    ("why is lupus so hard to diagnose", "ask_diagnosis_difficulty", {"condition": "lupus"}),
]
NOT_COVERED = [
    ("is the flu an autoimmune disease", "ask_condition_info", {}, "the flu"),
    ("can the flu make my joints ache", "ask_condition_causes_pain", {}, "the flu"),
    ("does gout cause ear pain", "ask_condition_causes_pain", {"condition": "gout", "pain_type": "ear"}, "gout"),
    ("what is gout exactly", "ask_condition_info", {"condition": "gout"}, "gout"),
]
OUT_OF_SCOPE = ["what's the weather like tomorrow", "can you recommend a good pizza place", "who won the football last night"]
# Without a condition or a pain in them (the composer answers those at once, unsure or not).
# Their readings are topics the documents answer for every condition (a condition's own topics, such
# as treatment, may be honestly declined for the condition the conversation is about).
UNSURE = [
    ("is that normal for me??", [("ask_diagnosis_difficulty", 0.4), ("ask_when_to_see_doctor", 0.3)], {}),
    ("what about the other thing", [("ask_stress", 0.41), ("ask_when_to_see_doctor", 0.33)], {}),
    ("so it comes and goes, why", [("ask_diagnosis_difficulty", 0.38), ("ask_stress", 0.3)], {}),
]
NOT_UNDERSTOOD = [("blorp snark wibble", "ask_symptoms"), ("??? !!", "greet")]
RESTRICTED = [("how many mg of prednisone should i take", "request_dose", {}, False),
              ("should i stop taking my methotrexate", "request_medication_change", {}, False)]
EMERGENCY = "crushing chest pain and i cannot breathe"


def scripted_set(scripter: Scripter, count: int, now: float, days: int = 10, seed: int = 13, prefix: str = "patient") -> List[Conversation]:
    """``count`` varied conversations over the ``days`` days before ``now`` (deterministic for a seed)."""
    rng = random.Random(seed)
    conversations = []
    for i in range(count):
        at = now - rng.uniform(0.05, days) * 86400
        c = scripter.start(f"{prefix}-{i:05d}-{rng.getrandbits(48):012x}", at)
        if rng.random() < 0.3:
            scripter.greet(c)
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.42:
                text, intent, entities = rng.choice(ANSWERED)
                scripter.ask(c, text, intent, entities)
                if rng.random() < 0.3:
                    helpful = rng.random() < 0.6
                    scripter.feedback(c, helpful)
                    if not helpful and rng.random() < 0.5:
                        scripter.out_of_scope(c, "i wanted to know about my knee brace")
            elif roll < 0.58:
                text, intent, entities, subject = rng.choice(NOT_COVERED)
                scripter.ask(c, text, intent, entities, expect="not_covered", subject=subject)
            elif roll < 0.66:
                scripter.out_of_scope(c, rng.choice(OUT_OF_SCOPE))
            elif roll < 0.82:
                text, ranking, entities = rng.choice(UNSURE)
                scripter.unsure(c, text, ranking, entities)
                then = rng.random()
                if then < 0.4:
                    scripter.choose(c, 0)
                elif then < 0.7:
                    scripter.something_else(c)
                    if rng.random() < 0.5:
                        scripter.rephrase_understood(c, "what causes hip pain", "ask_conditions_for_pain", {"pain_type": "hip"})
            elif roll < 0.88:
                text, intent = rng.choice(NOT_UNDERSTOOD)
                scripter.not_understood(c, text, intent)
            elif roll < 0.95:
                text, intent, entities, answered = rng.choice(RESTRICTED)
                scripter.restricted(c, text, intent, entities, answered=answered)
            else:
                scripter.emergency(c, EMERGENCY)
        conversations.append(c)
    return conversations
