"""Terms the documents explain or use, found by rules while the store is built (the term index).

A term is a name a patient may ask about ("What are DMARDs?", "what is an enthesis?"): a condition, a
drug, a test, a body structure, any technical word. Nothing here lists terms: they come from

* **definitions** in the passage itself, which make the passage the term's explanation:
  an abbreviation after its long form, "disease-modifying antirheumatic drugs (DMARDs)" (the
  Schwartz & Hearst 2003 algorithm); a dash or comma apposition, "the entheses—the sites where
  ligaments and tendons attach to bone—"; a copula at the start of a sentence, "X is a chronic
  inflammatory disease", "X are conditions where ..."; naming, "known as X", "called X";
* **mentions**: the conditions of the vocabulary (the extractor's entities), names the public medical
  lexicon recognises (``bot.lexicon``, when it is installed), acronyms ("MRI"), and words shaped like
  medical terms (Greek and Latin combining forms, ``data/fact_rules.yml`` ``terms.word_patterns``),
  with the word they describe ("sacroiliac joints", "psychosomatic pain").

The cues and shapes are data (``data/fact_rules.yml``, section ``terms``); the clinic's ignore list is
in ``data/vocabulary.yml``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, Span

#: How much a passage explains a term: ranks the term's passages (higher first).
STRENGTH = {"definition": 3, "abbreviation": 2, "mention": 0}
LEXICON_KINDS = ("condition", "drug", "procedure", "symptom", "body_part")
_DASHES = {"—", "–", "--"}
_ARTICLES = {"a", "an", "the"}
#: Stop words that end a name as its head noun ("weaver's bottom", "frozen back"), never start one.
_NOUN_STOP_WORDS = {"back", "bottom", "front", "top", "side", "part"}
_ACRONYM = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Z][A-Za-z0-9]*[A-Z0-9][a-z]?$")  # MRI, DMARDs, PsA, SLE


@dataclass(frozen=True)
class FoundTerm:
    """One term in one passage."""

    surface: str  # as the passage writes it ("entheses", or the long form of an abbreviation)
    kind: str  # condition | drug | procedure | symptom | body_part | term
    spellings: Tuple[str, ...]  # every name it goes by here (surface, abbreviation, canonical name)
    rule: str  # definition | abbreviation | mention
    start: int  # character offsets in the passage text
    end: int
    key: Optional[str] = None  # a fixed key (a vocabulary condition's key), else derived from the name
    category: Optional[str] = None  # what a definition says it is ("disorder" in "X is a rare disorder")

    @property
    def defines(self) -> bool:
        return self.rule != "mention"

    @property
    def strength(self) -> int:
        return STRENGTH[self.rule]


@dataclass(frozen=True)
class TermRules:
    word_patterns: Tuple[re.Pattern, ...] = ()
    modifier_endings: Tuple[str, ...] = ()
    skip_endings: Tuple[str, ...] = ()
    categories: FrozenSet[str] = frozenset()
    apposition_openers: FrozenSet[str] = frozenset()
    naming_cues: Tuple[Tuple[str, ...], ...] = ()
    relatives: FrozenSet[str] = frozenset()
    max_words: int = 5
    lexicon_sources: FrozenSet[str] = frozenset({"vocabulary", "lay", "icd10cm", "drugs"})


def parse_term_rules(data: Optional[dict]) -> TermRules:
    """The ``terms`` section of the fact rules."""
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError("terms: expected a mapping")
    try:
        patterns = tuple(re.compile(p) for p in data.get("word_patterns", []))
    except re.error as error:
        raise ValueError(f"terms.word_patterns: {error}") from error
    return TermRules(
        word_patterns=patterns,
        modifier_endings=tuple(data.get("modifier_endings", [])),
        skip_endings=tuple(w.lower() for w in data.get("skip_endings", [])),
        categories=frozenset(w.lower() for w in data.get("categories", [])),
        apposition_openers=frozenset(w.lower() for w in data.get("apposition_openers", [])),
        naming_cues=tuple(tuple(cue.lower().split()) for cue in data.get("naming_cues", [])),
        relatives=frozenset(w.lower() for w in data.get("relatives", [])),
        max_words=int(data.get("max_words", 5)),
        lexicon_sources=frozenset(data.get("lexicon_sources", ["vocabulary", "lay", "icd10cm", "drugs"])),
    )


@dataclass(frozen=True)
class _Seen:
    """What recognises spans of one passage: the lexicon's and the extractor's (token start, end)."""

    lexicon: Dict[Tuple[int, int], Tuple[str, str]]
    known: Dict[Tuple[int, int], Tuple[str, str, Optional[str]]]


@dataclass(frozen=True)
class _Unit:
    """A word, hyphenated words kept together ("anti-inflammatory"), or one punctuation mark."""

    start: int  # token indices
    end: int
    text: str

    @property
    def is_word(self) -> bool:
        return self.text[:1].isalnum()


class TermFinder:
    """Finds the terms of a passage. ``known(doc)`` gives (kind, canonical name, key) for each span the
    extractor recognised (a vocabulary condition); ``lexicon(text)`` gives the lexicon's subjects of a
    text (or is None when the lexicon is not installed)."""

    def __init__(
        self,
        rules: TermRules,
        known: Callable[[Doc], Dict[Tuple[int, int], Tuple[str, str, Optional[str]]]],
        not_terms: Iterable[str] = (),
        lexicon: Optional[Callable[[str], Sequence]] = None,
    ):
        self.rules = rules
        self.known = known
        self.not_terms = frozenset(word.lower() for word in not_terms)
        self.lexicon = lexicon

    def find(self, doc: Doc, mentions: bool = True) -> List[FoundTerm]:
        """The terms of a passage (``mentions=False``: only what it defines)."""
        units = _units(doc)
        seen = _Seen(self.lexicon_spans(doc), self.known(doc))
        definitions = [
            *self._abbreviations(doc, units, seen),
            *self._appositions(doc, units, seen),
            *self._copulas(doc, units, seen),
            *self._namings(doc, units, seen),
        ]
        used = self._mentions(doc, units, seen) if mentions else []
        found: List[FoundTerm] = []
        taken: List[Tuple[int, int]] = []
        for term in sorted(definitions, key=lambda t: -t.strength):  # each definition once; a mention of the same words is dropped
            same = next((k for k, f in enumerate(found) if (f.start, f.end) == (term.start, term.end)), None)
            if same is None:
                found.append(term)
                taken.append((term.start, term.end))
            else:  # "Eosinophilic fasciitis (EF) is a ...": one definition, with both names
                found[same] = replace(found[same], spellings=tuple(dict.fromkeys(found[same].spellings + term.spellings)))
        for term in sorted(used, key=lambda t: (-(t.end - t.start), t.start)):
            if all(term.end <= s or term.start >= e for s, e in taken):
                found.append(term)
                taken.append((term.start, term.end))
        return sorted(found, key=lambda t: (t.start, -t.end))

    # -- what a span is ---------------------------------------------------------------------------
    def lexicon_spans(self, doc: Doc) -> Dict[Tuple[int, int], Tuple[str, str]]:
        """(first token, end token) -> (kind, name) for the lexicon's subjects in the passage."""
        if self.lexicon is None:
            return {}
        out: Dict[Tuple[int, int], Tuple[str, str]] = {}
        for subject in self.lexicon(doc.text):
            if subject.kind not in LEXICON_KINDS or getattr(subject, "source", None) not in self.rules.lexicon_sources:
                continue
            if subject.kind == "body_part" and subject.source == "vocabulary":
                continue  # the clinic's pain sites: pain types, not terms
            if subject.kind == "condition" and self._generic_condition(subject.text):  # the words written, not the name
                continue
            span = doc.char_span(subject.start, subject.end, alignment_mode="expand")
            if span is not None and not _proper_name(span):
                out[(span.start, span.end)] = (subject.kind, _strip_article(subject.name))
        return out

    def _describe(self, doc: Doc, start: int, end: int, seen: _Seen) -> Tuple[Optional[str], Tuple[str, ...], Optional[str]]:
        """(kind, extra spellings, fixed key) of a span: a vocabulary condition, a lexicon name, or a
        term shaped like one (kind None when nothing recognises it)."""
        span = doc[start:end]
        known = seen.known.get((start, end))
        if known is not None:
            kind, name, key = known
            return kind, (name,), key
        if (start, end) in seen.lexicon:
            kind, name = seen.lexicon[(start, end)]
            return kind, (name,), None
        text = span.text
        if _ACRONYM.match(text) or all(self._termlike(unit.text) for unit in _units(span) if unit.is_word):
            return "term", (), None
        return None, (), None

    def _generic_condition(self, name: str) -> bool:
        """A category with describing words ("systemic disease", "inflammatory disorder"), not a name
        ("Behçet's disease" has a proper name in it)."""
        words = name.split()
        if len(words) < 2 or words[-1].lower() not in self.rules.categories:
            return False
        return not any(w[:1].isupper() or "'" in w or "’" in w for w in words[:-1])

    def _termlike(self, word: str) -> bool:
        lowered = word.lower()
        if lowered.endswith(self.rules.skip_endings):
            return False
        return any(pattern.search(lowered) for pattern in self.rules.word_patterns)

    def _acceptable(self, text: str) -> bool:
        lowered = " ".join(text.lower().split())
        return bool(lowered) and lowered not in self.not_terms and len(lowered) >= 2 and any(ch.isalpha() for ch in lowered)

    def _term(self, doc: Doc, start: int, end: int, rule: str, seen: _Seen, kind: Optional[str] = None,
              spellings: Sequence[str] = (), category: Optional[str] = None) -> Optional[FoundTerm]:
        span = doc[start:end]
        text = span.text.strip()
        if not self._acceptable(text):
            return None
        described, extra, key = self._describe(doc, start, end, seen)
        kind = described if described not in (None, "term") else (kind or described or "term")
        names = tuple(dict.fromkeys([text, *spellings, *extra]))
        return FoundTerm(text, kind, names, rule, span.start_char, span.end_char, key, category)

    # -- definitions ------------------------------------------------------------------------------
    def _abbreviations(self, doc: Doc, units: List[_Unit], seen: _Seen) -> Iterable[FoundTerm]:
        """'<long form> (<ABBR>)': the long form whose letters spell the abbreviation."""
        for i, token in enumerate(doc):
            if token.text != "(":
                continue
            close = next((j for j in range(i + 1, min(i + 4, len(doc))) if doc[j].text == ")"), None)
            if close is None or close == i + 1:
                continue
            short = doc[i + 1 : close].text
            if not (2 <= len(short) <= 10 and short[0].isalnum() and any(ch.isupper() for ch in short)):
                continue
            before = [u for u in units if u.end <= i]
            cut = max((k + 1 for k, u in enumerate(before) if not u.is_word), default=0)
            window = before[cut:][-min(len(short) + 5, 2 * len(short)):]
            long_start = _long_form_start(short, window)
            if long_start is None:
                continue
            described = self._term(doc, long_start, i, "abbreviation", seen, spellings=(short,))
            if described is not None:
                short_kind, _, _ = self._describe(doc, i + 1, close, seen)
                if described.kind == "term" and short_kind not in (None, "term"):
                    described = replace(described, kind=short_kind)
                yield described

    def _appositions(self, doc: Doc, units: List[_Unit], seen: _Seen) -> Iterable[FoundTerm]:
        """'X—the sites where ...—' and 'X, a ... that ...,': X is what the passage explains."""
        for index, unit in enumerate(units):
            if index == 0 or index + 1 >= len(units):
                continue
            after = units[index + 1].text.lower()
            if after not in self.rules.apposition_openers:
                continue
            if unit.text not in _DASHES and unit.text != ",":
                continue
            rest = [u.text.lower() for u in units[index + 2 : index + 12]]
            ends = next((k for k, word in enumerate(rest) if word in {",", ".", ";", "—", "–"}), len(rest))
            clause = rest[:ends]
            category = next((word for word in clause if word in self.rules.categories), None)
            if unit.text == "," and not (set(clause) & self.rules.relatives or category):
                continue
            left = self._left_phrase(doc, units, index, seen, require_known=unit.text == ",")
            if left is not None:
                term = self._term(doc, left[0], left[1], "definition", seen, category=category)
                if term is not None:
                    yield term

    def _copulas(self, doc: Doc, units: List[_Unit], seen: _Seen) -> Iterable[FoundTerm]:
        """'X is a ...' / 'X are conditions where ...' at the start of the sentence."""
        words = [u for u in units if u.text not in {"(", ")"}]
        first = 1 if words and words[0].text.lower() in {"the", "a", "an"} else 0
        copula = next((k for k, u in enumerate(words[: self.rules.max_words + 3]) if u.text.lower() in {"is", "are"}), None)
        if copula is None or copula <= first:
            return
        subject = [u for u in words[first:copula] if not _inside_brackets(doc, u)]
        if not subject or len(subject) > self.rules.max_words or any(doc[u.start].is_stop and not _ACRONYM.match(u.text) for u in subject):
            return
        if any(not u.is_word for u in subject) or all(u.text.lower() in self.rules.categories for u in subject):
            return  # "Treatment is with ...": a category word is not a name
        complement = [u.text.lower() for u in words[copula + 1 : copula + 9]]
        if not complement:
            return
        category = next((word for word in complement[:7] if word in self.rules.categories), None)
        categorical = category is not None
        relative = bool(set(complement[1:3]) & self.rules.relatives)
        if not (complement[0] in {"a", "an", "one"} or categorical or relative):
            return
        start, end = subject[0].start, subject[-1].end
        kind, _, _ = self._describe(doc, start, end, seen)
        if kind is None and not categorical:
            return
        term = self._term(doc, start, end, "definition", seen, category=category)
        if term is not None:
            yield term

    def _namings(self, doc: Doc, units: List[_Unit], seen: _Seen) -> Iterable[FoundTerm]:
        """'known as X', 'called X' (and 'Y, also known as X': Y is another name for X)."""
        lowered = [u.text.lower() for u in units]
        for cue in self.rules.naming_cues:
            n = len(cue)
            for index in range(len(units) - n):
                if tuple(lowered[index : index + n]) != cue:
                    continue
                right = units[index + n : index + n + self.rules.max_words + 1]
                if right and right[0].text.lower() in _ARTICLES:
                    right = right[1:]  # "also known as a popliteal cyst"
                right = right[: self.rules.max_words]
                taken: List[_Unit] = []
                for unit in right:
                    noun = taken and unit.text.lower() in _NOUN_STOP_WORDS  # "weaver's bottom"
                    if not unit.is_word or (doc[unit.start].is_stop and not _ACRONYM.match(unit.text) and not noun):
                        break
                    taken.append(unit)
                if not taken:
                    continue
                spellings: Tuple[str, ...] = ()
                if index >= 1 and lowered[index - 1] == ",":
                    left = self._left_phrase(doc, units, index - 1, seen, require_known=False)
                    if left is not None and not self._site(doc, *left, seen):
                        spellings = (doc[left[0] : left[1]].text,)
                term = self._term(doc, taken[0].start, taken[-1].end, "definition", seen, spellings=spellings)
                if term is not None:
                    yield term

    def _site(self, doc: Doc, start: int, end: int, seen: _Seen) -> bool:
        """A body part ("sores inside the mouth, known as ..."): never another name for what follows."""
        text = doc[start:end].text.lower()
        return text in self.not_terms or seen.lexicon.get((start, end), ("", ""))[0] == "body_part"

    def _left_phrase(self, doc: Doc, units: List[_Unit], index: int, seen: _Seen, require_known: bool) -> Optional[Tuple[int, int]]:
        """The words just before ``units[index]``: no stop words, at most ``max_words``, starting at
        the first word something recognises (so "stimulates osteoclast activity" gives
        "osteoclast activity"); a bracketed abbreviation right before is skipped."""
        k = index - 1
        if k >= 0 and units[k].text == ")":
            while k >= 0 and units[k].text != "(":
                k -= 1
            k -= 1
        phrase: List[_Unit] = []
        while k >= 0 and len(phrase) < self.rules.max_words:
            unit = units[k]
            if not unit.is_word or (doc[unit.start].is_stop and not _ACRONYM.match(unit.text)):
                break
            phrase.insert(0, unit)
            k -= 1
        for first in range(len(phrase)):
            start, end = phrase[first].start, phrase[-1].end
            kind, _, _ = self._describe(doc, start, end, seen)
            if kind is not None or self._termlike(phrase[first].text) or (first == len(phrase) - 1 and not require_known):
                # the describing words right before it belong to it: "plantar fascia", not "fascia"
                while first > 0 and phrase[first - 1].text.lower().endswith(self.rules.modifier_endings):
                    first -= 1
                return phrase[first].start, end
        return None

    # -- mentions ---------------------------------------------------------------------------------
    def _mentions(self, doc: Doc, units: List[_Unit], seen: _Seen) -> List[FoundTerm]:
        found: List[FoundTerm] = []
        for start, end in seen.known:
            term = self._term(doc, start, end, "mention", seen)
            if term is not None:
                found.append(term)
        for (start, end), (kind, name) in seen.lexicon.items():
            term = self._term(doc, start, end, "mention", seen, kind=kind)
            if term is not None:
                found.append(term)
        for index, unit in enumerate(units):
            if not unit.is_word:
                continue
            if _ACRONYM.match(unit.text) and not doc.text.isupper():
                term = self._term(doc, unit.start, unit.end, "mention", seen)
            elif self._termlike(unit.text):
                end = unit.end
                following = units[index + 1] if index + 1 < len(units) else None
                if (
                    following is not None
                    and following.is_word
                    and unit.text.lower().endswith(self.rules.modifier_endings)
                    and not doc[following.start].is_stop
                    and doc[unit.end - 1].whitespace_
                ):
                    end = following.end
                term = self._term(doc, unit.start, end, "mention", seen)
            else:
                continue
            if term is not None:
                found.append(term)
        return found


