"""The read API over the condition store: what the assistant and staff may ask of it.

Everything returned is a plain frozen dataclass carrying the passage that states it and the
document it comes from, so no caller ever holds a session or invents a fact.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.db import engine_for, session_factory
from bot.models import (
    Condition,
    ConditionAlias,
    ConditionPainLink,
    Document,
    Fact,
    PainType,
    PainTypeAlias,
    Passage,
    Term,
    TermAlias,
    TermOccurrence,
)
from bot.models import (
    LearnedName as LearnedNameRow,
)
from bot.questions import shouting
from bot.vocabulary import ANSWERABLE_GROUPS, LearnedName, match_key, normalize

FUZZY_CUTOFF = 0.84  # "rhuematoid arthritis" -> rheumatoid arthritis, but "gut" is not "gout"
TYPO_MIN_LENGTH = 6  # a message's word this long, one slip from a document's word, is that word ("treatmnt")
TERM_FUZZY_MIN_LENGTH = 8  # near misses of a term only for long words: "autoantibodys", never "MRI" for "MRA"
_ARTICLE = re.compile(r"^(?:the|a|an) ")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class StoreNotBuilt(RuntimeError):
    """The database has no condition store yet (run ``make store``)."""


@dataclass(frozen=True)
class Evidence:
    text: str
    document: str  # title
    document_path: str
    heading: Optional[str]
    kind: str  # sentence | list_item
    start: int
    end: int
    explicit: bool  # the passage names the condition itself (not only the paragraph's subject)
    defines: bool = False  # term evidence: the passage explains the term (not only uses it)
    lead_in: Optional[str] = None  # a list item's lead-in sentence ("Chronic stress can:")


@dataclass(frozen=True)
class ConditionRef:
    key: str  # stable across builds: what the store's queries take
    name: str  # canonical, lower case
    group: str


@dataclass(frozen=True)
class PainTypeRef:
    key: str
    name: str


@dataclass(frozen=True)
class TermRef:
    """A name the documents explain or use (the term index): "DMARDs", "entheses", "lupus"."""

    key: str  # stable across builds: what term_evidence takes
    name: str  # as the documents write it (a known condition: its canonical name)
    kind: str  # condition | drug | procedure | symptom | body_part | term
    condition: Optional[str] = None  # the ConditionRef key when the term is a known condition


@dataclass(frozen=True)
class _TermIndex:
    by_name: Dict[str, Tuple[TermRef, str]]  # normalized spelling -> (term, the spelling as written)
    by_match: Dict[str, Tuple[TermRef, str]]  # vocabulary.match_key -> (term, the spelling as written)
    lower_words: frozenset  # words the documents write in lower case ("as"): their capitalised aliases need the case
    longest: int  # words in the longest spelling
    defined: frozenset = frozenset()  # normalized spellings of the terms a document explains (no condition's)


@dataclass(frozen=True)
class ConditionForPain:
    condition: ConditionRef
    evidence: Tuple[Evidence, ...]


@dataclass(frozen=True)
class PainForCondition:
    pain_type: PainTypeRef
    evidence: Tuple[Evidence, ...]


@dataclass(frozen=True)
class FactRecord:
    kind: str
    condition: Optional[ConditionRef]  # None: about autoimmune disease in general
    pain_type: Optional[PainTypeRef]
    evidence: Evidence


class ConditionStore:
    """Read-only queries. Pass an engine (tests use in-memory SQLite), or get the configured one."""

    def __init__(self, engine: Optional[Engine] = None):
        self._engine = engine
        self._sessions: Optional[sessionmaker] = None
        self._alias_cache: Dict[type, Dict[str, int]] = {}
        self._term_index: Optional[_TermIndex] = None
        self._document_words: Optional[frozenset] = None
        self._lists: Dict[Tuple[str, Optional[str], Optional[str]], List[Tuple[Evidence, ...]]] = {}
        self._subjects: Dict[Tuple[str, int], List[ConditionRef]] = {}
        self._passages: Optional[List[Tuple[str, Evidence]]] = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for()
        return self._engine

    def _session(self) -> Session:
        if self._sessions is None:
            if not inspect(self.engine).has_table("documents"):
                raise StoreNotBuilt("the condition store has not been built: run `make store`")
            self._sessions = session_factory(self.engine)
        return self._sessions()

    def _aliases(self, session: Session, model) -> Dict[str, int]:
        """Spelling -> alias id, read once per store: the vocabulary changes only with a rebuild,
        and a rebuild means restarting the servers (the NLU model is retrained with it)."""
        if model not in self._alias_cache:
            self._alias_cache[model] = _alias_index(session, model)
        return self._alias_cache[model]

    # -- vocabulary ---------------------------------------------------------------------------
    def resolve_condition(self, text: Optional[str]) -> Optional[ConditionRef]:
        """Canonical condition for a name, alias, abbreviation or near-miss spelling, else None."""
        if not text or not text.strip():
            return None
        with self._session() as session:
            match = _lookup(self._aliases(session, ConditionAlias), text)
            if match is None:
                return None
            return _condition_ref(session.get(ConditionAlias, match).condition)

    def resolve_pain_type(self, text: Optional[str]) -> Optional[PainTypeRef]:
        if not text or not text.strip():
            return None
        with self._session() as session:
            match = _lookup(self._aliases(session, PainTypeAlias), text)
            if match is None:
                return None
            return _pain_ref(session.get(PainTypeAlias, match).pain_type)

    def names_in(self, text: Optional[str]) -> Tuple[List[Tuple[str, ConditionRef]], List[Tuple[str, PainTypeRef]]]:
        """The conditions and pain types a message names by any spelling the store knows, as
        (spelling, reference), longest spelling first: what the NLU's lookup tables find, read from the
        store itself, so a document added by `make store` is understood before the model is retrained.
        A spelling of three letters or fewer counts only in capitals ("AS", never "as")."""
        if not text or not text.strip():
            return [], []
        padded = f" {normalize(text)} "
        capitals_mean_nothing = shouting(text)
        with self._session() as session:
            found = []
            for model in (ConditionAlias, PainTypeAlias):
                for alias, alias_id in self._aliases(session, model).items():
                    if f" {alias} " not in padded:
                        continue
                    if len(alias) <= 3 and (capitals_mean_nothing or not re.search(rf"\b{re.escape(alias.upper())}\b", text)):
                        continue
                    found.append((alias, model, alias_id))
            found.sort(key=lambda f: -len(f[0]))
            conditions: List[Tuple[str, ConditionRef]] = []
            pains: List[Tuple[str, PainTypeRef]] = []
            # "nose" inside "saddle nose", a term a document explains, names neither a site nor a condition
            names = (self._aliases(session, ConditionAlias), self._aliases(session, PainTypeAlias))
            taken: List[str] = [d for d in self._terms().defined if f" {d} " in padded and not any(d in n for n in names)]
            for alias, model, alias_id in found:
                if any(f" {alias} " in f" {longer} " for longer in taken):
                    continue  # "arthritis" inside "psoriatic arthritis"
                taken.append(alias)
                row = session.get(model, alias_id)
                if model is ConditionAlias:
                    ref = _condition_ref(row.condition)
                    if all(ref != c for _, c in conditions):
                        conditions.append((alias, ref))
                else:
                    pain = _pain_ref(row.pain_type)
                    if all(pain != p for _, p in pains):
                        pains.append((alias, pain))
            return conditions, pains

    def conditions_with_information(self) -> List[ConditionRef]:
        """Specific conditions the documents say something about, most documented first."""
        with self._session() as session:
            counts: Dict[Tuple[str, str, str], int] = {}
            columns = (Condition.key, Condition.name, Condition.group)
            rows = session.execute(select(*columns).join(Fact, Fact.condition_id == Condition.id).where(Condition.group != "umbrella"))
            for row in rows:
                counts[tuple(row)] = counts.get(tuple(row), 0) + 1
            rows = session.execute(
                select(*columns)
                .join(ConditionPainLink, ConditionPainLink.condition_id == Condition.id)
                .where(Condition.group.in_(ANSWERABLE_GROUPS))
            )
            for row in rows:
                counts[tuple(row)] = counts.get(tuple(row), 0) + 3
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][1]))
            return [ConditionRef(key, name, group) for (key, name, group), _ in ranked]

    def pain_types_with_information(self) -> List[PainTypeRef]:
        """Pain types some document links to a specific condition: linked to the most conditions first,
        then by the most passages saying so."""
        with self._session() as session:
            rows = session.execute(
                select(PainType.key, PainType.name, Condition.key)
                .join(ConditionPainLink, ConditionPainLink.pain_type_id == PainType.id)
                .join(Condition, Condition.id == ConditionPainLink.condition_id)
                .where(Condition.group.in_(ANSWERABLE_GROUPS))
            )
            counts: Dict[Tuple[str, str], int] = {}
            conditions: Dict[Tuple[str, str], set] = {}
            for key, name, condition in rows:
                counts[(key, name)] = counts.get((key, name), 0) + 1
                conditions.setdefault((key, name), set()).add(condition)
            ranked = sorted(counts, key=lambda pain: (-len(conditions[pain]), -counts[pain], pain[0]))
            return [PainTypeRef(key, name) for key, name in ranked]

    def learned_names(self) -> List[LearnedName]:
        """The names the documents taught the store beyond data/vocabulary.yml (for the NLU export)."""
        with self._session() as session:
            rows = session.scalars(select(LearnedNameRow).order_by(LearnedNameRow.id))
            return [LearnedName(r.kind, r.name, r.spelling, r.abbreviation, r.how) for r in rows]

    def term_spellings(self) -> List[str]:
        """Every spelling of every term the documents explain or use, as written, each once."""
        with self._session() as session:
            rows = session.execute(select(TermAlias.alias, TermAlias.normalized).order_by(TermAlias.normalized, TermAlias.id))
            return list({normalized: alias for alias, normalized in rows}.values())

    # -- terms ----------------------------------------------------------------------------------
    def resolve_term(self, text: Optional[str]) -> Optional[TermRef]:
        """The term a name stands for: its exact spelling or an alias ("DMARD", "the entheses"), the
        same word in another number or ending ("enthesis"), or, for long words only, a near miss
        ("autoantibodys"). None when the documents neither explain nor use it."""
        if not text or not text.strip():
            return None
        index = self._terms()
        key = _ARTICLE.sub("", normalize(text))
        hit = index.by_name.get(key) or index.by_match.get(match_key(key))
        if hit is not None:
            term, written = hit
            if _needs_case(written, index.lower_words) and text.strip() != written:
                return None  # "as" is not "AS"
            return term
        if len(key) >= TERM_FUZZY_MIN_LENGTH:
            long_names = [name for name in index.by_name if len(name) >= TERM_FUZZY_MIN_LENGTH]
            close = difflib.get_close_matches(key, long_names, n=1, cutoff=FUZZY_CUTOFF)
            if close:
                return index.by_name[close[0]][0]
        return None

    def term_evidence(self, term: TermRef) -> Tuple[Evidence, ...]:
        """The passages that explain the term (``defines``), then those that use it, each once."""
        if not isinstance(term, TermRef):
            raise TypeError(f"expected a TermRef (resolve_term or terms_in give one), got {term!r}")
        with self._session() as session:
            occurrences = session.scalars(
                select(TermOccurrence)
                .options(joinedload(TermOccurrence.passage).joinedload(Passage.document))
                .join(Term, Term.id == TermOccurrence.term_id)
                .join(Passage, Passage.id == TermOccurrence.passage_id)
                .join(Document, Document.id == Passage.document_id)
                .where(Term.key == term.key)
                .order_by(TermOccurrence.strength.desc(), Document.path, Passage.ordinal)
            ).all()
            return tuple(
                replace(_evidence(o.passage, True), defines=o.strength > 0) for o in occurrences
            )

    def terms_in(self, text: Optional[str]) -> List[TermRef]:
        """The terms the store knows that a message names, longest first, each once. A short
        abbreviation that is also an ordinary word ("AS", "MS") counts only in its own capitals."""
        if not text or not text.strip():
            return []
        index = self._terms()
        words = _WORD.findall(text)
        keys = [normalize(word) for word in words]
        found: List[Tuple[int, int, TermRef]] = []
        used: set = set()
        for size in range(min(index.longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                if used.intersection(range(start, start + size)):
                    continue
                key = " ".join(k for k in keys[start : start + size] if k)
                hit = index.by_name.get(key) or index.by_match.get(match_key(key))
                if hit is None:
                    continue
                term, written = hit
                if _needs_case(written, index.lower_words) and " ".join(words[start : start + size]) != written:
                    continue
                used.update(range(start, start + size))
                found.append((size, start, term))
        out: List[TermRef] = []
        for _, _, term in sorted(found, key=lambda f: (-f[0], f[1])):
            if term not in out:
                out.append(term)
        return out

    def unknown_words(self, words: Sequence[str]) -> List[str]:
        """The words no document uses in any form ("milia", "drooling"): the store cannot say anything
        about a subject named by them. A long word one typo away from a document's word is known."""
        known = self._known_words()
        unknown = []
        for word in words:
            key = match_key(word)
            if not key or key in known:
                continue
            if len(key) >= TYPO_MIN_LENGTH and difflib.get_close_matches(key, known, n=1, cutoff=FUZZY_CUTOFF):
                continue
            unknown.append(word)
        return unknown

    def passages_using(self, phrase: str, limit: int = 3) -> List[Evidence]:
        """The passages that use a phrase word for word, in any of its forms ("osteoclasts", "morning
        stiffness"), whole sentences before list items, shortest first: for a phrase no term, condition or pain of the store stands for."""
        key = match_key(phrase)
        if not key:
            return []
        found = [evidence for words, evidence in self._passage_index() if f" {key} " in words]
        return sorted(found, key=lambda e: (e.kind == "list_item", len(e.text)))[:limit]

    def passages_with_word_starting(self, stem: str, limit: int = 3) -> List[Tuple[str, Evidence]]:
        """Passages with a word that starts with ``stem`` ("enthes": "entheses"), each with the first
        such word as written; whole sentences before list items, shortest first."""
        pattern = re.compile(rf"\b{re.escape(stem)}\w*", re.IGNORECASE)
        found = [(m.group(0), evidence) for _, evidence in self._passage_index() for m in [pattern.search(evidence.text)] if m]
        return sorted(found, key=lambda f: (f[1].kind == "list_item", len(f[1].text)))[:limit]

    def passages(self) -> List[Evidence]:
        """Every passage of every document, in reading order."""
        return [evidence for _, evidence in self._passage_index()]

    def _passage_index(self) -> List[Tuple[str, Evidence]]:
        """Each passage with its words as match keys; read once per store."""
        if self._passages is None:
            statement = select(Passage).options(joinedload(Passage.document)).order_by(Passage.document_id, Passage.ordinal)
            with self._session() as session:
                self._passages = [(" " + " ".join(match_key(w) for w in _WORD.findall(p.text)) + " ", _evidence(p, explicit=False))
                                  for p in session.scalars(statement)]
        return self._passages

    def _known_words(self) -> frozenset:
        """Every word of every passage and every vocabulary spelling, as match keys; read once per store."""
        if self._document_words is None:
            with self._session() as session:
                aliases = [a for model in (ConditionAlias, PainTypeAlias, TermAlias) for (a,) in session.execute(select(model.alias))]
            passage_words = {key for words, _ in self._passage_index() for key in words.split()}
            self._document_words = frozenset(passage_words | {match_key(w) for alias in aliases for w in _WORD.findall(alias)})
        return self._document_words

    def _terms(self) -> _TermIndex:
        """The term spellings, read once per store (they change only with a rebuild)."""
        if self._term_index is None:
            with self._session() as session:
                self._term_index = _read_term_index(session)
        return self._term_index

    # -- statements (references in, never free text: resolve_* are the only text entry points) ----
    def conditions_for_pain(self, pain: PainTypeRef) -> List[ConditionForPain]:
        """Specific conditions that some passage links to this pain type."""
        pain_key = _pain_key(pain)
        with self._session() as session:
            links = session.scalars(
                _links()
                .join(PainType, PainType.id == ConditionPainLink.pain_type_id)
                .join(Condition, Condition.id == ConditionPainLink.condition_id)
                .where(PainType.key == pain_key, Condition.group.in_(ANSWERABLE_GROUPS))
            ).all()
            results = [
                ConditionForPain(_condition_ref(group[0].condition), _ranked_evidence(group))
                for group in _grouped(links, lambda link: link.condition.key)
            ]
        return sorted(results, key=lambda r: (*_strength(r.evidence), r.condition.name))

    def pains_for_condition(self, condition: ConditionRef) -> List[PainForCondition]:
        """Pain types that some passage links to this condition."""
        condition_key = _condition_key(condition)
        with self._session() as session:
            links = session.scalars(
                _links()
                .join(Condition, Condition.id == ConditionPainLink.condition_id)
                .where(Condition.key == condition_key)
            ).all()
            results = [
                PainForCondition(_pain_ref(group[0].pain_type), _ranked_evidence(group))
                for group in _grouped(links, lambda link: link.pain_type.key)
            ]
        return sorted(results, key=lambda r: (*_strength(r.evidence), r.pain_type.key))

    def link_evidence(self, condition: ConditionRef, pain: PainTypeRef) -> Tuple[Evidence, ...]:
        """Passages stating that this condition causes this pain (empty if none do)."""
        pain_key = _pain_key(pain)
        return next((r.evidence for r in self.pains_for_condition(condition) if r.pain_type.key == pain_key), ())

    def facts(
        self,
        kind: Optional[str] = None,
        condition: Optional[ConditionRef] = None,
        pain: Optional[PainTypeRef] = None,
        general: bool = False,
    ) -> List[FactRecord]:
        """Facts of a kind, narrowed to a condition and/or pain type.

        ``general=True`` asks for the facts about autoimmune disease in general (no condition).
        """
        statement = (
            select(Fact)
            .options(joinedload(Fact.passage).joinedload(Passage.document), joinedload(Fact.condition), joinedload(Fact.pain_type))
            .join(Passage, Passage.id == Fact.passage_id)
            .join(Document, Document.id == Passage.document_id)
        )
        if kind:
            statement = statement.where(Fact.kind == kind)
        if condition is not None:
            statement = statement.join(Condition, Condition.id == Fact.condition_id).where(Condition.key == _condition_key(condition))
        elif general:
            statement = statement.where(Fact.condition_id.is_(None))
        if pain is not None:
            statement = statement.join(PainType, PainType.id == Fact.pain_type_id).where(PainType.key == _pain_key(pain))
        statement = statement.order_by(Fact.explicit.desc(), Fact.direct.desc(), Fact.cues.desc(), Document.path, Passage.ordinal, Fact.id)
        with self._session() as session:
            return [
                FactRecord(
                    kind=fact.kind,
                    condition=_condition_ref(fact.condition) if fact.condition else None,
                    pain_type=_pain_ref(fact.pain_type) if fact.pain_type else None,
                    evidence=_evidence(fact.passage, fact.explicit),
                )
                for fact in session.scalars(statement).unique()
            ]

    def subjects_of(self, evidence: Evidence) -> List[ConditionRef]:
        """The conditions a passage is about without naming them: its paragraph's subject ("Over time,
        this chronic inflammation ..." in a paragraph about RA)."""
        key = (evidence.document_path, evidence.start)
        if key not in self._subjects:
            with self._session() as session:
                found: Dict[str, ConditionRef] = {}
                for model in (Fact, ConditionPainLink):
                    statement = (
                        select(Condition).join(model, model.condition_id == Condition.id)
                        .join(Passage, Passage.id == model.passage_id).join(Document, Document.id == Passage.document_id)
                        .where(Document.path == evidence.document_path, Passage.start_char == evidence.start,
                               model.explicit.is_(False), Condition.group.in_(ANSWERABLE_GROUPS))
                    )
                    for condition in session.scalars(statement):
                        found.setdefault(condition.key, _condition_ref(condition))
                self._subjects[key] = list(found.values())
        return self._subjects[key]

    def list_around(self, evidence: Evidence) -> Tuple[Evidence, ...]:
        """The whole list a list item belongs to, in the document's order: the items next to it under
        the same heading and lead-in ("Muscle pain" - diffuse or deep muscle pain; extreme fatigue and
        weakness; common in fibromyalgia and myositis). Just the evidence itself for a sentence."""
        if evidence.kind != "list_item":
            return (evidence,)
        key = (evidence.document_path, evidence.heading, evidence.lead_in)
        if key not in self._lists:
            statement = (
                select(Passage).join(Document, Document.id == Passage.document_id)
                .options(joinedload(Passage.document))
                .where(Document.path == evidence.document_path).order_by(Passage.ordinal)
            )
            with self._session() as session:
                passages = list(session.scalars(statement))
                runs: List[List[Passage]] = []
                for passage in passages:
                    same = passage.kind == "list_item" and (passage.heading, passage.lead_in) == key[1:]
                    if same and runs and runs[-1][-1].ordinal == passage.ordinal - 1:
                        runs[-1].append(passage)
                    elif same:
                        runs.append([passage])
                self._lists[key] = [tuple(_evidence(p, explicit=False) for p in run) for run in runs]
        for run in self._lists[key]:
            if any(item.start == evidence.start for item in run):
                return tuple(replace(item, explicit=evidence.explicit) if item.start == evidence.start else item for item in run)
        return (evidence,)

    def documents(self) -> List[Dict[str, object]]:
        with self._session() as session:
            return [
                {
                    "title": d.title,
                    "path": d.path,
                    "release_date": d.release_date.isoformat() if d.release_date else None,
                    "updated_date": d.updated_date.isoformat() if d.updated_date else None,
                    "passages": len(d.passages),
                }
                for d in session.scalars(select(Document).order_by(Document.path))
            ]


