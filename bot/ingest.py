"""The ingestion pipeline: documents -> spaCy extraction -> condition store, in one transaction.

    read (bot.documents) -> extract (bot.extraction) -> write (here)

Idempotent: unchanged documents keep their rows; a changed document replaces its own rows; a removed
or now-unreadable document disappears; a change of vocabulary or rules rebuilds everything. Any
error while writing rolls the whole build back, leaving the previous store as it was.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from sqlalchemy import delete, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, joinedload

from bot import settings
from bot.db import create_schema, engine_for, session_factory
from bot.documents import DOCUMENT_SUFFIXES, DocumentError, ParsedDocument, read_document
from bot.extraction import ExtractedPassage, Extractor, default_extractor, lexicon_sources
from bot.models import (
    Base,
    Condition,
    ConditionAlias,
    ConditionPainLink,
    Document,
    Fact,
    Passage,
    PainType,
    PainTypeAlias,
    StoreMeta,
    Term,
    TermAlias,
    TermOccurrence,
)
from bot.terms import FoundTerm
from bot.vocabulary import Vocabulary, condition_key, load_vocabulary, match_key, normalize, term_key

log = logging.getLogger(__name__)

# The code that turns text into rows: when it changes, every document is read again.
_PIPELINE_SOURCES = ("documents.py", "extraction.py", "terms.py", "ingest.py", "vocabulary.py", "nlp.py", "models.py")


@dataclass
class BuildReport:
    loaded: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (document name, reason)

    def as_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"document": name, "reason": reason} for name, reason in self.skipped],
        }


def build_store(
    documents_dir: Optional[Path] = None,
    engine: Optional[Engine] = None,
    vocabulary_path: Optional[Path] = None,
    rules_path: Optional[Path] = None,
    extractor: Optional[Extractor] = None,
    on_document: Optional[Callable[[str], None]] = None,
    use_lexicon: bool = True,
) -> BuildReport:
    """Bring the store in line with the documents folder. Returns what happened to each document.

    The spaCy pipeline (and the medical lexicon, when installed and ``use_lexicon``) is loaded only
    when a document has to be read again, so a build with nothing to do is quick."""
    documents_dir = Path(documents_dir or settings.documents_dir())
    if not documents_dir.is_dir():
        raise FileNotFoundError(f"documents folder not found: {documents_dir}")
    vocabulary_path = Path(vocabulary_path or settings.vocabulary_path())
    rules_path = Path(rules_path or settings.fact_rules_path())
    vocabulary = extractor.vocabulary if extractor is not None else load_vocabulary(vocabulary_path)

    def reader() -> Extractor:
        return extractor or default_extractor(vocabulary_path, rules_path, use_lexicon)

    engine = engine or engine_for()
    _ensure_schema(engine)
    fingerprint = _fingerprint(vocabulary_path, rules_path, *(lexicon_sources() if use_lexicon else []))
    report = BuildReport()
    files = sorted(p for p in documents_dir.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
    with session_factory(engine).begin() as session:
        meta = session.get(StoreMeta, "fingerprint")
        if meta is None or meta.value != fingerprint:
            _reset(session, vocabulary)
            session.merge(StoreMeta(key="fingerprint", value=fingerprint))
        existing: Dict[str, Document] = {d.path: d for d in session.scalars(select(Document))}
        conditions = {c.name: c for c in session.scalars(select(Condition))}
        pain_types = {p.key: p for p in session.scalars(select(PainType))}
        terms = _TermIndex(session, conditions)
        for path in files:
            name = path.name
            if on_document:
                on_document(name)
            try:
                parsed = read_document(path, name)
            except DocumentError as error:
                log.warning("skipped document %s: %s", name, error)
                report.skipped.append((name, str(error)))
                continue
            old = existing.pop(name, None)
            if old is not None and old.checksum == parsed.checksum:
                report.unchanged.append(name)
                continue
            if old is not None:
                _delete_document(session, old)
            _write_document(session, parsed, reader().extract(parsed), conditions, pain_types, terms)
            report.loaded.append(name)
        for name, gone in existing.items():  # removed from the folder, or no longer readable
            _delete_document(session, gone)
            if name not in {n for n, _ in report.skipped}:
                report.removed.append(name)
        if report.loaded or existing:
            _refresh_terms(session)
    return report


def _ensure_schema(engine: Engine) -> None:
    """Create the tables; a store written by an older schema (a column added or gone) is derived
    data, so its tables are dropped and made again, and the build below fills them."""
    inspector = inspect(engine)
    stale = [
        table.name
        for table in Base.metadata.sorted_tables
        if inspector.has_table(table.name)
        and {column["name"] for column in inspector.get_columns(table.name)} != set(table.columns.keys())
    ]
    if stale:
        log.warning("the store's schema changed (%s): rebuilding it", ", ".join(stale))
        Base.metadata.drop_all(engine)
    create_schema(engine)


def _delete_document(session: Session, document: Document) -> None:
    """Delete a document and everything stated from it (explicitly: SQLite may not enforce FKs)."""
    passage_ids = select(Passage.id).where(Passage.document_id == document.id).scalar_subquery()
    for model in (Fact, TermOccurrence, TermAlias):
        session.execute(delete(model).where(model.passage_id.in_(passage_ids)), execution_options={"synchronize_session": False})
    session.execute(
        delete(ConditionPainLink).where(ConditionPainLink.passage_id.in_(passage_ids)),
        execution_options={"synchronize_session": False},
    )
    session.delete(document)
    session.flush()


def _fingerprint(*paths: Path) -> str:
    """What the rows depend on besides the documents: vocabulary, rules and the pipeline's code."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in (*paths, *(here / name for name in _PIPELINE_SOURCES)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _reset(session: Session, vocabulary: Vocabulary) -> None:
    """Empty every table and load the vocabulary (the rules or vocabulary changed)."""
    for model in (TermOccurrence, TermAlias, Term, Fact, ConditionPainLink, Passage, Document, ConditionAlias, Condition, PainTypeAlias, PainType):
        session.execute(delete(model))
    for term in vocabulary.conditions:
        condition = Condition(key=condition_key(term.name), name=term.name, group=term.group)
        seen = set()
        for spelling in term.spellings():
            key = normalize(spelling)
            if key not in seen:
                seen.add(key)
                condition.aliases.append(ConditionAlias(alias=spelling, normalized=key))
        for abbreviation in term.abbreviations:
            key = normalize(abbreviation)
            if key not in seen:
                seen.add(key)
                condition.aliases.append(ConditionAlias(alias=abbreviation, normalized=key))
        session.add(condition)
    for term in vocabulary.pain_types:
        pain = PainType(key=term.key, name=term.name)
        seen = set()
        for spelling in term.spellings():
            key = normalize(spelling)
            if key not in seen:
                seen.add(key)
                pain.aliases.append(PainTypeAlias(alias=spelling, normalized=key))
        session.add(pain)
    session.flush()


