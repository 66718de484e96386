"""Deterministic safety screen: red flags (emergencies) and restricted requests.

Runs before anything else looks at a patient's message and knows nothing of Rasa. All patterns live
in data files a clinician can review (``data/safety/red_flags.yml`` and
``data/safety/restricted_requests.yml``, explained in ``data/safety/README.md``); this module only
compiles them into spaCy ``Matcher`` / ``PhraseMatcher`` rules and applies three fixed rules:

* **negation** - a match is ignored when a negation cue ("no", "not", "n't", "without", "never",
  "denies", ...) stands at most ``negation.window`` tokens before it in the same sentence and no
  ``stop_at`` word ("but", ",", "and", ...) lies between them; pseudo-negations ("no longer",
  "not sure") are not cues, and a negation is cancelled by "like this" / "before" after the match
  ("I've never had chest pain like this"). Categories with ``negatable: false`` skip this.
* **questions about a topic** - a red-flag match is ignored only when its sentence contains a
  topic frame ("can lupus cause ...", "symptom of", "signs of", "what does ... mean") AND no
  experience cue ("I have", "I can't", "my chest", "his face", "my dad", "right now"). When in
  doubt, the red flag fires. Categories with ``topic_questions_exempt: false`` (self_harm) are
  never exempted. Restricted requests have no such exemption.
* **co-occurrence** - a category fires when any rule of its ``fires_when`` holds: ``any_of`` (a
  surviving match of any listed group) or ``all_of`` (a surviving match of every listed group,
  anywhere in the message).

Categories are checked in file order; the first that fires is reported.
"""
from __future__ import annotations

import html
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SafetyFinding", "SafetyScreen", "SafetyDataError", "default_screen", "default_data_dir",
           "MAX_HEAD_CHARS", "MAX_TAIL_CHARS"]

#: The first this-many characters of a message are screened in full ...
MAX_HEAD_CHARS = 5000
#: ... and, for longer messages, also the last this-many (people often put the urgent part last).
MAX_TAIL_CHARS = 1000

EMERGENCY = "emergency"
_MATCH_ATTRS = {"ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "SHAPE", "LENGTH", "IS_ALPHA", "IS_PUNCT",
                "IS_DIGIT", "LIKE_NUM", "IS_SPACE", "OP", "IS_STOP", "IS_SENT_START", "POS", "TAG"}
_SENT_BREAK_TEXTS = [".", "!", "?", ";", "..", "...", "?!", "!?"]


class SafetyDataError(ValueError):
    """A safety data file is malformed (the screen refuses to start rather than run half-blind)."""


@dataclass(frozen=True)
class SafetyFinding:
    kind: str  # "emergency" | "diagnosis_request" | "dose_request" | "medication_change"
    category: str  # e.g. "chest_pain_breathing", "self_harm", or the restricted kind
    matched_text: str


def default_data_dir() -> Path:
    env = os.environ.get("SAFETY_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "safety"


# --------------------------------------------------------------------------------------------------
# Text normalisation

_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]{0,500}>")  # "<b>", "</p>", "<!-- -->", not "< 5 and >"
_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_CONTROL_RE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
_WORD_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])[-\u2010\u2011\u2012\u2013\u2014](?=[^\W\d_])")
_NEWLINES_RE = re.compile(r"\s*\n\s*(?:\n\s*)*")
_SPACES_RE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"'})


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


