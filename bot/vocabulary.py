"""The recognition vocabulary (data/vocabulary.yml): what can be recognised, never what is true."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from bot import settings

CONDITION_GROUPS = ("autoimmune", "immune-mediated", "other", "umbrella")
#: A condition the store learned from a document (not in data/vocabulary.yml): the documents speak about
#: it, so it is answerable, but nothing says it is autoimmune.
LEARNED_GROUP = "documented"
#: Conditions the assistant answers about (not "other": recognised only to say there is no information).
ANSWERABLE_GROUPS = ("autoimmune", "immune-mediated", LEARNED_GROUP)


def normalize(text: str) -> str:
    """Lookup key for an alias: case-folded, accents and apostrophes unified, punctuation to spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").casefold()
    text = re.sub(r"'s\b", "s", text)
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def condition_key(name: str) -> str:
    """A condition's stable key: its canonical name as a slug ("sjogren's syndrome" -> "sjogrens-syndrome")."""
    return term_key(name)


def match_key(text: str) -> str:
    """A looser lookup key: each word of ``normalize(text)`` without its plural or Latin/Greek ending,
    so "entheses" and "enthesis", "DMARD" and "DMARDs", "therapies" and "therapy" agree."""
    return " ".join(_stem(word) for word in normalize(text).split())


