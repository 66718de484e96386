"""What a correct reply holds, per question: facts read off data/documents/, never off the bot's output.

An expectation is one of
  facts     the shown passages must contain, for every group, at least ``n`` of its phrases
            (phrases match at a word start, case-insensitively: "hip" matches "hips");
  no_info   the documents do not answer this: the bot must say so honestly
            (a search box is right only if it shows nothing);
  decline   out of scope or a medicine/diagnosis request: the bot must decline (any honest refusal);
  restricted  a diagnosis, dose or medicine-change request: the bot must refuse it;
  reply     a conversational reply: it must contain every marker (a search box cannot do this).

For the bot, "the shown passages" are the quoted bullet lines of its reply (so "I don't have
information on lupus" never counts as stating a fact about lupus); for BM25 the top passages.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# -- facts the documents give (data/documents/*.txt, read by hand) -------------------------------
TOPIC_FACTS: Dict[str, List[str]] = {
    "treatment": ["dmard", "disease-modifying", "physical therapy", "control inflammation", "anti-inflammatory",
                  "biologics", "comprehensive approach", "reduce nerve sensitivity", "manage stress", "person-centered",
                  "calcium/vitamin d", "improve muscle and fascia"],
    "diagnosis": ["blood tests", "imaging", "x-rays", "clinical evaluation", "mri"],
    "diagnosis_difficulty": ["initial tests are normal", "variable and unpredictable", "without an accurate diagnosis",
                             "mistaken for other"],
    "stress": ["chronic stress", "exacerbated by stress", "manage stress", "stress and psychological"],
    "when_to_see_doctor": ["consulting a healthcare professional", "early diagnosis"],
    "mechanism": ["mistakenly", "chronic inflammation", "osteoclast", "immune-mediated destruction", "bone erosion",
                  "inflammatory process", "inflammation of", "nervous system to pain", "tissue destruction"],
    "symptoms": ["swelling", "stiffness", "fatigue", "tingling", "muscle pain", "weakness"],
    "what_is": ["immune system mistakenly"],
}
WHAT_IS: Dict[str, List[str]] = {
    "rheumatoid arthritis": ["synovial"],
    "systemic lupus erythematosus": ["multi-system", "multiple organs"],
    "ankylosing spondylitis": ["spine and sacroiliac", "primarily affects the spine"],
    "psoriatic arthritis": ["individuals with psoriasis"],
    "juvenile idiopathic arthritis": ["children"],
}
# Which conditions the documents name for a pain, and how many of them a list answer must show.
PAIN_CONDITIONS: Dict[str, Tuple[List[str], int]] = {
    "hip": (["rheumatoid", "lupus", "ankylosing", "psoriatic", "juvenile"], 2),
    "bone": (["rheumatoid", "lupus", "systemic lupus", "ankylosing", "psoriatic"], 2),
    "joint": (["rheumatoid", "lupus", "spondylitis", "psoriatic"], 2),
    "muscle": (["fibromyalgia", "myositis"], 1),
    "nerve": (["multiple sclerosis", "(ms)", "lupus"], 1),
    "spine": (["ankylosing", "spondylitis"], 1),
}
COVERED_PAINS = frozenset(PAIN_CONDITIONS)
# Pains the documents link to a condition (condition -> pain keys).
CONDITION_PAINS: Dict[str, List[str]] = {
    "rheumatoid arthritis": ["bone", "hip", "joint"],
    "systemic lupus erythematosus": ["bone", "hip", "joint", "nerve"],
    "ankylosing spondylitis": ["bone", "hip", "joint", "spine"],
    "psoriatic arthritis": ["bone", "hip", "joint"],
    "juvenile idiopathic arthritis": ["hip"],
    "fibromyalgia": ["muscle"],
    "myositis": ["muscle"],
    "multiple sclerosis": ["nerve"],
}
CONDITION_WORDS: Dict[str, List[str]] = {
    "rheumatoid arthritis": ["rheumatoid", "RA"],
    "systemic lupus erythematosus": ["lupus", "SLE"],
    "ankylosing spondylitis": ["ankylosing", "AS"],
    "psoriatic arthritis": ["psoriatic", "PsA"],
    "juvenile idiopathic arthritis": ["juvenile"],
    "fibromyalgia": ["fibromyalgia"],
    "myositis": ["myositis"],
    "multiple sclerosis": ["multiple sclerosis", "MS"],
}
PAIN_WORDS: Dict[str, List[str]] = {
    "bone": ["bone"], "hip": ["hip"], "joint": ["joint"], "muscle": ["muscle"], "nerve": ["nerve", "burning, tingling"],
    "spine": ["spin", "back", "vertebra", "neck"],
}
SPECIFIC_GROUPS = ("autoimmune", "immune-mediated")

# -- the assistant's own sentences (bot/texts.py, domain.yml, config/clinic.yml) -----------------
NO_INFO_MARKERS = ["don't have information", "don't say that", "outside what i can help", "didn't understand"]
RESTRICTED_MARKERS = ["can't tell whether you have", "can't advise on doses", "don't start, stop or change a medicine"]
REPLY_MARKERS: Dict[str, List[str]] = {
    "greet": ["what would you like to know about autoimmune"],
    "goodbye": ["goodbye, and take care"],
    "deny": ["goodbye, and take care"],
    "thanks": ["you're welcome"],
    "bot_challenge": ["automated assistant"],
    "ask_capabilities": ["i answer general questions using"],
    "affirm": ["i answer general questions using"],
    "request_human": ["555 0100"],
    "emergency": ["911"],
    "forget": ["deleted this conversation"],
    "forget_conversation": ["deleted this conversation"],
}
RESTRICTED_INTENTS = ("request_diagnosis", "request_dose", "request_medication_change")
FACT_INTENTS = {
    "ask_condition_info": "what_is", "ask_symptoms": "symptoms", "ask_mechanism": "mechanism",
    "ask_diagnosis": "diagnosis", "ask_diagnosis_difficulty": "diagnosis_difficulty", "ask_stress": "stress",
    "ask_treatment": "treatment", "ask_when_to_see_doctor": "when_to_see_doctor",
}
MEDICAL_INTENTS = frozenset({*FACT_INTENTS, "ask_conditions_for_pain", "ask_condition_causes_pain", "ask_pain_types", "inform"})


@dataclass(frozen=True)
class Expectation:
    kind: str  # facts | no_info | decline | restricted | reply
    groups: Tuple[Tuple[Tuple[str, ...], int], ...] = ()  # facts: (phrases, at least n of them) per group
    markers: Tuple[str, ...] = ()  # reply

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.groups:
            out["groups"] = [{"any": list(p), "min": n} for p, n in self.groups]
        if self.markers:
            out["markers"] = list(self.markers)
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Expectation":
        groups = tuple((tuple(g["any"]), int(g.get("min", 1))) for g in data.get("groups", []))
        return cls(data["kind"], groups, tuple(data.get("markers", ())))


def facts(*groups: Tuple[Sequence[str], int]) -> Expectation:
    return Expectation("facts", tuple((tuple(p), n) for p, n in groups))


NO_INFO = Expectation("no_info")
DECLINE = Expectation("decline")
RESTRICTED = Expectation("restricted")


def expectation_for(intent: str, condition: Optional[str], group: Optional[str], pain: Optional[str]) -> Expectation:
    """The expected outcome of a question of this intent about a canonical condition (with its
    vocabulary group) and/or pain-type key; None = not named."""
    if group == "umbrella":
        condition = group = None
    if intent in REPLY_MARKERS:
        return Expectation("reply", markers=tuple(REPLY_MARKERS[intent]))
    if intent == "out_of_scope":
        return DECLINE
    if intent in RESTRICTED_INTENTS:
        return RESTRICTED
    if condition is not None and group not in SPECIFIC_GROUPS:
        return NO_INFO  # gout, osteoporosis, sciatica...: recognised, but the documents say nothing on them
    if intent == "inform":
        intent = "ask_condition_info" if condition else "ask_conditions_for_pain"
    if intent == "ask_conditions_for_pain" or (intent == "ask_condition_causes_pain" and condition is None):
        if pain is None:
            return Expectation("reply", markers=("which kind of pain",))
        return facts(PAIN_CONDITIONS[pain]) if pain in COVERED_PAINS else NO_INFO
    if intent == "ask_pain_types" or (intent == "ask_condition_causes_pain" and pain is None):
        if condition is None:
            return facts((["joint", "muscle", "nerve", "spin", "bone", "hip"], 2))
        pains = CONDITION_PAINS.get(condition)
        if not pains:
            return NO_INFO
        return facts(([w for p in pains for w in PAIN_WORDS[p]], min(2, len(pains))))
    if intent == "ask_condition_causes_pain":
        if pain in CONDITION_PAINS.get(condition, []):
            return facts((CONDITION_WORDS[condition], 1), (PAIN_WORDS[pain], 1))
        return NO_INFO  # "our documents don't say that ..."
    topic = FACT_INTENTS[intent]
    if topic == "what_is":
        if condition is None:
            return facts((TOPIC_FACTS["what_is"], 1))
        return facts((WHAT_IS[condition], 1)) if condition in WHAT_IS else NO_INFO
    if condition is None and pain is not None and pain not in COVERED_PAINS:
        return NO_INFO  # knee, ankle, jaw...: no document covers them
    return facts((TOPIC_FACTS[topic], 1))


# -- checking ------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return text.lower().replace("’", "'").replace("‘", "'")


def _has(text: str, phrase: str) -> bool:
    """Phrase at a word start, case-insensitively; an abbreviation with capitals ("AS", "MS") only as
    that whole word in exactly that case, so "as" or "associated" never count as ankylosing spondylitis."""
    if phrase != phrase.lower():
        return re.search(r"(?<![A-Za-z0-9])" + re.escape(phrase) + r"(?![A-Za-z0-9])", text) is not None
    return re.search(r"(?<![a-z0-9])" + re.escape(_norm(phrase)), _norm(text)) is not None


def facts_hold(expectation: Expectation, shown: str) -> bool:
    return bool(shown.strip()) and all(sum(_has(shown, p) for p in set(phrases)) >= n for phrases, n in expectation.groups)


def quoted_lines(reply: str) -> str:
    """The bullet lines of a reply: the passages it quotes (and the names it lists them under)."""
    return "\n".join(line for line in reply.splitlines() if line.lstrip().startswith("•"))


def bot_correct(expectation: Expectation, reply: str) -> bool:
    text = _norm(reply)
    if expectation.kind == "facts":
        return facts_hold(expectation, quoted_lines(reply))
    if expectation.kind == "no_info":
        return any(m in text for m in NO_INFO_MARKERS)
    if expectation.kind == "decline":
        return any(m in text for m in NO_INFO_MARKERS + RESTRICTED_MARKERS)
    if expectation.kind == "restricted":
        return any(m in text for m in RESTRICTED_MARKERS)
    return all(_norm(m) in text for m in expectation.markers)


def search_correct(expectation: Expectation, passages: Sequence[str]) -> bool:
    """A search box is right when its top passages hold the facts, or when it shows nothing for a
    question the documents do not answer; it cannot greet, refuse or call for help."""
    if expectation.kind == "facts":
        return facts_hold(expectation, "\n".join(passages))
    if expectation.kind in ("no_info", "decline"):
        return not passages
    return False