def _links():
    return select(ConditionPainLink).options(
        joinedload(ConditionPainLink.passage).joinedload(Passage.document),
        joinedload(ConditionPainLink.condition),
        joinedload(ConditionPainLink.pain_type),
    )


def _alias_index(session: Session, model) -> Dict[str, int]:
    return {normalized: alias_id for alias_id, normalized in session.execute(select(model.id, model.normalized))}


def _lookup(index: Dict[str, int], text: str) -> Optional[int]:
    """Exact spelling, else a near miss ("rhuematoid"), else the longest known term inside the text
    ("autoimmune diseases exactly", "my lower back")."""
    key = normalize(text)
    if key in index:
        return index[key]
    close = difflib.get_close_matches(key, list(index), n=1, cutoff=FUZZY_CUTOFF)
    if close and len(key) >= 4:
        return index[close[0]]
    padded = f" {key} "
    inside = [alias for alias in index if len(alias) >= 3 and f" {alias} " in padded]
    return index[max(inside, key=len)] if inside else None


def _read_term_index(session: Session) -> _TermIndex:
    rows = session.execute(
        select(TermAlias.normalized, TermAlias.match_key, TermAlias.alias, Term.key, Term.name, Term.kind, Condition.key)
        .join(Term, Term.id == TermAlias.term_id)
        .outerjoin(Condition, Condition.id == Term.condition_id)
        .order_by(Term.key, TermAlias.id)
    ).all()
    votes: Dict[Tuple[str, str], Dict[TermRef, int]] = {}
    written: Dict[Tuple[TermRef, str], str] = {}
    for normalized, loose, alias, key, name, kind, condition in rows:
        ref = TermRef(key, name, kind, condition)
        for table, spelling in (("name", normalized), ("match", loose)):
            counts = votes.setdefault((table, spelling), {})
            counts[ref] = counts.get(ref, 0) + 1
        written.setdefault((ref, normalized), alias)
        written.setdefault((ref, loose), alias)
    by_name: Dict[str, Tuple[TermRef, str]] = {}
    by_match: Dict[str, Tuple[TermRef, str]] = {}
    for (table, spelling), counts in votes.items():
        ref = max(counts, key=lambda r: (counts[r], r.condition is not None, r.key))  # most passages write it so
        (by_name if table == "name" else by_match)[spelling] = (ref, written[(ref, spelling)])
    lower_words = frozenset(
        word for (text,) in session.execute(select(Passage.text)) for word in _WORD.findall(text) if word.islower()
    )
    longest = max((len(spelling.split()) for spelling in by_name), default=0)
    explained = select(TermOccurrence.term_id).where(TermOccurrence.strength > 0)
    defined = frozenset(session.scalars(
        select(TermAlias.normalized).join(Term, Term.id == TermAlias.term_id)
        .where(Term.condition_id.is_(None), TermAlias.term_id.in_(explained))
    ))
    return _TermIndex(by_name, by_match, lower_words, longest, defined)


