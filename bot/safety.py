"""Deterministic safety screen: emergencies, "see a doctor today", and requests the bot must decline.

Runs before anything else looks at a patient's message and knows nothing of Rasa. All patterns live
in data files a clinician can review (``data/safety/red_flags.yml``, ``urgent.yml`` and
``restricted_requests.yml``, explained in ``data/safety/README.md``); this module only compiles them
and applies four fixed rules to every match:

* **negation** - a match is ignored when a negation cue ("no", "not", "n't", "without", "never",
  "denies", ...) stands at most ``negation.window`` words before it in the same sentence and no
  ``stop_at`` word ("but", ",", "and", ...) lies between them; pseudo-negations ("no longer",
  "not sure") are not cues, and a negation is cancelled by "like this" / "before" after the match
  ("I've never had chest pain like this"). Categories with ``negatable: false`` skip this.
* **past history** - a match is ignored when a history cue ("as a child", "years ago", "history
  of", "used to") stands within ``history.window`` words of it in the same clause ("I had a seizure
  as a child"). Categories with ``history_exempt: false`` (self_harm) skip this.
* **questions about a topic** - a match is ignored when its sentence contains a topic frame ("can
  lupus cause ...", "symptom of", "what is ...") AND no experience cue ("I have", "my chest",
  "right now"). When in doubt, it fires. Categories with ``topic_questions_exempt: false`` skip this.
* **co-occurrence** - a category fires when any rule of its ``fires_when`` holds: ``any_of`` (a
  surviving match of any listed group) or ``all_of`` (a surviving match of every listed group,
  anywhere in the message).

Three tiers, each checked in file order (the first category that fires is reported):

* ``red_flag(text)``: an emergency (kind ``emergency``): call the emergency number now.
* ``urgent(text)``: should be seen by a doctor today (kind ``urgent``). Never reported for a message
  that is an emergency: callers check ``screen()`` first, and ``urgent()`` returns None when a red
  flag fires, so an emergency can never be answered with "see a doctor today".
* ``restricted_request(text)``: a diagnosis, dose or medication-change request (kind = category).
  ``screen(text)`` is the red flag, else the restricted request; it never reports the urgent tier.

Cost is linear in the message: the text is clipped (characters, then words), every clean-up
expression is linear, and each pattern is tried only where one of its words occurs.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

import yaml

from bot import settings

__all__ = ["SafetyFinding", "SafetyScreen", "SafetyDataError", "default_screen", "default_data_dir",
           "clean_for_screening", "MAX_HEAD_CHARS", "MAX_TAIL_CHARS", "MAX_HEAD_WORDS", "MAX_TAIL_WORDS"]

#: The first this-many characters of a message are screened in full ...
MAX_HEAD_CHARS = 5000
#: ... and, for longer messages, also the last this-many (people often put the urgent part last).
MAX_TAIL_CHARS = 1000
#: The same cut in words (tokens), for text made of one-character words ("a<a<a<..."): ordinary
#: prose of MAX_HEAD_CHARS characters has about a fifth as many words, so it is never cut here.
MAX_HEAD_WORDS = 1500
MAX_TAIL_WORDS = 300

EMERGENCY = "emergency"
URGENT = "urgent"

Span = Tuple[int, int]  # token offsets [start, end)


class SafetyDataError(ValueError):
    """A safety data file is malformed (the screen refuses to start rather than run half-blind)."""


@dataclass(frozen=True)
class SafetyFinding:
    kind: str  # "emergency" | "urgent" | "diagnosis_request" | "dose_request" | "medication_change"
    category: str  # e.g. "chest_pain_breathing", "suspected_gca", or the restricted kind
    matched_text: str


def default_data_dir() -> Path:
    """Where the pattern files are (``settings.safety_data_dir()``)."""
    return settings.safety_data_dir()


# --------------------------------------------------------------------------------------------------
# Clean-up: any input to one line of plain text. Every expression here is linear-time: bounded
# repetitions only, and no two adjacent parts that can match the same characters.

#: Longer runs without a space are cut into pieces of this length (no pattern word is that long, and
#: spaCy's tokenizer splits one very long "word" such as "a<a<a<..." in quadratic time).
_LONGEST_WORD = 40
#: Before the markup is removed, text is clipped to this much (markup and entities only shrink it).
_ROUGH_HEAD_CHARS = 4 * MAX_HEAD_CHARS
_ROUGH_TAIL_CHARS = 2 * MAX_TAIL_CHARS
_NFKC_PIECE = 1000

_LINE_BREAK_TAG = re.compile(r"<\s{0,20}(?:/\s{0,20})?(?:br|p|div|li|tr|h\d)\b[^<>]{0,200}>", re.IGNORECASE)
_TAG = re.compile(r"<\s{0,20}(?:/\s{0,20})?[a-zA-Z!][^<>]{0,500}>")  # "<b>", "</p>", "<!-- -->", not "< 5 and >"
_SCRIPT_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_SCRIPT_CLOSE = {"script": re.compile(r"</script", re.IGNORECASE), "style": re.compile(r"</style", re.IGNORECASE)}
_CONTROL = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
_WORD_HYPHEN = re.compile(r"(?<=[^\W\d_])[-\u2010\u2011\u2012\u2013\u2014](?=[^\W\d_])")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but a line break (\s covers the Unicode spaces)
_LINE_BREAKS = re.compile(r" ?\n\s*")
_LONG_RUN = re.compile(r"\S{%d,}" % (_LONGEST_WORD + 1))
# Combining marks left over after NFKC, arrows, shapes, dingbats, emoji, private-use characters: no
# pattern reads them, and glued to words they make the tokenizer slow.
_PICTOGRAPHS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
                          "\u2190-\u21ff\u2300-\u23ff\u2500-\u27bf\u2900-\u2bff\ue000-\uf8ff"
                          "\U0001f000-\U0001faff\U000f0000-\U0010ffff]")
_SYMBOL_RUN = re.compile(r"([^\w\s]{3})[^\w\s]+")  # "!!!!!!" -> "!!!": a longer run of symbols says nothing more
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_WORD_OR_SYMBOL = re.compile(r"\w+|[^\w\s]")  # about one spaCy token each: enough to count them cheaply
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"'})


def clean_for_screening(text: Any) -> str:
    """Any input -> the plain text the screen reads (case kept; long input clipped).

    HTML is removed, entities decoded, invisible and control characters and pictographs become spaces,
    curly quotes straight ones, "chest-pain" becomes "chest pain", and a line break becomes a comma: it
    separates thoughts but often not sentences ("no fever\\nchest pain"), so it stops a negation but
    keeps the words in one sentence.
    """
    text = _rough_clip(_as_text(text))  # so the steps below never see 100 KB
    text = _rough_clip(_compatibility_forms(text))
    text = _strip_markup(text)
    text = _CONTROL.sub(" ", text)
    text = _PICTOGRAPHS.sub(" ", text)
    text = _clip(_LINE_BREAKS.sub(" , ", _SPACES.sub(" ", text)).strip())  # from here on, about 6,000 characters
    text = text.translate(_QUOTES)
    text = _WORD_HYPHEN.sub(" ", text)
    text = _SYMBOL_RUN.sub(r"\1", text)
    text = _LONG_RUN.sub(_cut_long_run, text)
    return _clip(text)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # pragma: no cover - an object whose __str__ fails
        return ""


def _cut_long_run(match: "re.Match[str]") -> str:
    run = match.group()
    return " ".join(run[i:i + _LONGEST_WORD] for i in range(0, len(run), _LONGEST_WORD))


def _rough_clip(text: str) -> str:
    if len(text) <= _ROUGH_HEAD_CHARS + _ROUGH_TAIL_CHARS:
        return text
    return text[:_ROUGH_HEAD_CHARS] + " . " + text[-_ROUGH_TAIL_CHARS:]


def _compatibility_forms(text: str) -> str:
    """NFKC (ligatures to letters, full-width letters to ASCII), of the head and the tail only.

    One character can become 18, so the text is normalised piece by piece from each end, and the
    middle, which the clip drops anyway, is never expanded.
    """
    if text.isascii():
        return text
    pieces = _pieces(text)
    head: List[str] = []
    size = 0
    for start, end in pieces:
        head.append(unicodedata.normalize("NFKC", text[start:end]))
        size += len(head[-1])
        if size > _ROUGH_HEAD_CHARS:
            break
    rest = pieces[len(head):]
    tail: List[str] = []
    size = 0
    for start, end in reversed(rest):
        tail.append(unicodedata.normalize("NFKC", text[start:end]))
        size += len(tail[-1])
        if size > _ROUGH_TAIL_CHARS:
            break
    gap = " . " if len(tail) < len(rest) else ""
    return "".join(head) + gap + "".join(reversed(tail))


def _pieces(text: str) -> List[Tuple[int, int]]:
    """(start, end) every _NFKC_PIECE characters; a piece does not start with a combining mark (unless
    more than a few follow each other, as only in hostile text)."""
    cuts = [0]
    for cut in range(_NFKC_PIECE, len(text), _NFKC_PIECE):
        limit = min(len(text), cut + 16)
        while cut < limit and unicodedata.combining(text[cut]):
            cut += 1
        if cuts[-1] < cut < len(text):
            cuts.append(cut)
    cuts.append(len(text))
    return list(zip(cuts, cuts[1:]))


def _clip(text: str) -> str:
    """Keep the first MAX_HEAD_CHARS (and the last MAX_TAIL_CHARS of a longer text), cut at spaces."""
    if len(text) <= MAX_HEAD_CHARS + MAX_TAIL_CHARS:
        return text
    head = text[:MAX_HEAD_CHARS]
    cut = head.rfind(" ", MAX_HEAD_CHARS - 200)
    if cut > 0:
        head = head[:cut]
    tail = text[-MAX_TAIL_CHARS:]
    cut = tail.find(" ", 0, 200)
    if cut >= 0:
        tail = tail[cut + 1:]
    return head + " . " + tail


def _strip_markup(text: str) -> str:
    """Drop <script>/<style> blocks, turn line-breaking tags into line breaks, other tags into spaces."""
    if "<" in text:
        text = _drop_script_blocks(text)
        text = _LINE_BREAK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _drop_script_blocks(text: str) -> str:
    """Remove each <script>...</script> and <style>...</style> block in one left-to-right pass.

    An unclosed block is kept as text (its words are still screened); once one is unclosed, no
    later one can be closed either, so the scan stops there.
    """
    pieces: List[str] = []
    position = 0
    while True:
        opening = _SCRIPT_OPEN.search(text, position)
        if opening is None:
            break
        closing = _SCRIPT_CLOSE[opening.group(1).lower()].search(text, opening.end())
        if closing is None:
            break
        end = text.find(">", closing.end())
        pieces.append(text[position:opening.start()] + " ")
        position = len(text) if end < 0 else end + 1
    pieces.append(text[position:])
    return "".join(pieces)


# --------------------------------------------------------------------------------------------------
# Token patterns. The data files use spaCy's Matcher syntax (one mapping per word, see
# data/safety/README.md); they are compiled here into steps matched by `_PatternSet`, which tries a
# pattern only where its rarest word occurs, so its cost grows with the message, never faster.

_WORD_ATTRS = {"ORTH": "orth_", "TEXT": "text", "LOWER": "lower_", "NORM": "norm_", "LEMMA": "lemma_", "SHAPE": "shape_"}
_FLAG_ATTRS = {"IS_ALPHA": "is_alpha", "IS_PUNCT": "is_punct", "IS_DIGIT": "is_digit", "LIKE_NUM": "like_num",
               "IS_SPACE": "is_space", "IS_STOP": "is_stop"}
_CASELESS_ATTRS = {"LOWER", "LEMMA", "NORM"}
_SENTENCE_BREAKS = frozenset([".", "!", "?", ";", "..", "...", "?!", "!?"])
_MAX_GAP = 6
_REPEATED_GROUP = re.compile(r"\)(?:[*+]|\{\d*,)")  # "(a+)+": nested repeats backtrack exponentially


@dataclass(frozen=True)
class _Step:
    """One word of a pattern: the tests it must pass (a bit mask) and whether it may be missing."""

    need: int
    optional: bool
    words: Optional[Tuple[str, frozenset]]  # (attribute, words) when the step can be looked up by word


@dataclass(frozen=True)
class _Pattern:
    key: str
    before: Tuple[_Step, ...]  # the steps before the anchor, nearest first
    anchor: _Step  # a required step, looked up by word
    after: Tuple[_Step, ...]
    required: int  # the tests of every required step: if the message passes none of one, skip the pattern


class _TokenTests:
    """Every distinct test on a word, numbered by bit, so a word's passed tests are one integer."""

    def __init__(self) -> None:
        self._bits: Dict[tuple, int] = {}
        self._in: Dict[str, Dict[str, int]] = {}  # attribute -> word -> bits of the tests listing it
        self._not_in: Dict[str, Dict[str, int]] = {}
        self._not_in_bits = 0
        self._regexes: List[Tuple[str, "re.Pattern[str]", int]] = []
        self._flags: List[Tuple[str, bool, int]] = []
        self._lengths: List[Tuple[int, int]] = []

    def bit(self, attr: str, op: str, value: Any) -> int:
        key = (attr, op, value)
        if key in self._bits:
            return self._bits[key]
        bit = 1 << len(self._bits)
        self._bits[key] = bit
        if op == "IN":
            index = self._in.setdefault(attr, {})
            for word in value:
                index[word] = index.get(word, 0) | bit
        elif op == "NOT_IN":
            index = self._not_in.setdefault(attr, {})
            for word in value:
                index[word] = index.get(word, 0) | bit
            self._not_in_bits |= bit
        elif op == "REGEX":
            self._regexes.append((attr, re.compile(value), bit))
        elif op == "FLAG":
            self._flags.append((attr, value, bit))
        else:  # LENGTH
            self._lengths.append((value, bit))
        return bit

    def passed(self, token: Any) -> int:
        """The bits of every test this token passes."""
        mask = self._not_in_bits
        for attr, index in self._not_in.items():
            mask &= ~index.get(getattr(token, _WORD_ATTRS[attr]), 0)
        for attr, index in self._in.items():
            mask |= index.get(getattr(token, _WORD_ATTRS[attr]), 0)
        for attr, pattern, bit in self._regexes:
            if pattern.search(getattr(token, _WORD_ATTRS[attr])):
                mask |= bit
        for attr, value, bit in self._flags:
            if getattr(token, _FLAG_ATTRS[attr]) == value:
                mask |= bit
        for length, bit in self._lengths:
            if len(token.text) == length:
                mask |= bit
        return mask