def _write_document(
    session: Session,
    parsed: ParsedDocument,
    passages: List[ExtractedPassage],
    conditions: Dict[str, Condition],
    pain_types: Dict[str, PainType],
    terms: "_TermIndex",
) -> None:
    document = Document(
        path=parsed.path,
        title=parsed.title,
        checksum=parsed.checksum,
        text=parsed.text,
        release_date=parsed.release_date,
        updated_date=parsed.updated_date,
    )
    session.add(document)
    for extracted in passages:
        passage = Passage(
            document=document,
            ordinal=extracted.ordinal,
            kind=extracted.kind,
            heading=extracted.heading,
            text=extracted.text,
            start_char=extracted.start,
            end_char=extracted.end,
        )
        session.add(passage)
        if extracted.kind == "heading":
            continue  # headings give context to what follows; they state nothing on their own
        _write_statements(session, passage, extracted, conditions, pain_types)
        for found in extracted.terms:
            terms.add(passage, found)


def _write_statements(
    session: Session,
    passage: Passage,
    extracted: ExtractedPassage,
    conditions: Dict[str, Condition],
    pain_types: Dict[str, PainType],
) -> None:
    pains = [pain_types[key] for key in extracted.pain_types]
    for name, explicit in extracted.conditions.items():
        for pain in pains:
            session.add(ConditionPainLink(condition=conditions[name], pain_type=pain, passage=passage, explicit=explicit))
    # In facts, "autoimmune disease" in general is stored as no specific condition (NULL).
    specific = {n: e for n, e in extracted.conditions.items() if conditions[n].group != "umbrella"}
    subjects: List[Tuple[Optional[Condition], bool]] = [(conditions[n], e) for n, e in specific.items()] or [(None, True)]
    seen = set()
    for kind in sorted(extracted.kinds):
        if kind == "what_is":
            defined = [(conditions[n], e) for n, e in sorted(extracted.defined_conditions.items())]
            targets = [(None if c.group == "umbrella" else c, e) for c, e in defined]
        else:
            targets = subjects
        for condition, explicit in targets:
            for pain in pains or [None]:
                key = (kind, condition.name if condition else None, pain.key if pain else None)
                if key in seen:
                    continue
                seen.add(key)
                session.add(
                    Fact(
                        kind=kind,
                        passage=passage,
                        condition=condition,
                        pain_type=pain,
                        explicit=explicit,
                        direct=kind in extracted.direct_kinds,
                        cues=extracted.cue_counts.get(kind, 0),
                    )
                )