def _needs_case(written: str, lower_words: frozenset) -> bool:
    """An abbreviation written in capitals ("AS") whose lower case the documents use as a word ("as")."""
    return sum(ch.isupper() for ch in written) >= 2 and written.lower() in lower_words


def _condition_ref(condition: Condition) -> ConditionRef:
    return ConditionRef(condition.key, condition.name, condition.group)


def _pain_ref(pain: PainType) -> PainTypeRef:
    return PainTypeRef(pain.key, pain.name)


def _condition_key(condition: ConditionRef) -> str:
    if not isinstance(condition, ConditionRef):
        raise TypeError(f"expected a ConditionRef (resolve_condition turns text into one), got {condition!r}")
    return condition.key


def _pain_key(pain: PainTypeRef) -> str:
    if not isinstance(pain, PainTypeRef):
        raise TypeError(f"expected a PainTypeRef (resolve_pain_type turns text into one), got {pain!r}")
    return pain.key


def _evidence(passage: Passage, explicit: bool) -> Evidence:
    return Evidence(
        text=passage.text,
        document=passage.document.title,
        document_path=passage.document.path,
        heading=passage.heading,
        kind=passage.kind,
        start=passage.start_char,
        end=passage.end_char,
        explicit=explicit,
        lead_in=passage.lead_in,
    )


def _grouped(links: Sequence[ConditionPainLink], key) -> List[List[ConditionPainLink]]:
    groups: Dict[str, List[ConditionPainLink]] = {}
    for link in links:
        groups.setdefault(key(link), []).append(link)
    return list(groups.values())


def _strength(evidence: Sequence[Evidence]) -> Tuple[int, int]:
    """Sort key: most passages naming the condition itself first, then most passages."""
    return (-sum(e.explicit for e in evidence), -len(evidence))


def _ranked_evidence(links: Sequence[ConditionPainLink]) -> Tuple[Evidence, ...]:
    ordered = sorted(links, key=lambda link: (not link.explicit, link.passage.document.path, link.passage.ordinal))
    return tuple(_evidence(link.passage, link.explicit) for link in ordered)


@lru_cache(maxsize=1)
def default_store() -> ConditionStore:
    """The store at DATABASE_URL (or the project's SQLite file), opened on first use."""
    return ConditionStore()