class _PatternSet:
    """All patterns of all tiers; finds every (start, end) where each named pattern matches."""

    def __init__(self, stop_words: Iterable[str]) -> None:
        self.tests = _TokenTests()
        self._stop_words = frozenset(stop_words)
        self._by_word: Dict[str, Dict[str, List[_Pattern]]] = {}  # attribute -> word -> patterns anchored there
        self._by_test: List[_Pattern] = []  # patterns with no required word ({LIKE_NUM: true}, a REGEX): tried per word

    def step(self, spec: Dict[str, Any]) -> _Step:
        """A validated token spec ({"LOWER": {"IN": [...]}, "OP": "?"}) as a step."""
        need = 0
        words: Optional[Tuple[str, frozenset]] = None
        for attr, value in spec.items():
            if attr == "OP":
                continue
            if attr in _FLAG_ATTRS:
                need |= self.tests.bit(attr, "FLAG", value)
            elif attr == "LENGTH":
                need |= self.tests.bit(attr, "LENGTH", value)
            elif isinstance(value, str):
                need |= self.tests.bit(attr, "IN", frozenset([value]))
                words = words or (attr, frozenset([value]))
            else:
                for op, argument in value.items():
                    argument = argument if op == "REGEX" else frozenset(argument)
                    need |= self.tests.bit(attr, op, argument)
                    if op == "IN":
                        words = words or (attr, argument)
        return _Step(need, spec.get("OP") == "?", words)

    def add(self, key: str, steps: List[_Step]) -> None:
        """Add one pattern (at least one step is required), anchored at its rarest required word."""
        required_steps = [i for i, s in enumerate(steps) if not s.optional]
        at = min(required_steps, key=lambda i: self._commonness(steps[i]))
        required = 0
        for i in required_steps:
            required |= steps[i].need
        pattern = _Pattern(key, tuple(reversed(steps[:at])), steps[at], tuple(steps[at + 1:]), required)
        anchor_words = steps[at].words
        if anchor_words is None:
            self._by_test.append(pattern)
            return
        attr, words = anchor_words
        index = self._by_word.setdefault(attr, {})
        for word in words:
            index.setdefault(word, []).append(pattern)

    def _commonness(self, step: _Step) -> Tuple[int, int]:
        """Rarer anchors are tried less often: a step with words before one without, fewer stop words
        ("can", "my") first, then fewer words."""
        if step.words is None:
            return len(self._stop_words) + 1, 0
        _, words = step.words
        return sum(w in self._stop_words for w in words), len(words)

    def match(self, doc: Any) -> Dict[str, List[Span]]:
        """{pattern key: sorted (start, end) token spans} for every match of every pattern in doc."""
        masks, anchored = self._words_of(doc)
        present = 0
        for mask in set(masks):
            present |= mask
        found: Dict[str, Set[Span]] = {}
        for position, patterns in enumerate(anchored):
            for pattern in patterns:
                if present & pattern.required != pattern.required:
                    continue
                starts = _reach(pattern.before, masks, position, -1)
                ends = _reach(pattern.after, masks, position + 1, +1) if starts else ()
                if ends:
                    found.setdefault(pattern.key, set()).update((s, e) for s in starts for e in ends)
        return {key: sorted(spans) for key, spans in found.items()}

    def _words_of(self, doc: Any) -> Tuple[List[int], List[List[_Pattern]]]:
        """Per token: the tests it passes, and the patterns whose anchor it is. Worked out once per
        distinct word of the message."""
        known: Dict[Tuple[str, str, str], Tuple[int, List[_Pattern]]] = {}
        masks: List[int] = []
        anchored: List[List[_Pattern]] = []
        for token in doc:
            key = (token.text, token.lemma_, token.norm_)
            if key not in known:
                mask = self.tests.passed(token)
                by_word = [p for attr, index in self._by_word.items()
                           for p in index.get(getattr(token, _WORD_ATTRS[attr]), ())]
                patterns = [p for p in by_word + self._by_test if mask & p.anchor.need == p.anchor.need]
                known[key] = (mask, patterns)
            mask, patterns = known[key]
            masks.append(mask)
            anchored.append(patterns)
        return masks, anchored