class _TermIndex:
    """Writes the term index while documents are written: each found term joins the term that already
    has one of its names (or its condition), else starts a new one; ``_refresh_terms`` then names them."""

    def __init__(self, session: Session, conditions: Dict[str, Condition]):
        self.session = session
        self.conditions = conditions
        self.by_id: Dict[int, Term] = {t.id: t for t in session.scalars(select(Term))}
        self.by_condition: Dict[int, Term] = {t.condition_id: t for t in self.by_id.values() if t.condition_id is not None}
        self.by_name: Dict[str, Term] = {}
        self.by_match: Dict[str, Term] = {}
        for term_id, normalized, key in session.execute(select(TermAlias.term_id, TermAlias.normalized, TermAlias.match_key)):
            self.by_name.setdefault(normalized, self.by_id[term_id])
            self.by_match.setdefault(key, self.by_id[term_id])
        self._new = 0
        self._occurrences: Dict[Tuple[int, int], TermOccurrence] = {}  # (term, passage) objects: written this build
        self._aliases: set = set()

    def add(self, passage: Passage, found: FoundTerm) -> None:
        term = self._term_for(found)
        if found.kind != "term" and term.kind in ("term", "body_part") and term.kind != found.kind:
            term.kind = found.kind
        occurrence = self._occurrences.get((id(term), id(passage)))
        if occurrence is None:
            occurrence = TermOccurrence(term=term, passage=passage, strength=-1)
            self._occurrences[(id(term), id(passage))] = occurrence
            self.session.add(occurrence)
        if found.strength > occurrence.strength:  # one per passage: the strongest
            occurrence.rule, occurrence.strength = found.rule, found.strength
            occurrence.surface, occurrence.start, occurrence.end = found.surface[:200], found.start, found.end
        for spelling in found.spellings:
            normalized = normalize(spelling)
            if not normalized or (id(term), id(passage), normalized) in self._aliases:
                continue
            self._aliases.add((id(term), id(passage), normalized))
            self.session.add(TermAlias(term=term, passage=passage, alias=spelling[:200], normalized=normalized[:200],
                                       match_key=match_key(spelling)[:200]))
            self.by_name.setdefault(normalized, term)
            self.by_match.setdefault(match_key(spelling), term)

    def _term_for(self, found: FoundTerm) -> Term:
        condition = self._condition(found)
        if condition is not None and condition.id in self.by_condition:
            return self.by_condition[condition.id]
        names = [normalize(s) for s in found.spellings]
        term = next((self.by_name[n] for n in names if n in self.by_name), None)
        if term is None:
            term = next((self.by_match[match_key(s)] for s in found.spellings if match_key(s) in self.by_match), None)
        if term is not None and condition is not None and term.condition_id not in (None, condition.id):
            term = None  # the same words, but another condition's: keep them apart
        if term is None:
            self._new += 1
            term = Term(key=f"~new-{self._new}", name=found.surface[:200], kind=found.kind)
            self.session.add(term)
            self.session.flush()
            self.by_id[term.id] = term
        if condition is not None and term.condition_id is None:
            term.condition = condition
            term.condition_id = condition.id
            self.by_condition[condition.id] = term
        return term

    def _condition(self, found: FoundTerm) -> Optional[Condition]:
        if found.key is None:
            return None
        return next((c for c in self.conditions.values() if c.key == found.key), None)


def _refresh_terms(session: Session) -> None:
    """After the documents are written: drop terms no passage uses any more, and give every term its
    name (from its best passage: defining first, then the first in reading order), kind and key."""
    session.flush()
    used = select(TermOccurrence.term_id).distinct()
    unused = select(Term.id).where(Term.id.not_in(used)).scalar_subquery()
    session.execute(delete(TermAlias).where(TermAlias.term_id.in_(unused)), execution_options={"synchronize_session": False})
    session.execute(delete(Term).where(Term.id.not_in(used)), execution_options={"synchronize_session": False})
    session.expire_all()
    best: Dict[int, Tuple[tuple, str]] = {}
    rows = session.execute(
        select(TermOccurrence.term_id, TermOccurrence.strength, Document.path, Passage.ordinal, TermOccurrence.start, TermOccurrence.surface)
        .join(Passage, Passage.id == TermOccurrence.passage_id)
        .join(Document, Document.id == Passage.document_id)
    )
    for term_id, strength, path, ordinal, start, surface in rows:
        rank = (-strength, path, ordinal, start)
        if term_id not in best or rank < best[term_id][0]:
            best[term_id] = (rank, surface)
    terms = session.scalars(select(Term).options(joinedload(Term.condition)).order_by(Term.id)).unique().all()
    wanted: Dict[int, Tuple[str, str]] = {}
    taken: Dict[str, int] = {}
    for term in sorted(terms, key=lambda t: (t.condition is None, best[t.id][0], t.id)):
        if term.condition is not None:
            name, key = term.condition.name, term.condition.key
        else:
            name = best[term.id][1]
            key = term_key(name) or f"term-{term.id}"
        candidate, n = key, 1
        while candidate in taken:
            n += 1
            candidate = f"{key}-{n}"
        taken[candidate] = term.id
        wanted[term.id] = (name, candidate)
    changed = [t for t in terms if (t.name, t.key) != wanted[t.id]]
    for term in changed:  # two steps, so that no two terms hold one key in between
        term.key = f"~{term.id}"
    session.flush()
    for term in changed:
        term.name, term.key = wanted[term.id]
    session.flush()