def normalise(text: Any) -> str:
    """Make any input safe and uniform for matching (does not lower-case)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # pragma: no cover - defensive
            return ""
    # Clip twice: roughly first (so the regexes below never see 100 KB; HTML and entities may shrink
    # the text), then exactly after the clean-up.
    if len(text) > 4 * MAX_HEAD_CHARS + 2 * MAX_TAIL_CHARS:
        text = text[: 4 * MAX_HEAD_CHARS] + " . " + text[-2 * MAX_TAIL_CHARS:]
    text = unicodedata.normalize("NFKC", text)
    text = _SCRIPT_RE.sub(" ", text)
    if "<" in text:
        # <br>, </p>, <li> etc. end a line; other tags are just removed.
        text = re.sub(r"<\s*(br|/p|p|/div|div|li|/li|tr|/tr|h\d|/h\d)\b[^<>]{0,200}>", "\n", text, flags=re.I)
        text = _TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.translate(_QUOTES)
    text = _CONTROL_RE.sub(" ", text)
    text = _WORD_HYPHEN_RE.sub(" ", text)
    # A line break separates thoughts but often not sentences ("no fever\nchest pain", "my\nthroat\nis
    # closing"): it becomes a comma, which stops a negation but keeps the words in one sentence.
    text = _NEWLINES_RE.sub(" , ", text)
    text = _SPACES_RE.sub(" ", text).strip()
    return _clip(text)


# --------------------------------------------------------------------------------------------------
# Data loading

def _load_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise SafetyDataError(f"safety data file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SafetyDataError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or "categories" not in data:
        raise SafetyDataError(f"{path}: expected a mapping with a 'categories' section")
    return data


class _PatternCompiler:
    """Turns the YAML token patterns (with $terms and {GAP: n}) into spaCy Matcher patterns."""

    def __init__(self, terms: dict[str, list[str]], source: str):
        self.terms = terms
        self.source = source

    def _words(self, values: Any, where: str) -> list[str]:
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            raise SafetyDataError(f"{self.source}: {where}: expected a list of words, got {values!r}")
        out: list[str] = []
        for v in values:
            if isinstance(v, str) and v.startswith("$") and len(v) > 1:
                name = v[1:]
                if name not in self.terms:
                    raise SafetyDataError(f"{self.source}: {where}: unknown term list {v}")
                out.extend(self.terms[name])
            elif isinstance(v, str):
                out.append(v)
            else:
                raise SafetyDataError(
                    f"{self.source}: {where}: {v!r} is not a word (quote no/yes/on/off/true/false and numbers)")
        return out

    def token(self, spec: Any, where: str) -> list[dict]:
        if not isinstance(spec, dict) or not spec:
            raise SafetyDataError(f"{self.source}: {where}: each token must be a mapping, got {spec!r}")
        if "GAP" in spec:
            n = spec["GAP"]
            if not isinstance(n, int) or not 0 <= n <= 6 or len(spec) != 1:
                raise SafetyDataError(f"{self.source}: {where}: GAP must be alone and 0..6, got {spec!r}")
            return [{"TEXT": {"NOT_IN": _SENT_BREAK_TEXTS}, "OP": "?"} for _ in range(n)]
        tok: dict[str, Any] = {}
        for key, value in spec.items():
            if key not in _MATCH_ATTRS:
                raise SafetyDataError(f"{self.source}: {where}: unknown token attribute {key!r}")
            if key == "OP":
                if value not in ("?", "*", "+", "!"):
                    raise SafetyDataError(f"{self.source}: {where}: OP must be one of ? * + !, got {value!r}")
                tok[key] = value
            elif isinstance(value, dict):
                inner: dict[str, Any] = {}
                for op, arg in value.items():
                    if op in ("IN", "NOT_IN"):
                        words = self._words(arg, where)
                        inner[op] = [w.lower() for w in words] if key in ("LOWER", "LEMMA", "NORM") else words
                    elif op == "REGEX":
                        if not isinstance(arg, str):
                            raise SafetyDataError(f"{self.source}: {where}: REGEX must be a string")
                        re.compile(arg)
                        inner[op] = arg
                    else:
                        raise SafetyDataError(f"{self.source}: {where}: unsupported operator {op!r}")
                tok[key] = inner
            elif isinstance(value, bool):
                if not (key.startswith("IS_") or key.startswith("LIKE_")):
                    raise SafetyDataError(
                        f"{self.source}: {where}: {key}: {value!r} is not a word (quote no/yes/on/off/true/false)")
                tok[key] = value
            elif isinstance(value, str):
                tok[key] = value.lower() if key in ("LOWER", "LEMMA", "NORM") else value
            elif isinstance(value, int) and key == "LENGTH":
                tok[key] = value
            else:
                raise SafetyDataError(
                    f"{self.source}: {where}: {key}: {value!r} is not a word (quote no/yes/on/off/true/false)")
        return [tok]

    def pattern(self, spec: Any, where: str) -> list[dict]:
        if not isinstance(spec, list) or not spec:
            raise SafetyDataError(f"{self.source}: {where}: a pattern must be a non-empty list of tokens")
        out: list[dict] = []
        for tok in spec:
            out.extend(self.token(tok, where))
        if all(t.get("OP") in ("?", "*") for t in out):
            raise SafetyDataError(f"{self.source}: {where}: a pattern needs at least one required token")
        return out


@dataclass
class _Group:
    name: str
    key: str
    except_key: str | None


@dataclass
class _Category:
    name: str
    kind: str
    description: str
    why: str
    negatable: bool
    topic_exempt: bool
    rules: list[tuple[str, list[str]]]  # ("any_of" | "all_of", [group keys])
    groups: dict[str, _Group] = field(default_factory=dict)


class _RuleSet:
    """One data file compiled into matchers."""

    def __init__(self, nlp, data: dict, source: str, *, kind_is_category: bool,
                 inherited_terms: dict | None = None, inherited_negation: dict | None = None,
                 inherited_topics: dict | None = None):
        from spacy.matcher import Matcher, PhraseMatcher

        self.source = source
        terms = dict(inherited_terms or {})
        own_terms = data.get("terms") or {}
        if not isinstance(own_terms, dict):
            raise SafetyDataError(f"{source}: 'terms' must be a mapping")
        comp0 = _PatternCompiler({}, source)
        for name, words in own_terms.items():
            terms[name] = comp0._words(words, f"terms.{name}")
        self.terms = terms
        comp = _PatternCompiler(terms, source)
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.nlp = nlp

        def add(key: str, patterns: Any, phrases: Any, where: str) -> bool:
            added = False
            if patterns:
                if not isinstance(patterns, list):
                    raise SafetyDataError(f"{source}: {where}: 'patterns' must be a list")
                compiled = [comp.pattern(p, f"{where} pattern {i + 1}") for i, p in enumerate(patterns)]
                try:
                    self.matcher.add(key, compiled)
                except Exception as exc:  # spaCy validation error: name the place in the file
                    raise SafetyDataError(f"{source}: {where}: invalid pattern: {exc}") from exc
                added = True
            if phrases:
                words = comp._words(phrases, f"{where} phrases")
                self.phrases.add(key, [nlp.make_doc(normalise(w).lower()) for w in words])
                added = True
            return added

        def add_group(prefix: str, gname: str, gdata: Any) -> _Group:
            where = f"{prefix}.{gname}"
            if not isinstance(gdata, dict):
                raise SafetyDataError(f"{source}: {where}: a group must be a mapping")
            unknown = set(gdata) - {"patterns", "phrases", "except", "except_phrases"}
            if unknown:
                raise SafetyDataError(f"{source}: {where}: unknown keys {sorted(unknown)}")
            key = f"G|{where}"
            if not add(key, gdata.get("patterns"), gdata.get("phrases"), where):
                raise SafetyDataError(f"{source}: {where}: a group needs patterns or phrases")
            ekey = f"X|{where}"
            has_except = add(ekey, gdata.get("except"), gdata.get("except_phrases"), where + ".except")
            return _Group(gname, key, ekey if has_except else None)

        # negation and topic-question rules (own section, else inherited from red_flags.yml)
        neg = data.get("negation") or inherited_negation
        if not neg:
            raise SafetyDataError(f"{source}: missing 'negation' section")
        self.negation_raw = neg
        self.neg_window = int(neg.get("window", 5))
        add("NEG", neg.get("cues"), neg.get("cue_phrases"), "negation.cues")
        add("PSEUDO", neg.get("not_a_negation"), None, "negation.not_a_negation")
        add("NEGCANCEL", neg.get("cancelled_by_following"), None, "negation.cancelled_by_following")
        self.stop_at = {w.lower() for w in comp._words(neg.get("stop_at") or [], "negation.stop_at")}

        respell = data.get("respell") or {}
        if not isinstance(respell, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in respell.items()):
            raise SafetyDataError(f"{source}: 'respell' must map words to words (quote no/yes/on/off)")
        self.respell = {k.lower(): v.lower() for k, v in respell.items()}

        topics = data.get("topic_questions") or inherited_topics
        self.topics_raw = topics
        if topics:
            add("FRAME", topics.get("frames"), topics.get("frame_phrases"), "topic_questions.frames")
            add("CUE", topics.get("experience_cues"), topics.get("experience_phrases"),
                "topic_questions.experience_cues")

        shared: dict[str, _Group] = {}
        for gname, gdata in (data.get("shared_groups") or {}).items():
            shared[gname] = add_group("shared_groups", gname, gdata)

        cats = data["categories"]
        if not isinstance(cats, dict) or not cats:
            raise SafetyDataError(f"{source}: 'categories' must be a non-empty mapping")
        self.categories: list[_Category] = []
        for cname, cdata in cats.items():
            where = f"categories.{cname}"
            if not isinstance(cdata, dict):
                raise SafetyDataError(f"{source}: {where}: must be a mapping")
            for req in ("description", "why", "groups"):
                if not cdata.get(req):
                    raise SafetyDataError(f"{source}: {where}: missing '{req}'")
            groups = {g: add_group(where, g, gd) for g, gd in cdata["groups"].items()}
            available = {**shared, **groups}
            rules: list[tuple[str, list[str]]] = []
            fires = cdata.get("fires_when") or [{"any_of": list(groups)}]
            for rule in fires:
                if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("any_of", "all_of"):
                    raise SafetyDataError(f"{source}: {where}: each fires_when rule is one any_of/all_of list")
                op, names = next(iter(rule.items()))
                for n in names:
                    if n not in available:
                        raise SafetyDataError(f"{source}: {where}: fires_when names unknown group {n!r}")
                rules.append((op, list(names)))
            cat = _Category(
                name=cname,
                kind=cname if kind_is_category else EMERGENCY,
                description=str(cdata["description"]),
                why=str(cdata["why"]),
                negatable=bool(cdata.get("negatable", True)),
                topic_exempt=bool(cdata.get("topic_questions_exempt", kind_is_category is False)),
                rules=rules,
                groups=available,
            )
            self.categories.append(cat)

    # ----------------------------------------------------------------------------------------------

    def evaluate(self, doc, original: "_Source") -> SafetyFinding | None:
        if len(doc) == 0:
            return None
        found: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in list(self.matcher(doc)) + list(self.phrases(doc)):
            key = self.nlp.vocab.strings[match_id]
            found.setdefault(key, []).append((start, end))
        if not any(k.startswith("G|") for k in found):
            return None

        sent_of = [0] * len(doc)
        sent_bounds: list[tuple[int, int]] = []
        for i, sent in enumerate(doc.sents):
            sent_bounds.append((sent.start, sent.end))
            for t in range(sent.start, sent.end):
                sent_of[t] = i

        neg_tokens: set[int] = set()
        pseudo = set()
        for s, e in found.get("PSEUDO", []):
            pseudo.update(range(s, e))
        for s, e in found.get("NEG", []):
            neg_tokens.update(t for t in range(s, e) if t not in pseudo)
        cancel_starts = sorted(s for s, _ in found.get("NEGCANCEL", []))
        frame_sents = {sent_of[s] for s, _ in found.get("FRAME", [])}
        cue_sents = {sent_of[s] for s, _ in found.get("CUE", [])}
        stop_at = self.stop_at

        def negated(start: int, end: int) -> bool:
            lo = max(sent_bounds[sent_of[start]][0], start - self.neg_window)
            hit = False
            for t in range(start - 1, lo - 1, -1):
                tok = doc[t]
                if t in neg_tokens:
                    hit = True
                    break
                if tok.lower_ in stop_at:
                    return False
            if not hit:
                return False
            # "never had chest pain like this": the negation is cancelled
            return not any(end <= c <= end + 4 and sent_of[c] == sent_of[start] for c in cancel_starts)

        def surviving(group: _Group, cat: _Category) -> list[tuple[int, int]]:
            spans = found.get(group.key)
            if not spans:
                return []
            excepts = found.get(group.except_key, []) if group.except_key else []
            keep = []
            for s, e in spans:
                if any(xs < e and s < xe for xs, xe in excepts):
                    continue
                if cat.negatable and negated(s, e):
                    continue
                if cat.topic_exempt and sent_of[s] in frame_sents and sent_of[s] not in cue_sents:
                    continue
                keep.append((s, e))
            # earliest first, longest first at the same start
            keep.sort(key=lambda se: (se[0], -(se[1] - se[0])))
            return keep

        def text_of(span: tuple[int, int]) -> str:
            return original.text_of(doc[span[0]:span[1]])

        for cat in self.categories:
            for op, names in cat.rules:
                hits = [surviving(cat.groups[n], cat) for n in names]
                if op == "any_of":
                    live = sorted(sp for h in hits for sp in h)
                    if live:
                        return SafetyFinding(cat.kind, cat.name, text_of(_merge_first(live)))
                elif all(hits):
                    spans = sorted(_merge_first(h) for h in hits)
                    return SafetyFinding(cat.kind, cat.name, " + ".join(text_of(sp) for sp in spans))
        return None


@dataclass(frozen=True)
class _Source:
    """The cleaned message in its original casing, and how to map doc offsets back onto it."""

    text: str
    offsets: tuple[list[int], list[int]] | None = None

    def text_of(self, span) -> str:
        if span.end_char <= span.start_char:
            return span.text
        if self.offsets is None:
            return self.text[span.start_char:span.end_char]
        starts, ends = self.offsets
        return self.text[starts[span.start_char]:ends[span.end_char - 1]]


def _merge_first(spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The earliest span, extended by the spans that overlap it ("crushing chest" + "chest pain")."""
    start, end = spans[0]
    for s, e in spans[1:]:
        if s < end:
            end = max(end, e)
        elif s >= end:
            break
    return start, end