def _reach(steps: Tuple[_Step, ...], masks: List[int], boundary: int, direction: int) -> Set[int]:
    """Token boundaries reachable from `boundary` by matching `steps` one word at a time.

    direction +1 reads forward (the boundaries are match ends), -1 backward (match starts).
    """
    frontier = {boundary}
    if not steps:
        return frontier
    for step in steps:
        moved = set()
        for b in frontier:
            word = b if direction > 0 else b - 1
            if 0 <= word < len(masks) and masks[word] & step.need == step.need:
                moved.add(b + direction)
        frontier = frontier | moved if step.optional else moved
        if not frontier:
            break
    return frontier


class _SpecReader:
    """Reads the YAML token patterns ($terms, {GAP: n}) into validated token specs, naming the place of
    any mistake."""

    def __init__(self, terms: Dict[str, List[str]], source: str) -> None:
        self.terms = terms
        self.source = source

    def fail(self, where: str, message: str) -> SafetyDataError:
        return SafetyDataError(f"{self.source}: {where}: {message}")

    def words(self, values: Any, where: str) -> List[str]:
        """A list of words, with each $name replaced by that term list."""
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            raise self.fail(where, f"expected a list of words, got {values!r}")
        out: List[str] = []
        for value in values:
            if isinstance(value, str) and value.startswith("$") and len(value) > 1:
                if value[1:] not in self.terms:
                    raise self.fail(where, f"unknown term list {value}")
                out.extend(self.terms[value[1:]])
            elif isinstance(value, str):
                out.append(value)
            else:
                raise self.fail(where, f"{value!r} is not a word (quote no/yes/on/off/true/false and numbers)")
        return out

    def pattern(self, spec: Any, where: str) -> List[Dict[str, Any]]:
        if not isinstance(spec, list) or not spec:
            raise self.fail(where, "a pattern must be a non-empty list of tokens")
        tokens: List[Dict[str, Any]] = []
        for token in spec:
            tokens.extend(self._token(token, where))
        if all(t.get("OP") == "?" for t in tokens):
            raise self.fail(where, "a pattern needs at least one required token")
        return tokens

    def _token(self, spec: Any, where: str) -> List[Dict[str, Any]]:
        if not isinstance(spec, dict) or not spec:
            raise self.fail(where, f"each token must be a mapping, got {spec!r}")
        if "GAP" in spec:
            n = spec["GAP"]
            if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= _MAX_GAP or len(spec) != 1:
                raise self.fail(where, f"GAP must be alone and 0..{_MAX_GAP}, got {spec!r}")
            return [{"TEXT": {"NOT_IN": sorted(_SENTENCE_BREAKS)}, "OP": "?"} for _ in range(n)]
        token: Dict[str, Any] = {}
        for attr, value in spec.items():
            token[attr] = self._attribute(attr, value, where)
        return [token]

    def _attribute(self, attr: str, value: Any, where: str) -> Any:
        caseless = attr in _CASELESS_ATTRS
        if attr == "OP":
            if value != "?":
                raise self.fail(where, f'OP must be "?" (use {{GAP: n}} for a run of words), got {value!r}')
            return value
        if attr in _FLAG_ATTRS:
            if not isinstance(value, bool):
                raise self.fail(where, f"{attr} must be true or false, got {value!r}")
            return value
        if attr == "LENGTH":
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail(where, f"LENGTH must be a number, got {value!r}")
            return value
        if attr not in _WORD_ATTRS:
            raise self.fail(where, f"unknown token attribute {attr!r}")
        if isinstance(value, str):
            return value.lower() if caseless else value
        if not isinstance(value, dict):
            raise self.fail(where, f"{attr}: {value!r} is not a word (quote no/yes/on/off/true/false)")
        checked: Dict[str, Any] = {}
        for op, argument in value.items():
            if op in ("IN", "NOT_IN"):
                words = self.words(argument, where)
                checked[op] = [w.lower() for w in words] if caseless else words
            elif op == "REGEX":
                if not isinstance(argument, str):
                    raise self.fail(where, "REGEX must be a string")
                try:
                    re.compile(argument)
                except re.error as exc:
                    raise self.fail(where, f"invalid REGEX: {exc}") from exc
                if _REPEATED_GROUP.search(argument):
                    raise self.fail(where, "REGEX: a repeated group ( )* ( )+ ( ){n,} can take exponential time; "
                                           "repeat single characters instead")
                checked[op] = argument
            else:
                raise self.fail(where, f"unsupported operator {op!r}")
        return checked