def _stem(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    stripped = word.rstrip("aeiouy")
    return stripped if len(stripped) >= 3 else word


def term_key(name: str) -> str:
    """A term's stable key: its name as a slug ("disease-modifying antirheumatic drugs" ->
    "disease-modifying-antirheumatic-drugs")."""
    return normalize(name).replace(" ", "-")


def plural_variants(term: str) -> Tuple[str, ...]:
    """The term and its regular plural, so that "hip" also finds "hips" (irregular ones are aliases)."""
    last = term.split()[-1] if term.split() else term
    if not last[-1:].isalpha() or last.isupper() or last.endswith("s"):
        return (term,)
    if last.endswith(("x", "ch", "sh")):
        return (term, term + "es")
    return (term, term + "s")


@dataclass(frozen=True)
class ConditionTerm:
    name: str
    group: str
    aliases: Tuple[str, ...] = ()
    abbreviations: Tuple[str, ...] = ()

    def spellings(self) -> Tuple[str, ...]:
        """Case-insensitive spellings: the name and aliases with their plurals."""
        out: List[str] = []
        for term in (self.name, *self.aliases):
            for variant in plural_variants(term):
                if variant not in out:
                    out.append(variant)
        return tuple(out)


@dataclass(frozen=True)
class PainTypeTerm:
    key: str
    name: str
    sites: Tuple[str, ...] = ()
    terms: Tuple[str, ...] = ()

    def site_spellings(self) -> Tuple[str, ...]:
        out: List[str] = []
        for site in self.sites:
            for variant in plural_variants(site):
                if variant not in out:
                    out.append(variant)
        return tuple(out)

    def spellings(self) -> Tuple[str, ...]:
        """Everything that names this pain type in a question: key, name, sites, terms."""
        out: List[str] = []
        terms = [variant for term in self.terms for variant in plural_variants(term)]
        for term in (self.key, self.name, *self.site_spellings(), *terms):
            if term not in out:
                out.append(term)
        return tuple(out)


@dataclass(frozen=True)
class Vocabulary:
    conditions: Tuple[ConditionTerm, ...]
    pain_types: Tuple[PainTypeTerm, ...]
    pain_words: Tuple[str, ...]
    ignore: Tuple[str, ...] = ()  # never learned from a document as a condition, pain site or term
    learned_pain_name: str = "{site} pain"  # the name of a pain type learned from a document's body site
    source: Optional[Path] = field(default=None, compare=False)



class VocabularyError(ValueError):
    pass


def _strings(value: object, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(f"{where}: expected a list of non-empty strings")
    return tuple(v.strip() for v in value)


def parse_vocabulary(data: dict, source: Optional[Path] = None) -> Vocabulary:
    """Validate the YAML structure and check that no spelling names two different things."""
    if not isinstance(data, dict):
        raise VocabularyError("vocabulary: expected a mapping at the top level")
    conditions: List[ConditionTerm] = []
    for i, raw in enumerate(data.get("conditions") or []):
        where = f"conditions[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise VocabularyError(f"{where}: needs a name")
        group = raw.get("group", "autoimmune")
        if group not in CONDITION_GROUPS:
            raise VocabularyError(f"{where}: group must be one of {CONDITION_GROUPS}")
        conditions.append(
            ConditionTerm(
                name=raw["name"].strip().lower(),
                group=group,
                aliases=_strings(raw.get("aliases"), where + ".aliases"),
                abbreviations=_strings(raw.get("abbreviations"), where + ".abbreviations"),
            )
        )
    pain_types: List[PainTypeTerm] = []
    for i, raw in enumerate(data.get("pain_types") or []):
        where = f"pain_types[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str) or not isinstance(raw.get("name"), str):
            raise VocabularyError(f"{where}: needs a key and a name")
        pain_types.append(
            PainTypeTerm(
                key=raw["key"].strip().lower(),
                name=raw["name"].strip(),
                sites=_strings(raw.get("sites"), where + ".sites"),
                terms=_strings(raw.get("terms"), where + ".terms"),
            )
        )
    vocabulary = Vocabulary(
        conditions=tuple(conditions),
        pain_types=tuple(pain_types),
        pain_words=_strings(data.get("pain_words"), "pain_words"),
        ignore=tuple(w.lower() for w in _strings(data.get("ignore"), "ignore")),
        learned_pain_name=_template(data.get("learned_pain_type_name", "{site} pain")),
        source=source,
    )
    _check_unambiguous(vocabulary)
    return vocabulary


def _template(value: object) -> str:
    if not isinstance(value, str) or "{site}" not in value:
        raise VocabularyError("learned_pain_type_name: expected text with {site} in it, e.g. '{site} pain'")
    return value


@dataclass(frozen=True)
class LearnedName:
    """A name a document taught the store to recognise (see Extractor.learn)."""

    kind: str  # condition | site
    name: str  # canonical, lower case
    spelling: str  # as the document writes it
    abbreviation: bool = False  # matched only in these capitals ("EF")
    how: str = "definition"  # definition | lexicon | pain phrase


def with_learned(vocabulary: Vocabulary, learned: Iterable[LearnedName]) -> Vocabulary:
    """The vocabulary plus what the documents taught. The clinic's file wins: a learned name or
    spelling it already has, or lists under ``ignore``, is left out; a learned body site comes before
    a learned condition's other spellings (a site is never another name of a condition); between two
    learned names of a kind the first in alphabetical order keeps a shared spelling."""
    taken: Dict[str, str] = {}
    for condition in vocabulary.conditions:
        for spelling in (*condition.spellings(), *condition.abbreviations):
            taken[normalize(spelling)] = condition.name
    for pain in vocabulary.pain_types:
        for spelling in pain.spellings():
            taken[normalize(spelling)] = pain.key
    ignore = {normalize(word) for word in vocabulary.ignore}
    own_names = {c.name for c in vocabulary.conditions} | {p.key for p in vocabulary.pain_types}
    conditions: Dict[str, Tuple[List[str], List[str]]] = {}
    sites: Dict[str, List[str]] = {}
    pain_keys = {p.key for p in vocabulary.pain_types}
    for item in sorted(set(learned), key=lambda i: (i.kind != "site", i.kind, i.name, i.abbreviation, i.spelling)):
        name_key = normalize(item.name)
        if not name_key or name_key in ignore or normalize(item.spelling) in ignore:
            continue
        owner = taken.get(name_key)
        if owner is not None and (owner != item.name or item.name in own_names):
            continue  # the clinic's vocabulary (or an earlier learned name) already has it
        if item.kind == "site" and term_key(item.name) in pain_keys:
            continue
        taken[name_key] = item.name
        spelling_key = normalize(item.spelling)
        if taken.setdefault(spelling_key, item.name) != item.name:
            continue
        if item.kind == "condition":
            aliases, abbreviations = conditions.setdefault(item.name, ([], []))
            target = abbreviations if item.abbreviation else aliases
            if item.spelling != item.name and item.spelling not in target:
                target.append(item.spelling)
        elif item.kind == "site":
            spellings = sites.setdefault(item.name, [item.name])
            if item.spelling.lower() not in spellings:
                spellings.append(item.spelling.lower())
    learned_conditions = tuple(
        ConditionTerm(name, LEARNED_GROUP, tuple(a for a in aliases if a.lower() != name), tuple(abbreviations))
        for name, (aliases, abbreviations) in sorted(conditions.items())
    )
    learned_pains = tuple(
        PainTypeTerm(term_key(name), vocabulary.learned_pain_name.format(site=name), tuple(spellings))
        for name, spellings in sorted(sites.items())
    )
    return replace(vocabulary, conditions=vocabulary.conditions + learned_conditions,
                   pain_types=vocabulary.pain_types + learned_pains)


def _check_unambiguous(vocabulary: Vocabulary) -> None:
    owners: Dict[str, str] = {}
    entries: Iterable[Tuple[str, Iterable[str]]] = [
        *((f"condition {c.name!r}", c.spellings()) for c in vocabulary.conditions),
        *((f"pain type {p.key!r}", p.spellings()) for p in vocabulary.pain_types),
    ]
    for owner, spellings in entries:
        for spelling in spellings:
            key = normalize(spelling)
            if owners.setdefault(key, owner) != owner:
                raise VocabularyError(f"{spelling!r} names both {owners[key]} and {owner}")


def load_vocabulary(path: Optional[Path] = None) -> Vocabulary:
    path = Path(path) if path else settings.vocabulary_path()
    with path.open(encoding="utf-8") as handle:
        return parse_vocabulary(yaml.safe_load(handle), source=path)



def nlu_training_data(vocabulary: Vocabulary) -> dict:
    """Rasa NLU lookup tables and synonyms, so every vocabulary spelling maps to its entity value."""
    synonyms = []
    condition_spellings: List[str] = []
    for condition in vocabulary.conditions:
        spellings = [s for s in (*condition.spellings(), *condition.abbreviations) if s != condition.name]
        condition_spellings.extend((condition.name, *spellings))
        if spellings:
            synonyms.append({"synonym": condition.name, "examples": _block(spellings)})
    pain_spellings: List[str] = []
    for pain in vocabulary.pain_types:
        spellings = [s for s in pain.spellings() if s != pain.key]
        pain_spellings.extend((pain.key, *spellings))
        if spellings:
            synonyms.append({"synonym": pain.key, "examples": _block(spellings)})
    return {
        "version": "3.1",
        "nlu": [
            {"lookup": "condition", "examples": _block(condition_spellings)},
            {"lookup": "pain_type", "examples": _block(pain_spellings)},
            *synonyms,
        ],
    }


def _block(items: Iterable[str]) -> str:
    seen: List[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return "".join(f"- {item}\n" for item in seen)
