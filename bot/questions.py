"""A patient's message as questions: the story before them, and up to three questions in it.

Real messages tell a story first and often ask two or three things ("Could psoriatic arthritis cause
hip pain? And how is it treated?"). spaCy's sentencizer splits the message; a sentence is a question
when it ends with "?" or opens like one. The classifier decides the message's main topic; the
others are read from the topic registry's cue words (bot.topics).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Pattern, Tuple

from spacy.language import Language

from bot.nlp import make_base_pipeline
from bot.topics import TOPICS, Topic

MAX_QUESTIONS = 3
MAX_SCANNED_CHARS = 5000  # a question is in the first few thousand characters; the rest is story
_QUESTION_OPENERS = (
    "what", "whats", "what's", "why", "how", "when", "where", "which", "who", "does", "do", "did", "is", "are",
    "can", "could", "should", "would", "will", "may", "might", "has", "have", "any", "anything", "tell",
)
_CONNECTIVES = ("and", "also", "and also", "plus", "but", "so", "then", "or", "ok", "okay", "please")


# A button payload ("/ask_treatment", '/inform{"condition":"lupus"}') is an exact intent; anything
# else that starts with "/" is a patient's words.
_PAYLOAD = re.compile(r"/[A-Za-z_][A-Za-z0-9_]{0,63}(\{.{0,2000}\})?", re.DOTALL)


def is_payload(text: str) -> bool:
    """A button's payload, not typed words."""
    return _PAYLOAD.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class QuestionPart:
    text: str
    start: int
    end: int


@lru_cache(maxsize=256)
def question_parts(text: str) -> Tuple[QuestionPart, ...]:
    """The questions of a message in order (at most MAX_QUESTIONS), each with its offsets. Cached:
    one reply asks this of the same message several times (scope, aspects, subjects)."""
    text = (text or "")[:MAX_SCANNED_CHARS]
    if not text.strip():
        return ()
    doc = _nlp()(text)
    parts = [part for s in doc.sents if _is_question(s.text) for part in _clauses(s.text, s.start_char)]
    return tuple(parts[:MAX_QUESTIONS])


@lru_cache(maxsize=256)
def last_sentence(text: str) -> Tuple[QuestionPart, ...]:
    """The last sentence of a message of two or more (of three words at least), as the part that asks
    when no sentence is a question ("... I'd like more info on the stem cell research.")."""
    text = (text or "")[:MAX_SCANNED_CHARS]
    sentences = [s for s in _nlp()(text).sents if s.text.strip()] if text.strip() else []
    if len(sentences) < 2 or len(sentences[-1].text.split()) < MIN_CLAUSE_WORDS:
        return ()
    last = sentences[-1]
    raw = last.text
    start = last.start_char + len(raw) - len(raw.lstrip())
    return (QuestionPart(raw.strip(), start, start + len(raw.strip())),)


# "what is lupus and how do doctors diagnose it": a second question joined by "and" inside one sentence.
_JOINED_QUESTION = re.compile(
    r",?\s+(?:and|also|plus|but|or)\s+(?:also\s+|if\s+so,?\s+)?(?=(?:how|what|why|when|which|where|who|is|are|can|could|does|do|did|"
    r"should|will|would|may)\b)",
    re.IGNORECASE,
)
MIN_CLAUSE_WORDS = 3


def _clauses(sentence: str, offset: int) -> Tuple[QuestionPart, ...]:
    """A question sentence, split where "and how ...", "and what ..." start a question of their own
    (each side at least three words: "bread and what else" stays whole)."""
    pieces, start = [], 0
    for match in _JOINED_QUESTION.finditer(sentence):
        if len(sentence[start:match.start()].split()) >= MIN_CLAUSE_WORDS and len(sentence[match.end():].split()) >= MIN_CLAUSE_WORDS:
            pieces.append((start, match.start()))
            start = match.end()
    pieces.append((start, len(sentence)))
    parts = []
    for begin, end in pieces:
        raw = sentence[begin:end]
        lead = len(raw) - len(raw.lstrip())
        parts.append(QuestionPart(raw.strip(), offset + begin + lead, offset + begin + lead + len(raw.strip())))
    questions = tuple(p for p in parts if _is_question(p.text))  # "I have RA and is it normal ...": the story is no question
    return questions or (QuestionPart(sentence.strip(), offset + len(sentence) - len(sentence.lstrip()), offset + len(sentence.rstrip())),)


@lru_cache(maxsize=1)
def _nlp() -> Language:
    return make_base_pipeline()


def _is_question(sentence: str) -> bool:
    words = re.findall(r"[a-z']+", sentence.lower())
    while words and words[0] in _CONNECTIVES:
        words = words[1:]
    if len(words) < 2:
        return False
    return sentence.rstrip().endswith("?") or words[0] in _QUESTION_OPENERS