# --------------------------------------------------------------------------------------------------
# Rules: the data files as tiers of categories made of groups of patterns.

@dataclass(frozen=True)
class _Group:
    key: str
    except_key: Optional[str]
    history_exempt: Optional[bool] = None  # None: as its category says; False for "who": a condition, a medicine


@dataclass(frozen=True)
class _Category:
    name: str
    kind: str
    description: str
    why: str
    source: str
    negatable: bool
    topic_exempt: bool
    history_exempt: bool
    rules: Tuple[Tuple[str, Tuple[_Group, ...]], ...]  # ("any_of" | "all_of", groups)


@dataclass(frozen=True)
class _Tier:
    """How a data file's categories are reported and which exemptions apply unless a category says."""

    name: str
    kind_is_category: bool  # restricted requests: the kind is the category name
    topic_exempt: bool
    history_exempt: bool
    needs_source: bool


_EMERGENCY_TIER = _Tier(EMERGENCY, kind_is_category=False, topic_exempt=True, history_exempt=True, needs_source=True)
_URGENT_TIER = _Tier(URGENT, kind_is_category=False, topic_exempt=True, history_exempt=True, needs_source=True)
_RESTRICTED_TIER = _Tier("restricted", kind_is_category=True, topic_exempt=False, history_exempt=False,
                         needs_source=False)

