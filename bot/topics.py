"""The topic registry: the one table that says, per kind of question, its intent, its fact kind and
how the bot words it. Everything else (the composer, the actions, the NLU safety component) reads
it; ``tests/test_registry.py`` fails when domain.yml, the NLU data or data/fact_rules.yml disagree.

Adding a topic means: a row here, its NLU examples in data/nlu/, and (for a fact topic) a fact kind
in data/fact_rules.yml.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Dict, Optional, Tuple


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


@dataclass(frozen=True)
class TopicSpec:
    topic: Topic
    intent: str
    #: The kind of statement in data/fact_rules.yml this topic quotes; None for the topics answered
    #: from condition-pain links.
    fact_kind: Optional[str]
    #: "Did you mean ...?" in the patient's terms; {subject} is a condition or pain, or the general subject.
    did_you_mean: str
    #: The answer's first line; {subject} as above.
    introduction: str
    #: How "I don't have information on <name> for X" names the topic.
    name: str
    #: The subject when the question names none.
    general_subject: str = "autoimmune conditions"
    #: Words that mark a question of this topic, matched at word starts on lower-case text. Used only
    #: where the classifier does not decide: the second and third question of one message.
    cues: Tuple[str, ...] = ()
    #: The first line when the subject is a pain rather than a condition, where the other reads badly
    #: ("how our documents explain the pain in joint pain").
    pain_introduction: Optional[str] = None


TOPICS: Tuple[TopicSpec, ...] = (
    TopicSpec(Topic.CONDITIONS_FOR_PAIN, "ask_conditions_for_pain", None,
              "Which conditions cause {subject}", "According to our documents, these autoimmune conditions can cause {subject}:",
              "the causes", "pain",
              cues=("what causes", "what could cause", "what can cause", "what might cause", "which conditions", "what conditions", "what diseases", "which diseases", "what autoimmune", "which autoimmune", "reason for")),
    TopicSpec(Topic.CONDITION_CAUSES_PAIN, "ask_condition_causes_pain", None,
              "Whether {subject} can cause pain", "Our documents link {subject} to these kinds of pain:", "the pain it causes",
              "an autoimmune condition",
              cues=("cause", "causing", "linked to", "related to", "lead to", "responsible for", "connected to")),
    TopicSpec(Topic.PAIN_TYPES, "ask_pain_types", None,
              "The kinds of pain {subject} can cause", "According to our documents, {subject} can cause:", "the kinds of pain",
              "autoimmune conditions",
              cues=("kinds of pain", "types of pain", "kind of pain", "type of pain", "what pain", "which pain")),
    TopicSpec(Topic.CONDITION_INFO, "ask_condition_info", "what_is",
              "About {subject}", "Here is how our documents describe {subject}:", "a description",
              cues=("what is", "what are", "what's", "whats", "what does", "meaning of", "definition", "tell me about", "explain what")),
    TopicSpec(Topic.MECHANISM, "ask_mechanism", "mechanism",
              "Why {subject} can cause pain", "Here is how our documents explain the pain in {subject}:", "how the pain arises",
              pain_introduction="Here is how our documents explain {subject}:",
              cues=("why does", "why do", "why is", "why are", "how does", "mechanism", "why it hurts", "better when", "worse when")),
    TopicSpec(Topic.SYMPTOMS, "ask_symptoms", "symptoms",
              "The symptoms of {subject}", "Here is what our documents say about symptoms of {subject}:", "symptoms",
              cues=("symptom", "signs of", "sign of", "is it normal", "feel like")),
    TopicSpec(Topic.DIAGNOSIS, "ask_diagnosis", "diagnosis",
              "Diagnosing {subject}", "Here is what our documents say about diagnosing {subject}:", "diagnosis",
              cues=("diagnos", "test for", "tests for", "tested", "blood test", "blood work", "x-ray", "mri", "scan", "detect")),
    TopicSpec(Topic.DIAGNOSIS_DIFFICULTY, "ask_diagnosis_difficulty", "diagnosis_difficulty",
              "Why {subject} can be hard to diagnose",
              "Here is why {subject} can be difficult to diagnose, according to our documents:", "why diagnosis is difficult",
              cues=("hard to diagnose", "difficult to diagnose", "hard to find", "can't find", "cannot find", "can't seem to find", "takes so long", "misdiagnos", "tests are normal", "tests came back normal")),
    TopicSpec(Topic.STRESS, "ask_stress", "stress",
              "Whether stress matters in {subject}", "Here is what our documents say about stress and {subject}:", "stress",
              cues=("stress", "anxiety", "anxious", "emotional", "psycholog", "worry", "mental health", "depress")),
    TopicSpec(Topic.TREATMENT, "ask_treatment", "treatment",
              "Treating {subject}", "Here is what our documents say about treating and managing {subject}:", "treatment",
              cues=("treat", "cure", "manag", "medication", "medicine", "therap", "relie", "help with", "help in", "helps", "they help", "what can i do", "what can she do", "what can he do", "what can be done", "remed", "exercise", "surgery", "good for")),
    TopicSpec(Topic.WHEN_TO_SEE_DOCTOR, "ask_when_to_see_doctor", "when_to_see_doctor",
              "When to see a doctor about {subject}",
              "Here is what our documents say about when to see a doctor for {subject}:", "when to see a doctor",
              cues=("see a doctor", "see my doctor", "see the doctor", "see a specialist", "see a rheumatologist", "should i go", "should i see", "when to see", "need to see", "seek", "appointment", "urgent care", "emergency room",
                    "looked at", "get it checked", "getting it checked", "how long should i wait")),
)

@dataclass(frozen=True)
class Aspect:
    """A side of a question no topic answers ("is lupus hereditary?"): answered only from passages
    that speak of it, else declined by name, never with another topic's facts."""

    name: str  # how the reply names it: "Our documents don't say anything about genetics for lupus."
    cues: Tuple[str, ...]  # matched at word starts on lower-case text, in the question and in passages
    #: How the reply names it for a subject, when "{name} for {subject}" reads badly.
    phrase: str = "{name} for {subject}"
    #: How a passage speaks of it, when not in the question's words ("leading to" for complications).
    passage_cues: Tuple[str, ...] = ()
    #: The passage must name the subject just after its cue ("the risk of osteoporosis"): a risk that
    #: lupus brings is no risk factor for lupus.
    of_subject: bool = False
    #: How a passage about the subject itself speaks of it ("occurs in some individuals with psoriasis":
    #: who gets psoriatic arthritis).
    own_passage_cues: Tuple[str, ...] = ()
    #: Whether a pain's passages can answer it: a pain has no complications or population of its own
    #: ("JIA, often seen in children, can also affect the hips" says who gets JIA, not hip pain).
    of_pains: bool = True

    def about(self, subject: str) -> str:
        return self.phrase.format(name=self.name, subject=subject)