class Memo:
    """Remembers a function's results for the last texts it saw: a build reads each sentence twice
    (to learn names, then to extract), so the lexicon looks at it once."""

    def __init__(self, function: Callable[[str], Sequence], size: int = 4000):
        self.function = function
        self.size = size
        self._seen: Dict[str, Sequence] = {}

    def __call__(self, text: str) -> Sequence:
        if text not in self._seen:
            if len(self._seen) >= self.size:
                self._seen.clear()
            self._seen[text] = tuple(self.function(text))
        return self._seen[text]


def is_acronym(text: str) -> bool:
    """"MRI", "DMARDs", "PsA": two capitals or more, starting with one."""
    return bool(_ACRONYM.match(text))


def _units(doc: Union[Doc, Span]) -> List[_Unit]:
    tokens = list(doc)
    texts = [t.text for t in tokens]
    spaces = [bool(t.whitespace_) for t in tokens]
    units: List[_Unit] = []
    i, n = 0, len(tokens)
    while i < n:
        j = i + 1
        if texts[i][:1].isalnum():
            while j < n and not spaces[j - 1]:
                if texts[j] == "-" and not spaces[j] and j + 1 < n and texts[j + 1][:1].isalnum():
                    j += 2
                elif texts[j] in ("'s", "’s"):
                    j += 1
                else:
                    break
        text = texts[i] if j == i + 1 else "".join(texts[k] + (" " if spaces[k] else "") for k in range(i, j)).rstrip()
        units.append(_Unit(i, j, text))
        i = j
    return units


