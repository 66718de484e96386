"""What a correct reply holds, per question: facts read off data/documents/, never off the bot's output.

An expectation is one of
  facts     the shown passages must contain, for every group, at least ``n`` of its phrases
            (phrases match at a word start, case-insensitively: "hip" matches "hips");
  no_info   the documents do not answer this: the bot must say so honestly
            (a search box is right only if it shows nothing);
  decline   out of scope or a medicine/diagnosis request: the bot must decline (any honest refusal);
  restricted  a diagnosis, dose or medicine-change request: the bot must refuse it;
  reply     a conversational reply: it must contain every marker (a search box cannot do this);
  answered  an in-scope question (bench/heldout_in_scope.jsonl): the bot answers from the documents
            (quotes a passage) and does not decline it;
  declined  a medical question on a subject the documents do not cover
            (bench/heldout_out_of_scope_medical.jsonl): an honest decline, and no passage quoted as if
            it were the answer.

For the bot, "the shown passages" are what its reply quotes: the "- " list lines and the text inside
“curly quotes” (so "I don't have information on lupus" never counts as stating a fact about lupus);
for BM25 the top passages. A message with several questions is right when every part holds, in the
order asked (``multi_correct``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
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
# A condition's own topics: what the documents say of autoimmune conditions in general does not answer
# them for one condition. Where the documents say nothing of that topic for that condition, an honest
# "our documents don't say anything about <topic> for <condition> specifically" is right too (the bot
# offers the general facts instead of quoting them, bot/answers.py). Which (topic, condition) pairs the
# documents do describe, read off data/documents/ (treatment and diagnosis: none, only in general):
OWN_TOPICS = ("treatment", "diagnosis", "symptoms", "mechanism")
DOCUMENTED_OWN_TOPICS: Dict[str, Tuple[str, ...]] = {
    "symptoms": ("rheumatoid arthritis", "systemic lupus erythematosus", "ankylosing spondylitis", "psoriatic arthritis",
                 "juvenile idiopathic arthritis", "fibromyalgia", "myositis", "multiple sclerosis"),
    "mechanism": ("rheumatoid arthritis", "systemic lupus erythematosus", "ankylosing spondylitis", "psoriatic arthritis"),
}

# -- the assistant's own sentences (bot/texts.py, domain.yml, config/clinic.yml) -----------------
NO_INFO_MARKERS = ["don't have information", "don't say that", "outside what i can help", "didn't understand",
                   "in general, not of",  # "Our documents speak of myositis in general, not of dermatomyositis in particular."
                   "don't describe what", "don't describe it further"]  # "... what fibromyalgia is.", "name vasculitis only in a list"

NO_SPECIFIC_MARKER = "don't say anything about"  # "... about {topic} for {condition} specifically"
NO_TOPIC_MARKER = "don't have information on when to see a doctor"
RESTRICTED_MARKERS = ["can't tell whether you have", "can't advise on doses", "don't start, stop or change a medicine"]
#: An in-scope question is not answered when the reply says one of these (a decline, a "did you mean").
ANSWER_REFUSED_MARKERS = ["don't have information", "outside what i can help", "didn't understand", "did you mean"]
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
    kind: str  # facts | no_info | decline | restricted | reply | answered | declined
    groups: Tuple[Tuple[Tuple[str, ...], int], ...] = ()  # facts: (phrases, at least n of them) per group
    markers: Tuple[str, ...] = ()  # reply
    or_markers: Tuple[str, ...] = ()  # facts: also right when the reply says one of these (an honest gap)

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.groups:
            out["groups"] = [{"any": list(p), "min": n} for p, n in self.groups]
        if self.markers:
            out["markers"] = list(self.markers)
        if self.or_markers:
            out["or_markers"] = list(self.or_markers)
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Expectation":
        groups = tuple((tuple(g["any"]), int(g.get("min", 1))) for g in data.get("groups", []))
        return cls(data["kind"], groups, tuple(data.get("markers", ())), tuple(data.get("or_markers", ())))


def facts(*groups: Tuple[Sequence[str], int]) -> Expectation:
    return Expectation("facts", tuple((tuple(p), n) for p, n in groups))


NO_INFO = Expectation("no_info")
ANSWERED = Expectation("answered")
DECLINED = Expectation("declined")
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
    if topic == "when_to_see_doctor" and (condition is not None or pain not in (None, "hip")):
        # The documents' only advice on when to see a doctor is about hip pain: for anything else an
        # honest "they don't say" is right (blind graders marked the hip passage misleading there).
        return Expectation("facts", facts((TOPIC_FACTS[topic], 1)).groups, (), (NO_SPECIFIC_MARKER, NO_TOPIC_MARKER))
    return with_honest_gap(facts((TOPIC_FACTS[topic], 1)), intent, condition, group)


def with_honest_gap(expectation: Expectation, intent: str, condition: Optional[str], group: Optional[str],
                    pain: Optional[str] = None) -> Expectation:
    """A facts expectation for a condition's own topic that the documents do not describe for that
    condition also accepts the honest "our documents don't say anything about ... specifically"; so
    does one about when to see a doctor for anything but hip pain (their only such advice)."""
    topic = FACT_INTENTS.get(intent)
    if expectation.kind == "facts" and topic == "when_to_see_doctor" and (condition is not None or pain not in (None, "hip")):
        return Expectation("facts", expectation.groups, expectation.markers, (NO_SPECIFIC_MARKER, NO_TOPIC_MARKER))
    if (expectation.kind != "facts" or condition is None or group not in SPECIFIC_GROUPS or topic not in OWN_TOPICS
            or condition in DOCUMENTED_OWN_TOPICS.get(topic, ())):
        return expectation
    return Expectation("facts", expectation.groups, expectation.markers, (NO_SPECIFIC_MARKER,))


# -- checking ------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    """Lower case with straight apostrophes; the same length as ``text`` for the texts we check."""
    return text.lower().replace("’", "'").replace("‘", "'")


def _pattern(phrase: str) -> re.Pattern:
    """Phrase at a word start, case-insensitively; an abbreviation with capitals ("AS", "MS") only as
    that whole word in exactly that case, so "as" or "associated" never count as ankylosing spondylitis."""
    if phrase != phrase.lower():
        return re.compile(r"(?<![A-Za-z0-9])" + re.escape(phrase) + r"(?![A-Za-z0-9])")
    return re.compile(r"(?<![a-z0-9])" + re.escape(_norm(phrase)))


def _positions(text: str, phrase: str) -> List[int]:
    pattern = _pattern(phrase)
    haystack = text if phrase != phrase.lower() else _norm(text)
    return [m.start() for m in pattern.finditer(haystack)]


def _has(text: str, phrase: str) -> bool:
    return bool(_positions(text, phrase))


def facts_hold(expectation: Expectation, shown: str) -> bool:
    return bool(shown.strip()) and all(sum(_has(shown, p) for p in set(phrases)) >= n for phrases, n in expectation.groups)


_CURLY = re.compile(r"“[^”]*”")
_LIST_LINE = re.compile(r"^[ \t]*(?:- |•).*$", re.MULTILINE)


def quoted_spans(reply: str) -> List[Tuple[int, int]]:
    """Where a reply quotes the documents: its list lines ("- Name: “...”", or the older "•" bullets)
    and every “curly-quoted” passage (an answer's opening quotes one inline)."""
    spans = [(m.start(), m.end()) for m in _LIST_LINE.finditer(reply)] + [(m.start(), m.end()) for m in _CURLY.finditer(reply)]
    return sorted(spans)


def quoted_lines(reply: str) -> str:
    """The quoted parts of a reply, one a line (the passages it quotes and the names it lists them under)."""
    return "\n".join(reply[s:e] for s, e in quoted_spans(reply))


def _markers(expectation: Expectation) -> List[str]:
    if expectation.kind == "no_info":
        return NO_INFO_MARKERS
    if expectation.kind in ("decline", "declined"):
        return NO_INFO_MARKERS + RESTRICTED_MARKERS
    if expectation.kind == "restricted":
        return RESTRICTED_MARKERS
    return [_norm(m) for m in expectation.markers]


def bot_correct(expectation: Expectation, reply: str) -> bool:
    text = _norm(reply)
    if expectation.kind == "facts":
        return facts_hold(expectation, quoted_lines(reply)) or any(_norm(m) in text for m in expectation.or_markers)
    if expectation.kind == "answered":
        return bool(quoted_spans(reply)) and not any(m in text for m in ANSWER_REFUSED_MARKERS)
    if expectation.kind == "declined":
        return any(m in text for m in _markers(expectation)) and not quoted_spans(reply)
    if expectation.kind == "reply":
        return all(m in text for m in _markers(expectation))
    if expectation.kind == "no_info" and NO_SPECIFIC_MARKER in text and not quoted_spans(reply):
        return True  # "our documents don't say anything about genetics for lupus.", and nothing quoted
    return any(m in text for m in _markers(expectation))


def declined_subject(reply: str) -> Optional[str]:
    """The subject a decline names ("I don't have information on <the flu> in our clinic's documents")."""
    m = _NAMED_DECLINE.search(reply)
    return m.group(1).strip() if m else None


_NAMED_DECLINE = re.compile(r"I don['’]t have information on (?:.+? for )?(.+?) in our clinic", re.IGNORECASE)
_STOP = frozenset({"the", "a", "an", "of", "and", "or", "in", "on", "for", "to", "test", "tests", "disease", "syndrome"})


def names_subject(reply: str, subject: str) -> bool:
    """Whether the reply's decline names the subject the question asked about (a content word in common:
    "ACE" for "ACE blood test", "the flu" for "flu")."""
    named = declined_subject(reply)
    if not named:
        return False
    words = lambda s: {w for w in re.findall(r"[a-z0-9]+", _norm(s)) if w not in _STOP}  # noqa: E731
    asked, said = words(subject), words(named)
    return bool(asked & said) or (not asked and _norm(subject) in _norm(named))


def satisfied_from(expectation: Expectation, reply: str, start: int = 0) -> Optional[int]:
    """Where in ``reply``, at or after ``start``, the expectation is first met (the position of the
    first thing that meets it); None when it is not met there. Facts count only inside quoted spans."""
    if expectation.kind == "facts":
        gap = [p for p in (_norm(reply).find(_norm(m), start) for m in expectation.or_markers) if p >= 0]
        found_at = _facts_from(expectation, reply, start)
        return found_at if found_at is not None else (min(gap) if gap else None)
    text = _norm(reply)
    found = [text.find(m, start) for m in _markers(expectation)]
    found = [f for f in found if f >= 0]
    if expectation.kind == "reply":
        return min(found) if len(found) == len(_markers(expectation)) else None
    if expectation.kind == "answered":
        return None if any(m in text[start:] for m in ANSWER_REFUSED_MARKERS) else next(
            (s for s, e in quoted_spans(reply) if s >= start), None)
    return min(found) if found else None


def _facts_from(expectation: Expectation, reply: str, start: int) -> Optional[int]:
    spans = [(s, e) for s, e in quoted_spans(reply) if e > start]
    if not spans:
        return None
    firsts = []
    for phrases, n in expectation.groups:
        # the first quoted occurrence (at or after start) of each phrase of the group
        seen = [next((p for p in _positions(reply, phrase) if p >= start and any(s <= p < e for s, e in spans)), None)
                for phrase in set(phrases)]
        found = [p for p in seen if p is not None]
        if len(found) < max(n, 1):
            return None
        firsts.append(min(found))
    return min(firsts) if firsts else None


def multi_correct(expectations: Sequence[Expectation], reply: str, emergency: bool = False) -> bool:
    """A message with several questions: every part answered, in the order asked; with a red flag
    anywhere, the whole reply is the emergency advice (its number, and no quoted passage)."""
    if emergency:
        return bot_correct(Expectation("reply", markers=tuple(REPLY_MARKERS["emergency"])), reply) and not quoted_spans(reply)
    position = 0
    for expectation in expectations:
        found = satisfied_from(expectation, reply, position)
        if found is None:
            return False
        position = found
    return True


def search_correct(expectation: Expectation, passages: Sequence[str]) -> bool:
    """A search box is right when its top passages hold the facts, or when it shows nothing for a
    question the documents do not answer; it cannot greet, refuse or call for help."""
    if expectation.kind == "facts":
        return facts_hold(expectation, "\n".join(passages))
    if expectation.kind in ("no_info", "decline", "declined"):
        return not passages
    if expectation.kind == "answered":
        return bool(passages)
    return False