# --------------------------------------------------------------------------------------------------

class SafetyScreen:
    """Red-flag and restricted-request screen. Build once (≈1 s), then a few ms per message."""

    def __init__(self, red_flags_path: Path | None = None, restricted_path: Path | None = None):
        from bot.nlp import make_base_pipeline  # imports spaCy: only when a screen is built

        data_dir = default_data_dir()
        self.red_flags_path = Path(red_flags_path) if red_flags_path else data_dir / "red_flags.yml"
        self.restricted_path = Path(restricted_path) if restricted_path else data_dir / "restricted_requests.yml"
        self.nlp = make_base_pipeline()
        red = _load_yaml(self.red_flags_path)
        self._red = _RuleSet(self.nlp, red, str(self.red_flags_path), kind_is_category=False)
        restricted = _load_yaml(self.restricted_path)
        self._restricted = _RuleSet(
            self.nlp, restricted, str(self.restricted_path), kind_is_category=True,
            inherited_terms=self._red.terms, inherited_negation=self._red.negation_raw,
            inherited_topics=None,
        )
        respell = {**self._red.respell, **self._restricted.respell}
        self._respell = respell
        self._respell_re = (re.compile(r"(?<![\w'])(" + "|".join(
            re.escape(w) for w in sorted(respell, key=len, reverse=True)) + r")(?![\w'])")
            if respell else None)

    # public API -----------------------------------------------------------------------------------

    def red_flag(self, text: str) -> SafetyFinding | None:
        """The first emergency category (file order) that fires on this message, else None."""
        doc, src = self._doc(text)
        return self._red.evaluate(doc, src) if doc is not None else None

    def restricted_request(self, text: str) -> SafetyFinding | None:
        """The first restricted request (medication change, dose, diagnosis) in this message, else None."""
        doc, src = self._doc(text)
        return self._restricted.evaluate(doc, src) if doc is not None else None

    def screen(self, text: str) -> SafetyFinding | None:
        """The red flag first (an emergency always wins), then a restricted request, else None."""
        doc, src = self._doc(text)
        if doc is None:
            return None
        return self._red.evaluate(doc, src) or self._restricted.evaluate(doc, src)

    @property
    def red_flag_categories(self) -> dict[str, dict[str, str]]:
        """{category: {"description": ..., "why": ...}} for the emergency categories, in priority order."""
        return {c.name: {"description": c.description, "why": c.why} for c in self._red.categories}

    @property
    def restricted_categories(self) -> dict[str, dict[str, str]]:
        return {c.name: {"description": c.description, "why": c.why} for c in self._restricted.categories}

    # internals ------------------------------------------------------------------------------------

    def _doc(self, text: Any):
        clean = normalise(text)
        if not clean or not any(ch.isalnum() for ch in clean):
            return None, clean
        lowered = clean.lower()
        if len(lowered) != len(clean):  # a few characters change length when lower-cased
            clean = lowered
        offsets = None
        if self._respell_re is not None and self._respell_re.search(lowered):
            # rewrite words, remembering where each new character came from in `clean`
            parts: list[str] = []
            starts: list[int] = []
            ends: list[int] = []
            pos = 0
            for m in self._respell_re.finditer(lowered):
                parts.append(lowered[pos:m.start()])
                starts.extend(range(pos, m.start()))
                ends.extend(range(pos + 1, m.start() + 1))
                new = self._respell[m.group(1)]
                parts.append(new)
                starts.extend([m.start()] * len(new))
                ends.extend([m.end()] * len(new))
                pos = m.end()
            parts.append(lowered[pos:])
            starts.extend(range(pos, len(lowered)))
            ends.extend(range(pos + 1, len(lowered) + 1))
            lowered = "".join(parts)
            offsets = (starts, ends)
        return self.nlp(lowered), _Source(clean, offsets)


@lru_cache(maxsize=1)
def default_screen() -> SafetyScreen:
    """The shared screen over the default data files (built on first use, then cached)."""
    return SafetyScreen()


if __name__ == "__main__":  # pragma: no cover - manual check: python -m bot.safety "message"
    import sys

    screen = default_screen()
    for line in (sys.argv[1:] or sys.stdin):
        print(repr(line.strip()), "->", screen.screen(line))
