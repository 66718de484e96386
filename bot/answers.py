"""The answer composer: the only way a reply is made.

Store facts become a readable answer (lists for "which conditions", quoted explanations for "why/how"),
and every medical answer ends with the source document title(s) and the clinic's disclaimer, added
here in one place so no answer can miss them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

from bot import texts
from bot.clinic import ClinicConfig, default_clinic_config
from bot.store import ConditionRef, ConditionStore, Evidence, PainTypeRef, default_store

MAX_QUOTES = 6  # enough to answer, short enough to read on a phone
MAX_BUTTONS = 6
SPECIFIC_GROUPS = ("autoimmune", "immune-mediated")


class Topic(str, Enum):
    CONDITIONS_FOR_PAIN = "conditions_for_pain"
    CONDITION_CAUSES_PAIN = "condition_causes_pain"
    PAIN_TYPES = "pain_types"
    CONDITION_INFO = "what_is"
    MECHANISM = "mechanism"
    SYMPTOMS = "symptoms"
    DIAGNOSIS = "diagnosis"
    DIAGNOSIS_DIFFICULTY = "diagnosis_difficulty"
    STRESS = "stress"
    TREATMENT = "treatment"
    WHEN_TO_SEE_DOCTOR = "when_to_see_doctor"


TOPIC_INTENTS = {
    Topic.CONDITIONS_FOR_PAIN: "ask_conditions_for_pain",
    Topic.CONDITION_CAUSES_PAIN: "ask_condition_causes_pain",
    Topic.PAIN_TYPES: "ask_pain_types",
    Topic.CONDITION_INFO: "ask_condition_info",
}


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: Tuple[Button, ...] = ()
    sources: Tuple[str, ...] = ()  # document titles cited
    medical: bool = False  # True: carries the disclaimer
    condition: Optional[str] = None  # what the answer was about, for the conversation's memory
    pain_type: Optional[str] = None


@dataclass
class _Draft:
    """A medical answer being written; ``AnswerComposer._medical`` finishes it."""

    lines: List[str] = field(default_factory=list)
    evidence: List[Evidence] = field(default_factory=list)

    def quote(self, evidence: Evidence, name: Optional[str] = None) -> None:
        if name is None and evidence.kind == "list_item" and evidence.heading and len(evidence.heading.split()) <= 4:
            name = evidence.heading  # a short label: "Nerve pain: “Common in multiple sclerosis (MS) and lupus”"
        template = texts.NAMED_QUOTE if name else texts.QUOTE
        self.lines.append(template.format(text=evidence.text, name=name))
        self.evidence.append(evidence)


class AnswerComposer:
    def __init__(self, store: ConditionStore, clinic: ClinicConfig):
        self.store = store
        self.clinic = clinic

    # -- medical answers ----------------------------------------------------------------------
    def answer(self, topic: Topic, condition: Optional[str] = None, pain: Optional[str] = None) -> Reply:
        """Answer a question of ``topic`` about a condition and/or pain type (raw user words are fine)."""
        condition_ref = self.store.resolve_condition(condition) if condition else None
        pain_ref = self.store.resolve_pain_type(pain) if pain else None
        if condition and condition_ref is None:
            return self.no_information(condition)
        if pain and pain_ref is None:
            return self.no_information(pain)
        if condition_ref is not None and condition_ref.group == "umbrella":
            condition_ref = None  # "autoimmune disease" in general
        if pain_ref is not None and condition_ref is None and not self._documented_pain(pain_ref):
            return self.no_information(pain_ref.name, pain_type=pain_ref.key)  # e.g. ear pain
        if topic is Topic.CONDITIONS_FOR_PAIN:
            return self._conditions_for_pain(pain_ref)
        if topic is Topic.CONDITION_CAUSES_PAIN:
            return self._condition_causes_pain(condition_ref, pain_ref)
        if topic is Topic.PAIN_TYPES:
            return self._pain_types(condition_ref)
        return self._facts(topic, condition_ref, pain_ref)

    def _conditions_for_pain(self, pain: Optional[PainTypeRef]) -> Reply:
        if pain is None:
            return self._ask_pain(Topic.CONDITIONS_FOR_PAIN, texts.ASK_WHICH_PAIN)
        results = self.store.conditions_for_pain(pain)
        if not results:
            return self.no_information(pain.name, pain_type=pain.key)
        draft = _Draft([texts.CONDITIONS_FOR_PAIN.format(pain=pain.name)])
        for result in results:
            draft.quote(result.evidence[0], name=_display(result.condition.name))
        return self._medical(draft, pain_type=pain.key)

    def _condition_causes_pain(self, condition: Optional[ConditionRef], pain: Optional[PainTypeRef]) -> Reply:
        if condition is None and pain is not None:
            return self._conditions_for_pain(pain)
        if condition is None:
            return self._ask_condition(Topic.CONDITION_CAUSES_PAIN, texts.ASK_WHICH_CONDITION)
        if pain is None:
            return self._pain_types(condition)
        evidence = self.store.link_evidence(condition, pain)
        if evidence:
            draft = _Draft([texts.CAUSES_PAIN_YES.format(condition=condition.name, pain=pain.name)])
            for item in evidence[:2]:
                draft.quote(item)
            return self._medical(draft, condition=condition.name, pain_type=pain.key)
        others = self.store.pains_for_condition(condition)
        if not others:
            return self.no_information(condition.name, condition=condition.name)
        draft = _Draft([texts.CAUSES_PAIN_NOT_STATED.format(condition=condition.name, pain=pain.name)])
        draft.lines.append(texts.CAUSES_PAIN_OTHER_PAINS.format(condition=condition.name, pains=", ".join(o.pain_type.name for o in others)))
        draft.evidence.extend(o.evidence[0] for o in others)
        return self._medical(draft, condition=condition.name, pain_type=pain.key)

    def _pain_types(self, condition: Optional[ConditionRef]) -> Reply:
        if condition is None:
            pains = self.store.pain_types_with_information()
            if not pains:
                return self.no_information("pain in autoimmune conditions")
            draft = _Draft([texts.PAIN_TYPES_GENERAL])
            for pain in pains:
                results = self.store.conditions_for_pain(pain)
                names = ", ".join(_display(r.condition.name) for r in results[:3])
                draft.lines.append("• " + texts.PAIN_TYPE_CONDITIONS.format(pain=_display(pain.name), conditions=names))
                draft.evidence.extend(r.evidence[0] for r in results[:3])
            return self._medical(draft)
        results = self.store.pains_for_condition(condition)
        if not results:
            return self.no_information(condition.name, condition=condition.name)
        draft = _Draft([texts.PAIN_TYPES_OF_CONDITION.format(condition=condition.name)])
        for result in results:
            draft.quote(result.evidence[0], name=_display(result.pain_type.name))
        return self._medical(draft, condition=condition.name)

    def _facts(self, topic: Topic, condition: Optional[ConditionRef], pain: Optional[PainTypeRef]) -> Reply:
        kind = topic.value
        if condition is not None:
            specific, subject = self.store.facts(kind, condition=condition), condition.name
        elif pain is not None:
            specific, subject = self.store.facts(kind, pain=pain), pain.name
        else:
            specific, subject = [], texts.GENERAL_SUBJECT
        # Statements about autoimmune conditions in general help with lupus or hip pain, but they
        # do not say what lupus is, and they say nothing about gout or osteoporosis.
        wants_general = condition is None or (condition.group in SPECIFIC_GROUPS and topic is not Topic.CONDITION_INFO)
        general = self.store.facts(kind, general=True) if wants_general else []
        specific_quotes = _unique(f.evidence for f in specific)[:MAX_QUOTES]
        general_quotes = [e for e in _unique(f.evidence for f in general) if e.text not in {q.text for q in specific_quotes}]
        # The store ranks what is most to the point first; read it in the documents' own order.
        specific_quotes = _reading_order(specific_quotes)
        general_quotes = _reading_order(general_quotes[: MAX_QUOTES - len(specific_quotes)])
        if not specific_quotes and not general_quotes:
            return self.no_information_on_topic(kind, subject, condition=condition.name if condition else None)
        asked_about_something = condition is not None or pain is not None
        if specific_quotes or not asked_about_something:
            draft = _Draft([texts.FACTS_INTRO[kind].format(subject=subject)])
            for evidence in specific_quotes:
                draft.quote(evidence)
            if specific_quotes and general_quotes:
                draft.lines.append(texts.GENERAL_TOO)
        else:
            draft = _Draft([texts.NO_INFORMATION_TOPIC.format(topic=texts.TOPIC_NAMES[kind], subject=subject), texts.GENERAL_TOO])
        for evidence in general_quotes:
            draft.quote(evidence)
        return self._medical(draft, condition=condition.name if condition else None, pain_type=pain.key if pain else None)

    def _medical(self, draft: _Draft, condition: Optional[str] = None, pain_type: Optional[str] = None) -> Reply:
        """Finish a medical answer: the sources it quoted, then the disclaimer. Nothing else adds them."""
        titles = tuple(dict.fromkeys(e.document for e in draft.evidence))
        template = texts.SOURCES if len(titles) == 1 else texts.SOURCES_MANY
        body = "\n".join(draft.lines + [template.format(titles="; ".join(titles)), self.clinic.disclaimer])
        return Reply(text=body, sources=titles, medical=True, condition=condition, pain_type=pain_type)

    # -- honest gaps and clarifying questions -------------------------------------------------
    def no_information(self, subject: str, condition: Optional[str] = None, pain_type: Optional[str] = None) -> Reply:
        text = "\n".join([texts.NO_INFORMATION_ON.format(subject=subject), self._what_i_cover()])
        return Reply(text=text, buttons=self._example_buttons(), condition=condition, pain_type=pain_type)

    def no_information_on_topic(self, kind: str, subject: str, condition: Optional[str] = None) -> Reply:
        if kind == Topic.CONDITION_INFO.value:
            return self.no_information(subject, condition=condition)
        text = "\n".join([texts.NO_INFORMATION_TOPIC.format(topic=texts.TOPIC_NAMES[kind], subject=subject), self._what_i_cover()])
        return Reply(text=text, buttons=self._example_buttons(), condition=condition)

    def _ask_pain(self, topic: Topic, question: str, condition: Optional[str] = None) -> Reply:
        intent = TOPIC_INTENTS.get(topic, "inform")
        buttons = tuple(
            Button(_display(p.name), _payload(intent, pain_type=p.key, condition=condition))
            for p in self.store.pain_types_with_information()[:MAX_BUTTONS]
        )
        return Reply(text=question, buttons=buttons, condition=condition)

    def _ask_condition(self, topic: Topic, question: str, pain_type: Optional[str] = None) -> Reply:
        intent = TOPIC_INTENTS.get(topic, "inform")
        buttons = tuple(
            Button(_display(c.name), _payload(intent, condition=c.name, pain_type=pain_type))
            for c in self._specific_conditions()[:MAX_BUTTONS]
        )
        return Reply(text=question, buttons=buttons, pain_type=pain_type)

    def _documented_pain(self, pain: PainTypeRef) -> bool:
        return bool(self.store.conditions_for_pain(pain) or self.store.facts(pain=pain))

    def _specific_conditions(self) -> List[ConditionRef]:
        return [c for c in self.store.conditions_with_information() if c.group in SPECIFIC_GROUPS]

    def _what_i_cover(self) -> str:
        pains = ", ".join(p.name for p in self.store.pain_types_with_information())
        conditions = ", ".join(c.name for c in self._specific_conditions()[:6])
        return texts.WHAT_I_COVER.format(pains=pains, conditions=conditions)

    def _example_buttons(self) -> Tuple[Button, ...]:
        return tuple(Button(title, payload) for title, payload in texts.CAPABILITY_EXAMPLES)

    # -- conversation -------------------------------------------------------------------------
    def capabilities(self) -> Reply:
        pains = ", ".join(p.name for p in self.store.pain_types_with_information())
        return Reply(text=texts.CAPABILITIES.format(pains=pains), buttons=self._example_buttons())

    def out_of_scope(self) -> Reply:
        return Reply(text="\n".join([texts.OUT_OF_SCOPE, self._what_i_cover()]), buttons=self._example_buttons())

    def not_understood(self) -> Reply:
        return Reply(text="\n".join([texts.NOT_UNDERSTOOD, self._what_i_cover()]), buttons=self._example_buttons())

    def ask_rephrase(self) -> Reply:
        return Reply(text=texts.ASK_REPHRASE)

    def did_you_mean(self, intent: str, entities: Optional[Dict[str, str]] = None) -> Reply:
        description = texts.INTENT_DESCRIPTIONS.get(intent)
        if description is None:
            return self.not_understood()
        buttons = (
            Button(_display(description), _payload(intent, **(entities or {}))),
            Button(texts.SOMETHING_ELSE, "/out_of_scope"),
        )
        return Reply(text=texts.DID_YOU_MEAN.format(description=description), buttons=buttons)

    def welcome(self) -> Reply:
        return Reply(text=self.clinic.scope_notice)

    def contact(self) -> Reply:
        c = self.clinic
        return Reply(text=texts.CONTACT.format(clinic=c.name, phone=c.phone, email=c.email, hours=c.opening_hours, booking_url=c.booking_url))

    def forgotten(self) -> Reply:
        return Reply(text=texts.FORGOTTEN)

    # -- safety -------------------------------------------------------------------------------
    def emergency(self, category: Optional[str]) -> Reply:
        """Emergency advice only: no FAQ content is mixed into it."""
        c = self.clinic
        template = texts.EMERGENCY_SELF_HARM if category == "self_harm" else texts.EMERGENCY
        return Reply(text=template.format(number=c.emergency_number, advice=c.emergency_advice, crisis_line=c.crisis_line))

    def restricted(self, kind: str, condition: Optional[str] = None, pain: Optional[str] = None) -> Reply:
        """Decline to diagnose, dose or change medicines; add general information where it helps.

        "My hips hurt, could it be lupus?" gets the refusal, then what the documents say about
        which conditions cause hip pain (general information, never a verdict on the person).
        """
        refusal = {
            "diagnosis_request": texts.CANNOT_DIAGNOSE,
            "dose_request": texts.CANNOT_DOSE,
            "medication_change": texts.CANNOT_CHANGE_MEDICINE,
        }[kind]
        condition_ref = self.store.resolve_condition(condition) if condition else None
        if condition_ref is None or condition_ref.group not in SPECIFIC_GROUPS:
            condition_ref = None
        pain_ref = self.store.resolve_pain_type(pain) if pain else None
        draft = _Draft([refusal, texts.GENERAL_INFORMATION_MAY_HELP])
        if kind == "diagnosis_request" and pain_ref is not None and condition_ref is None:
            for result in self.store.conditions_for_pain(pain_ref)[:MAX_QUOTES]:
                draft.quote(result.evidence[0], name=_display(result.condition.name))
        else:
            topic = Topic.SYMPTOMS if kind == "diagnosis_request" else Topic.TREATMENT
            facts = self.store.facts(topic.value, condition=condition_ref) if condition_ref else []
            for evidence in _unique(f.evidence for f in facts or self.store.facts(topic.value, general=True))[:2]:
                draft.quote(evidence)
        if not draft.evidence:
            return Reply(text=refusal)
        return self._medical(draft, condition=condition_ref.name if condition_ref else None, pain_type=pain_ref.key if pain_ref else None)


def _unique(evidence: Iterable[Evidence]) -> List[Evidence]:
    seen: Dict[str, Evidence] = {}
    for item in evidence:
        seen.setdefault(item.text, item)
    return list(seen.values())


def _reading_order(evidence: List[Evidence]) -> List[Evidence]:
    return sorted(evidence, key=lambda e: (e.document_path, e.start))


def _display(name: str) -> str:
    return name[:1].upper() + name[1:]


def _payload(intent: str, **entities: Optional[str]) -> str:
    values = {k: v for k, v in entities.items() if v}
    return f"/{intent}{json.dumps(values)}" if values else f"/{intent}"


@lru_cache(maxsize=1)
def default_composer() -> AnswerComposer:
    """The composer over the configured store and clinic settings (built on first use)."""
    return AnswerComposer(default_store(), default_clinic_config())