# What a question asks about, by the words that introduce it in English ("treatments for X", "what
# is X", "information about X", "can I take X"): the phrase after the last of them, to the clause's end.
_OBJECT_OPENER = re.compile(
    r"""\b(?:
        (?:treat(?:ment|ments|ing)?|cures?|remed(?:y|ies)|therap(?:y|ies)|medicines?|medications?|drugs?|tests?
           |diagnos(?:is|e|ed|ing)|symptoms?|signs?|causes?|side[ -]effects?|risks?|outlook|prognosis)\s+(?:of|for)
      | what\s+(?:is|are|was|were)(?:\s*\(are\))? | what'?s | what\s+causes?
      | (?:information|info|anything|something|details)\s+(?:about|on|regarding)
      | (?:do|help|helps|good|use|used)\s+(?:for|with|against)
      | (?:stop|ease|relieve|prevent|reduce|soothe|calm|get\s+rid\s+of|deal\s+with|cope\s+with|live\s+with)
      | (?:can|could|should|may)\s+(?:i|we|you|he|she|they)\s+(?:take|use|have|try|give)
      | (?:if|whether)\s+(?:i|we|he|she|they)\s+(?:can|could|should|may)\s+(?:take|use|try|give)
      | how\s+(?:is|are|do\s+you|do\s+i|can\s+i|would\s+i)\s+(?:treat|cure|diagnose|catch|prevent|get\s+rid\s+of|manage)
      | how\s+to\s+(?:treat|cure|diagnose|prevent|get\s+rid\s+of|manage)
    )\s+""",
    re.IGNORECASE | re.VERBOSE,
)
_OBJECT_MEANING = re.compile(r"\bwhat\s+(?:does|do|did)\s+(.+?)\s+mean\b", re.IGNORECASE)
_OBJECT_END = re.compile(
    r"""[?.!;:,()\[\]"“”]|\s[-–—]\s|\b(?:when|whenever|if|because|after|before|since|while|that|which|who|whose|during|
    so|but|than|exactly|anyway|actually|really|please|and\s+(?:how|what|why|is|are|can|could|do|does|should|when|will|would)|or\s+(?:how|what|why|is|are|can|do|does|should|will))\b""",
    re.IGNORECASE | re.VERBOSE,
)
_LEADING_WORDS = re.compile(r"^(?:(?:the|a|an|my|his|her|their|your|our|its|this|that|these|those|some|any|all|of|for|about)\s+)+", re.IGNORECASE)
MAX_OBJECT_WORDS = 6


def asked_object(question: str) -> Optional[str]:
    """The phrase a question asks about ("milia" in "What are the treatments for Milia?"), as the
    patient wrote it; None when no introducing words are found or the phrase is not a short one."""
    meaning = _OBJECT_MEANING.search(question)
    if meaning:
        phrase = meaning.group(1)
    else:
        openers = list(_OBJECT_OPENER.finditer(question))
        if not openers:
            return None
        phrase = question[openers[-1].end():]
    end = _OBJECT_END.search(phrase)
    phrase = _LEADING_WORDS.sub("", (phrase[: end.start()] if end else phrase).strip()).strip()
    words = phrase.split()
    if not words or len(words) > MAX_OBJECT_WORDS:
        return None
    return " ".join(words)


# "can RA cause dry eyes?", "does lupus give you night sweats?": what a condition is asked to bring about.
_EFFECT_OPENER = re.compile(r"\b(?:cause|causes|causing|give you|gives you|lead to|leads to|bring on|brings on|affect|affects|affecting)\s+(.+)",
                            re.IGNORECASE)
_EFFECT_END = re.compile(r"[?.!,;:]|\s(?:and|or|in|with|when)\s", re.IGNORECASE)
MAX_EFFECT_WORDS = 4


def asked_effect(question: str) -> Optional[str]:
    """What a question asks something to cause ("dry eyes" in "can RA cause dry eyes?"), as written;
    None when it asks no such thing or the phrase is not a short one."""
    match = _EFFECT_OPENER.search(question)
    if match is None:
        return None
    end = _EFFECT_END.search(match.group(1))
    phrase = _LEADING_WORDS.sub("", (match.group(1)[: end.start()] if end else match.group(1)).strip()).strip()
    return phrase if phrase and len(phrase.split()) <= MAX_EFFECT_WORDS else None


# "What is (are) Medicines for osteoporosis ?": the question a leaflet's title makes, whole.
_DEFINED = re.compile(r"^\s*what\s+(?:is|are)(?:\s*\(are\))?\s+(?P<phrase>[^?.!]{3,120}?)\s*[?.!]*\s*$", re.IGNORECASE)


def defined_phrase(question: str) -> Optional[str]:
    """The whole phrase "what is/are X?" asks about when the question is nothing else ("Medicines for
    osteoporosis", "Lupus and the joints"); None for any other question."""
    match = _DEFINED.match(question)
    return match.group("phrase").strip() if match else None


def shouting(text: str) -> bool:
    """Written mostly in capitals: then "AS" or "MS" is an ordinary word, not an abbreviation."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters)


def cue_topic(text: str, exclude: Tuple[Topic, ...] = ()) -> Optional[Topic]:
    """The topic whose longest cue appears in the text (None when no cue does), leaving out ``exclude``.
    "What is" / "what are" only open a question: any other topic's cue says more ("what are the
    symptoms of MS": symptoms), so the description is the topic only when no other cue appears."""
    lowered = " ".join(text.lower().split())
    best: Tuple[int, int, int] = (0, 0, 0)
    found: Optional[Topic] = None
    for order, (topic, pattern) in enumerate(_cue_patterns()):
        if topic in exclude:
            continue
        lengths = [len(m.group(0)) for m in pattern.finditer(lowered)]
        rank = (int(topic is not Topic.CONDITION_INFO), max(lengths) if lengths else 0, -order)
        if lengths and rank > best:
            best, found = rank, topic
    return found


def has_cue(text: str, topic: Topic) -> bool:
    """Whether one of the topic's own cue words appears in the text."""
    lowered = " ".join(text.lower().split())
    return any(t is topic and pattern.search(lowered) for t, pattern in _cue_patterns())


@lru_cache(maxsize=1)
def _cue_patterns() -> Tuple[Tuple[Topic, Pattern[str]], ...]:
    patterns = []
    for spec in TOPICS:
        if spec.cues:
            alternatives = "|".join(re.escape(cue) for cue in sorted(spec.cues, key=len, reverse=True))
            patterns.append((spec.topic, re.compile(rf"\b(?:{alternatives})")))
    return tuple(patterns)