_CATEGORY_KEYS = {"description", "why", "source", "groups", "fires_when", "negatable", "topic_questions_exempt",
                  "history_exempt"}
_GROUP_KEYS = {"patterns", "phrases", "except", "except_phrases", "history_exempt"}
# Keys of the message-wide rules (red_flags.yml) in the pattern set.
_NEGATION, _NOT_A_NEGATION, _NEGATION_CANCELLED = "negation", "not_a_negation", "negation_cancelled"
_TOPIC_FRAME, _EXPERIENCE, _HISTORY = "topic_frame", "experience", "history"


@dataclass(frozen=True)
class _SharedRules:
    """The message-wide rules of red_flags.yml: negation, past history, topic questions."""

    negation_window: int
    negation_stops: frozenset
    history_window: int
    history_stops: frozenset


def _load_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise SafetyDataError(f"safety data file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SafetyDataError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or "categories" not in data:
        raise SafetyDataError(f"{path}: expected a mapping with a 'categories' section")
    return data


class _RuleBuilder:
    """Compiles the data files into one pattern set and a list of categories per tier."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp
        self.patterns = _PatternSet(nlp.Defaults.stop_words)
        self.terms: Dict[str, List[str]] = {}
        self.respell: Dict[str, str] = {}
        self.shared_groups: Dict[str, _Group] = {}  # usable by the categories of this and later files

    def shared_rules(self, data: dict, source: str) -> _SharedRules:
        """Terms, respellings, negation, history and topic-question rules (red_flags.yml only)."""
        self._read_terms(data, source)
        reader = _SpecReader(self.terms, source)
        negation = data.get("negation")
        if not isinstance(negation, dict):
            raise SafetyDataError(f"{source}: missing 'negation' section")
        self._add(reader, _NEGATION, negation.get("cues"), negation.get("cue_phrases"), "negation.cues")
        self._add(reader, _NOT_A_NEGATION, negation.get("not_a_negation"), None, "negation.not_a_negation")
        self._add(reader, _NEGATION_CANCELLED, negation.get("cancelled_by_following"), None,
                  "negation.cancelled_by_following")
        history = data.get("history") or {}
        self._add(reader, _HISTORY, history.get("cues"), history.get("cue_phrases"), "history.cues")
        topics = data.get("topic_questions") or {}
        self._add(reader, _TOPIC_FRAME, topics.get("frames"), topics.get("frame_phrases"), "topic_questions.frames")
        self._add(reader, _EXPERIENCE, topics.get("experience_cues"), topics.get("experience_phrases"),
                  "topic_questions.experience_cues")
        return _SharedRules(
            negation_window=int(negation.get("window", 5)),
            negation_stops=frozenset(w.lower() for w in reader.words(negation.get("stop_at") or [], "negation.stop_at")),
            history_window=int(history.get("window", 4)),
            history_stops=frozenset(w.lower() for w in reader.words(history.get("stop_at") or [], "history.stop_at")),
        )

    def categories(self, data: dict, source: str, tier: _Tier) -> List[_Category]:
        """One data file's categories, in file order (its terms and shared groups add to those before)."""
        self._read_terms(data, source)
        reader = _SpecReader(self.terms, source)
        for name, group in (data.get("shared_groups") or {}).items():
            self.shared_groups[name] = self._group(reader, f"{tier.name}:shared_groups.{name}", group)
        categories = data["categories"]
        if not isinstance(categories, dict) or not categories:
            raise SafetyDataError(f"{source}: 'categories' must be a non-empty mapping")
        return [self._category(reader, tier, name, body) for name, body in categories.items()]

    def _read_terms(self, data: dict, source: str) -> None:
        terms = data.get("terms") or {}
        if not isinstance(terms, dict):
            raise SafetyDataError(f"{source}: 'terms' must be a mapping")
        plain = _SpecReader({}, source)
        for name, words in terms.items():
            self.terms[name] = plain.words(words, f"terms.{name}")
        respell = data.get("respell") or {}
        if not isinstance(respell, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in respell.items()):
            raise SafetyDataError(f"{source}: 'respell' must map words to words (quote no/yes/on/off)")
        self.respell.update({k.lower(): v.lower() for k, v in respell.items()})

    def _category(self, reader: _SpecReader, tier: _Tier, name: str, body: Any) -> _Category:
        where = f"categories.{name}"
        if not isinstance(body, dict):
            raise reader.fail(where, "must be a mapping")
        unknown = set(body) - _CATEGORY_KEYS
        if unknown:
            raise reader.fail(where, f"unknown keys {sorted(unknown)}")
        required = ("description", "why") + (("source",) if tier.needs_source else ())
        for key in required:
            if not body.get(key):
                raise reader.fail(where, f"missing '{key}'")
        if not body.get("groups") and not body.get("fires_when"):
            raise reader.fail(where, "needs 'groups' (or 'fires_when' naming shared groups)")
        groups = {g: self._group(reader, f"{tier.name}:{where}.{g}", gbody)
                  for g, gbody in (body.get("groups") or {}).items()}
        available = {**self.shared_groups, **groups}
        rules = []
        for rule in body.get("fires_when") or [{"any_of": list(groups)}]:
            if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("any_of", "all_of"):
                raise reader.fail(where, "each fires_when rule is one any_of/all_of list")
            op, names = next(iter(rule.items()))
            for group_name in names:
                if group_name not in available:
                    raise reader.fail(where, f"fires_when names unknown group {group_name!r}")
            rules.append((op, tuple(available[g] for g in names)))
        return _Category(
            name=name,
            kind=name if tier.kind_is_category else tier.name,
            description=str(body["description"]).strip(),
            why=str(body["why"]).strip(),
            source=str(body.get("source") or "").strip(),
            negatable=bool(body.get("negatable", True)),
            topic_exempt=bool(body.get("topic_questions_exempt", tier.topic_exempt)),
            history_exempt=bool(body.get("history_exempt", tier.history_exempt)),
            rules=tuple(rules),
        )

    def _group(self, reader: _SpecReader, key: str, body: Any) -> _Group:
        where = key.split(":", 1)[1]
        if not isinstance(body, dict):
            raise reader.fail(where, "a group must be a mapping")
        unknown = set(body) - _GROUP_KEYS
        if unknown:
            raise reader.fail(where, f"unknown keys {sorted(unknown)}")
        if not self._add(reader, key, body.get("patterns"), body.get("phrases"), where):
            raise reader.fail(where, "a group needs patterns or phrases")
        except_key = key + ".except"
        has_except = self._add(reader, except_key, body.get("except"), body.get("except_phrases"), where + ".except")
        history_exempt = body.get("history_exempt")
        if history_exempt is not None and not isinstance(history_exempt, bool):
            raise reader.fail(where, "history_exempt must be true or false")
        return _Group(key, except_key if has_except else None, history_exempt)

    def _add(self, reader: _SpecReader, key: str, patterns: Any, phrases: Any, where: str) -> bool:
        """Add a key's token patterns and phrases to the pattern set; False when there are none."""
        added = False
        if patterns:
            if not isinstance(patterns, list):
                raise reader.fail(where, "'patterns' must be a list")
            for number, spec in enumerate(patterns, start=1):
                steps = [self.patterns.step(t) for t in reader.pattern(spec, f"{where} pattern {number}")]
                self.patterns.add(key, steps)
                added = True
        if phrases:
            for phrase in reader.words(phrases, f"{where} phrases"):
                words = [t.text for t in self.nlp.make_doc(clean_for_screening(phrase).lower())]
                if words:
                    self.patterns.add(key, [self.patterns.step({"LOWER": w}) for w in words])
                    added = True
        return added


# --------------------------------------------------------------------------------------------------
# One message, parsed and matched once, judged by each tier's categories.

@dataclass(frozen=True)
class _Source:
    """The cleaned message in its original casing, and how to map doc offsets back onto it."""

    text: str
    offsets: Optional[Tuple[List[int], List[int]]] = None

    def text_of(self, span: Any) -> str:
        if span.end_char <= span.start_char:
            return span.text
        if self.offsets is None:
            return self.text[span.start_char:span.end_char]
        starts, ends = self.offsets
        return self.text[starts[span.start_char]:ends[span.end_char - 1]]


class _Message:
    """A parsed message: its sentences, every pattern match, and the four rules applied to a match.

    Everything a rule looks up is indexed here once, so judging a match costs the same whatever the
    number of other matches in the message.
    """

    def __init__(self, doc: Any, source: _Source, matches: Dict[str, List[Span]], rules: _SharedRules) -> None:
        self.doc = doc
        self.source = source
        self.matches = matches
        self.rules = rules
        self.words = [token.lower_ for token in doc]
        self.sentence_of, self.sentences = _sentences(doc)
        pseudo = _covered(matches.get(_NOT_A_NEGATION, []))
        self.negation_cues = _covered(matches.get(_NEGATION, [])) - pseudo
        self.negation_cancels = {s for s, _ in matches.get(_NEGATION_CANCELLED, [])}
        self.history_after, self.history_before = self._history_reach(matches.get(_HISTORY, []))
        self.frame_sentences = {self.sentence_of[s] for s, _ in matches.get(_TOPIC_FRAME, [])}
        self.experience_sentences = {self.sentence_of[s] for s, _ in matches.get(_EXPERIENCE, [])}
        self._exceptions: Dict[str, Set[int]] = {}
        self._findings: Dict[Tuple[str, str], Optional[SafetyFinding]] = {}

    def first_finding(self, categories: List[_Category]) -> Optional[SafetyFinding]:
        for category in categories:
            finding = self.finding(category)
            if finding is not None:
                return finding
        return None

    def finding(self, category: _Category) -> Optional[SafetyFinding]:
        """The category's finding when one of its fires_when rules holds, else None."""
        key = (category.kind, category.name)
        if key not in self._findings:
            self._findings[key] = self._judge(category)
        return self._findings[key]

    def _judge(self, category: _Category) -> Optional[SafetyFinding]:
        for op, groups in category.rules:
            hits = [self.surviving(group, category) for group in groups]
            if op == "any_of":
                live = sorted(span for spans in hits for span in spans)
                if live:
                    return SafetyFinding(category.kind, category.name, self.text_of(_merge_first(live)))
            elif all(hits):
                spans = sorted(_merge_first(h) for h in hits)
                return SafetyFinding(category.kind, category.name, " + ".join(self.text_of(s) for s in spans))
        return None

    def surviving(self, group: _Group, category: _Category) -> List[Span]:
        """The group's matches that no exception, negation, past history or topic question removes,
        earliest first (longest first at the same start)."""
        excepted = self._excepted(group.except_key)
        history_exempt = category.history_exempt if group.history_exempt is None else group.history_exempt
        keep = [span for span in self.matches.get(group.key, [])
                if not any(t in excepted for t in range(*span))
                and not (category.negatable and self.is_negated(span))
                and not (history_exempt and self.is_history(span))
                and not (category.topic_exempt and self.is_topic_question(span))]
        keep.sort(key=lambda span: (span[0], span[0] - span[1]))
        return keep

    def _excepted(self, key: Optional[str]) -> Set[int]:
        """The words inside an `except` match of a group: a match touching one of them is dropped."""
        if key is None:
            return set()
        if key not in self._exceptions:
            self._exceptions[key] = _covered(self.matches.get(key, []))
        return self._exceptions[key]

    def is_negated(self, span: Span) -> bool:
        """A negation cue within the window before the match, with no stop word in between, and not
        cancelled by "like this" / "before" just after it."""
        start, end = span
        sentence_start = self.sentences[self.sentence_of[start]][0]
        for t in range(start - 1, max(sentence_start, start - self.rules.negation_window) - 1, -1):
            if t in self.negation_cues:
                return not self._negation_cancelled(start, end)
            if self.words[t] in self.rules.negation_stops:
                return False
        return False

    def _negation_cancelled(self, start: int, end: int) -> bool:
        sentence = self.sentence_of[start]
        return any(c in self.negation_cancels and self.sentence_of[c] == sentence
                   for c in range(end, min(end + 5, len(self.words))))

    def is_history(self, span: Span) -> bool:
        """A history cue ("as a child", "years ago") within the window before or after the match, in the
        same sentence, with no history stop word ("but", "now", "again") in between."""
        sentence = self.sentence_of[span[0]]
        return sentence in self.history_after.get(span[1], ()) or sentence in self.history_before.get(span[0], ())

    def _history_reach(self, cues: List[Span]) -> Tuple[Dict[int, Set[int]], Dict[int, Set[int]]]:
        """For each history cue, the match ends it follows and the match starts it precedes (within the
        window, no stop word between), each with the cue's sentence."""
        window, stops = self.rules.history_window, self.rules.history_stops
        after: Dict[int, Set[int]] = {}  # match end -> sentences of cues starting just after it
        before: Dict[int, Set[int]] = {}  # match start -> sentences of cues ending just before it
        for cue_start, cue_end in cues:
            sentence = self.sentence_of[cue_start]
            boundary = cue_start
            while boundary > cue_start - window:
                after.setdefault(boundary, set()).add(sentence)
                if boundary == 0 or self.words[boundary - 1] in stops:
                    break
                boundary -= 1
            boundary = cue_end
            while boundary < min(cue_end + window, len(self.words)):
                before.setdefault(boundary, set()).add(sentence)
                if self.words[boundary] in stops:
                    break
                boundary += 1
        return after, before

    def is_topic_question(self, span: Span) -> bool:
        sentence = self.sentence_of[span[0]]
        return sentence in self.frame_sentences and sentence not in self.experience_sentences

    def text_of(self, span: Span) -> str:
        return self.source.text_of(self.doc[span[0]:span[1]])


def _covered(spans: List[Span]) -> Set[int]:
    return {t for start, end in spans for t in range(start, end)}


def _sentences(doc: Any) -> Tuple[List[int], List[Span]]:
    sentence_of = [0] * len(doc)
    bounds: List[Span] = []
    for number, sentence in enumerate(doc.sents):
        bounds.append((sentence.start, sentence.end))
        sentence_of[sentence.start:sentence.end] = [number] * (sentence.end - sentence.start)
    return sentence_of, bounds


def _merge_first(spans: List[Span]) -> Span:
    """The earliest span, extended by the spans that overlap it ("crushing chest" + "chest pain")."""
    start, end = spans[0]
    for s, e in spans[1:]:
        if s >= end:
            break
        end = max(end, e)
    return start, end


# --------------------------------------------------------------------------------------------------

class SafetyScreen:
    """Red-flag, urgent and restricted-request screen. Build once (about a second), then a few ms a message."""

    def __init__(self, red_flags_path: Optional[Path] = None, restricted_path: Optional[Path] = None,
                 urgent_path: Optional[Path] = None) -> None:
        from bot.nlp import make_base_pipeline  # imports spaCy: only when a screen is built

        data_dir = default_data_dir()
        self.red_flags_path = Path(red_flags_path) if red_flags_path else data_dir / "red_flags.yml"
        self.restricted_path = Path(restricted_path) if restricted_path else data_dir / "restricted_requests.yml"
        self.urgent_path = Path(urgent_path) if urgent_path else data_dir / "urgent.yml"
        self.nlp = make_base_pipeline()
        builder = _RuleBuilder(self.nlp)
        red = _load_yaml(self.red_flags_path)
        self._rules = builder.shared_rules(red, str(self.red_flags_path))
        self._red = builder.categories(red, str(self.red_flags_path), _EMERGENCY_TIER)
        self._urgent = builder.categories(_load_yaml(self.urgent_path), str(self.urgent_path), _URGENT_TIER)
        self._restricted = builder.categories(_load_yaml(self.restricted_path), str(self.restricted_path),
                                              _RESTRICTED_TIER)
        self._patterns = builder.patterns
        self._respell = builder.respell
        self._respell_re = _respelling_expression(builder.respell)
        # screen() then urgent() on the same message parse it once; small, so few messages stay in memory.
        self._message = lru_cache(maxsize=4)(self._parse)

    # public API -----------------------------------------------------------------------------------

    def red_flag(self, text: Any) -> Optional[SafetyFinding]:
        """The first emergency category (file order) that fires on this message, else None."""
        message = self._message(_as_text(text))
        return message.first_finding(self._red) if message else None

    def urgent(self, text: Any) -> Optional[SafetyFinding]:
        """The first "see a doctor today" category that fires, else None; always None for an emergency."""
        message = self._message(_as_text(text))
        if message is None or message.first_finding(self._red) is not None:
            return None
        return message.first_finding(self._urgent)

    def restricted_request(self, text: Any) -> Optional[SafetyFinding]:
        """The first restricted request (medication change, dose, diagnosis) in this message, else None."""
        message = self._message(_as_text(text))
        return message.first_finding(self._restricted) if message else None

    def screen(self, text: Any) -> Optional[SafetyFinding]:
        """The red flag first (an emergency always wins), then a restricted request, else None.

        The urgent tier is not part of it: ask ``urgent()`` when this returns no emergency.
        """
        message = self._message(_as_text(text))
        if message is None:
            return None
        return message.first_finding(self._red) or message.first_finding(self._restricted)

    @property
    def red_flag_categories(self) -> Dict[str, Dict[str, str]]:
        """{category: {"description", "why", "source"}} for the emergency categories, in priority order."""
        return _described(self._red)

    @property
    def urgent_categories(self) -> Dict[str, Dict[str, str]]:
        return _described(self._urgent)

    @property
    def restricted_categories(self) -> Dict[str, Dict[str, str]]:
        return _described(self._restricted)

    # internals ------------------------------------------------------------------------------------

    def _parse(self, text: str) -> Optional[_Message]:
        clean = clean_for_screening(text)
        if not _LETTER_OR_DIGIT.search(clean):
            return None
        doc, source = self._words(_clip_words(clean))
        for _, component in self.nlp.pipeline:  # sentences and lemmas
            doc = component(doc)
        return _Message(doc, source, self._patterns.match(doc), self._rules)

    def _words(self, clean: str) -> Tuple[Any, _Source]:
        """The lower-cased, respelled message cut into words, and the way back to the cleaned text."""
        lowered = clean.lower()
        if len(lowered) != len(clean):  # a few characters change length when lower-cased
            clean = lowered
        lowered, offsets = self._respelled(lowered)
        return self.nlp.make_doc(lowered), _Source(clean, offsets)

    def _respelled(self, lowered: str) -> Tuple[str, Optional[Tuple[List[int], List[int]]]]:
        """Rewrite misspellings that change how words split ("cnt" -> "can't"), remembering for each new
        character where it came from."""
        if self._respell_re is None or not self._respell_re.search(lowered):
            return lowered, None
        parts: List[str] = []
        starts: List[int] = []
        ends: List[int] = []
        position = 0
        for m in self._respell_re.finditer(lowered):
            parts.append(lowered[position:m.start()])
            starts.extend(range(position, m.start()))
            ends.extend(range(position + 1, m.start() + 1))
            new = self._respell[m.group(1)]
            parts.append(new)
            starts.extend([m.start()] * len(new))
            ends.extend([m.end()] * len(new))
            position = m.end()
        parts.append(lowered[position:])
        starts.extend(range(position, len(lowered)))
        ends.extend(range(position + 1, len(lowered) + 1))
        return "".join(parts), (starts, ends)


def _clip_words(clean: str) -> str:
    """Text of very many short words ("a<a<a<...") is cut like long text: its first MAX_HEAD_WORDS and
    last MAX_TAIL_WORDS words (counted roughly, as runs of letters and single symbols)."""
    limit = MAX_HEAD_WORDS + MAX_TAIL_WORDS
    if len(clean) <= limit:
        return clean
    starts = [m.start() for m in _WORD_OR_SYMBOL.finditer(clean)]
    if len(starts) <= limit:
        return clean
    return clean[:starts[MAX_HEAD_WORDS]] + " . " + clean[starts[-MAX_TAIL_WORDS]:]


def _respelling_expression(respell: Dict[str, str]) -> Optional["re.Pattern[str]"]:
    if not respell:
        return None
    words = "|".join(re.escape(w) for w in sorted(respell, key=len, reverse=True))
    return re.compile(r"(?<![\w'])(" + words + r")(?![\w'])")


def _described(categories: List[_Category]) -> Dict[str, Dict[str, str]]:
    return {c.name: {"description": c.description, "why": c.why, "source": c.source} for c in categories}


@lru_cache(maxsize=1)
def default_screen() -> SafetyScreen:
    """The shared screen over the default data files (built on first use, then cached)."""
    return SafetyScreen()


if __name__ == "__main__":  # pragma: no cover - manual check: python -m bot.safety "message"
    import sys

    screen = default_screen()
    for line in (sys.argv[1:] or sys.stdin):
        print(repr(line.strip()), "->", screen.screen(line), "| urgent:", screen.urgent(line))