ASPECTS: Tuple[Aspect, ...] = (
    Aspect("genetics and inheritance", ("genetic", "gene ", "genes", "hereditary", "inherit", "runs in the family", "runs in families")),
    Aspect("risk factors", ("at risk for", "at risk of", "risk factor", "who gets", "who can get", "more likely to get", "chances of getting"),
           passage_cues=("risk of", "risk for", "at risk", "risk factor", "predispos", "leading to", "lead to", "leads to"), of_subject=True,
           own_passage_cues=("occurs in", "occur in", "develops in", "develop in", "individuals with", "seen in children", "seen in adults",
                             "seen in women", "seen in men", "seen in people", "seen in young", "seen in older")),
    Aspect("complications", ("complication",), phrase="the complications of {subject}",
           passage_cues=("complication", "leading to", "can result in", "results in", "resulting in", "predispos"), of_pains=False),
    Aspect("how many people have it", ("how many people", "how common", "how rare", "prevalence", "how many americans"),
           phrase="how many people have {subject}", passage_cues=("prevalen", "percent", "per cent", "million", "in every")),
    Aspect("stages", ("stages", "stage of", "phases of"), phrase="the stages of {subject}", passage_cues=("stage", "phase")),
    Aspect("research and clinical trials", ("clinical trial", "research is being done", "research being done", "research on",
                                            "research into", "research for", "latest research", "new research"),
           phrase="research and clinical trials on {subject}", passage_cues=("research", "clinical trial", "trials")),
    Aspect("prevention", ("prevent", "prevention"), passage_cues=("prevent", "prevention"), of_subject=True),  # "prevent irreversible bone damage" is not preventing RA
    Aspect("side effects", ("side effect", "side-effect", "adverse effect")),
    Aspect("the outlook", ("life expectancy", "prognosis", "outlook", "fatal", "die from", "die of", "deadly", "life-threatening",
                           "worse with age", "worse over time", "worse as i get older", "progressive")),
    Aspect("contagion", ("contagious", "infectious", "catching")),
    Aspect("diet", ("diet", "foods", "food ", "nutrition")),
    Aspect("pregnancy", ("pregnan",)),
)

#: Requests the bot declines kindly (data/safety/restricted_requests.yml): intent -> kind.
RESTRICTED_INTENTS: Dict[str, str] = {
    "request_diagnosis": "diagnosis_request",
    "request_dose": "dose_request",
    "request_medication_change": "medication_change",
}
#: What the safety screen found -> the intent the dialogue answers it with (data/stories/rules.yml).
SAFETY_INTENTS: Dict[str, str] = {"emergency": "emergency", **{kind: intent for intent, kind in RESTRICTED_INTENTS.items()}}
#: Intents the composer's buttons lead to besides the topics.
HUMAN_INTENT = "request_human"
FEEDBACK_INTENT = "feedback"
#: The vocabulary's name for autoimmune disease in general (the umbrella condition).
GENERAL_CONDITION = "autoimmune disease"
FORGET_INTENT = "forget"
CAPABILITIES_INTENT = "ask_capabilities"
OUT_OF_SCOPE_INTENT = "out_of_scope"
#: The follow-up intent: "what about RA?" takes the rest of its question from the conversation.
INFORM_INTENT = "inform"
#: Greetings, thanks, yes and no: a real question is never one of these ("Will the cyst go away?" is not goodbye).
SMALL_TALK_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny")


def spec(topic: Topic) -> TopicSpec:
    return _BY_TOPIC[topic]


def topic_for_intent(intent: Optional[str]) -> Optional[Topic]:
    found = _BY_INTENT.get(intent or "")
    return found.topic if found else None


def intent_for_topic(topic: Topic) -> str:
    return _BY_TOPIC[topic].intent


def fact_kinds() -> Tuple[str, ...]:
    return tuple(s.fact_kind for s in TOPICS if s.fact_kind)


def topic_intents() -> Tuple[str, ...]:
    return tuple(s.intent for s in TOPICS)


_BY_TOPIC = {s.topic: s for s in TOPICS}
_BY_INTENT = {s.intent: s for s in TOPICS}
