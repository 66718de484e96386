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
from sqlalchemy.orm import Session

from bot import settings
from bot.db import create_schema, engine_for, session_factory
from bot.documents import DOCUMENT_SUFFIXES, DocumentError, ParsedDocument, read_document
from bot.extraction import ExtractedPassage, Extractor, default_extractor
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
)
from bot.vocabulary import Vocabulary, condition_key, normalize

log = logging.getLogger(__name__)

# The code that turns text into rows: when it changes, every document is read again.
_PIPELINE_SOURCES = ("documents.py", "extraction.py", "ingest.py", "vocabulary.py", "nlp.py", "models.py")


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
) -> BuildReport:
    """Bring the store in line with the documents folder. Returns what happened to each document."""
    documents_dir = Path(documents_dir or settings.documents_dir())
    if not documents_dir.is_dir():
        raise FileNotFoundError(f"documents folder not found: {documents_dir}")
    vocabulary_path = Path(vocabulary_path or settings.vocabulary_path())
    rules_path = Path(rules_path or settings.fact_rules_path())
    extractor = extractor or default_extractor(vocabulary_path, rules_path)
    engine = engine or engine_for()
    _ensure_schema(engine)
    fingerprint = _fingerprint(vocabulary_path, rules_path)
    report = BuildReport()
    files = sorted(p for p in documents_dir.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
    with session_factory(engine).begin() as session:
        meta = session.get(StoreMeta, "fingerprint")
        if meta is None or meta.value != fingerprint:
            _reset(session, extractor.vocabulary)
            session.merge(StoreMeta(key="fingerprint", value=fingerprint))
        existing: Dict[str, Document] = {d.path: d for d in session.scalars(select(Document))}
        conditions = {c.name: c for c in session.scalars(select(Condition))}
        pain_types = {p.key: p for p in session.scalars(select(PainType))}
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
            _write_document(session, parsed, extractor.extract(parsed), conditions, pain_types)
            report.loaded.append(name)
        for name, gone in existing.items():  # removed from the folder, or no longer readable
            _delete_document(session, gone)
            if name not in {n for n, _ in report.skipped}:
                report.removed.append(name)
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
    session.execute(delete(Fact).where(Fact.passage_id.in_(passage_ids)), execution_options={"synchronize_session": False})
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
    for model in (Fact, ConditionPainLink, Passage, Document, ConditionAlias, Condition, PainTypeAlias, PainType):
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