def _inside_brackets(doc: Doc, unit: _Unit) -> bool:
    opened = 0
    for token in doc[: unit.start]:
        opened += token.text == "("
        opened -= token.text == ")"
    return opened > 0


def _proper_name(span: Span) -> bool:
    """Capitalised words inside a sentence ("the Pain Medicine website") name something, not a term."""
    words = [t for t in span if t.is_alpha]
    return bool(words) and span.start > 0 and all(t.text[:1].isupper() and not t.is_upper for t in words)


def _strip_article(name: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", name.strip(), flags=re.I)


def _long_form_start(short: str, window: List[_Unit]) -> Optional[int]:
    """Schwartz & Hearst: walk the abbreviation's letters from the end, finding each in the words
    before it (the first letter must start a word); the long form starts at the word of the first."""
    if not window:
        return None
    text = " ".join(u.text for u in window)
    offsets = []  # character offset of each unit in ``text``
    position = 0
    for unit in window:
        offsets.append(position)
        position += len(unit.text) + 1
    s_index, l_index = len(short) - 1, len(text) - 1
    while s_index >= 0:
        ch = short[s_index].lower()
        if not ch.isalnum():
            s_index -= 1
            continue
        while l_index >= 0 and (
            text[l_index].lower() != ch or (s_index == 0 and l_index > 0 and text[l_index - 1].isalnum())
        ):
            l_index -= 1
        if l_index < 0:
            return None
        s_index -= 1
        l_index -= 1
    start_char = text.rfind(" ", 0, l_index + 1) + 1
    unit_index = max(k for k, offset in enumerate(offsets) if offset <= start_char)
    if len(window) - unit_index > min(len(short) + 5, 2 * len(short)):
        return None
    return window[unit_index].start
