"""The ingestion pipeline: documents -> spaCy extraction -> condition store, in one transaction.

    read (bot.documents) -> extract (bot.extraction) -> write (here)

Idempotent: unchanged documents keep their rows; a changed document replaces its own rows; a removed
or now-unreadable document disappears; a change of vocabulary or rules rebuilds everything. Any
error while writing rolls the whole build back, leaving the previous store as it was.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import delete, insert, inspect, select
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
    PainType,
    PainTypeAlias,
    Passage,
    StoreMeta,
    Term,
    TermAlias,
    TermOccurrence,
)
from bot.models import (
    LearnedName as LearnedNameRow,
)
from bot.terms import FoundTerm
from bot.vocabulary import (
    LearnedName,
    Vocabulary,
    condition_key,
    load_vocabulary,
    match_key,
    normalize,
    term_key,
    with_learned,
)

log = logging.getLogger(__name__)

# The code that turns text into rows: when it changes, every document is read again.
_PIPELINE_SOURCES = ("documents.py", "extraction.py", "terms.py", "ingest.py", "vocabulary.py", "nlp.py", "models.py")


@dataclass
class DocumentSummary:
    """What the store found in one document, for the clinic to check (``make store`` prints it)."""

    title: str
    conditions: List[str] = field(default_factory=list)  # named in its statements (links and facts)
    pain_types: List[str] = field(default_factory=list)
    terms_defined: List[str] = field(default_factory=list)  # terms it explains
    terms_used: List[str] = field(default_factory=list)  # terms it only uses
    learned_conditions: List[str] = field(default_factory=list)  # not in data/vocabulary.yml
    learned_sites: List[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.conditions or self.pain_types or self.terms_defined)


@dataclass
class BuildReport:
    loaded: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (document name, reason)
    documents: Dict[str, DocumentSummary] = field(default_factory=dict)  # every document in the store
    lexicon: bool = False  # the medical lexicon was used to learn names

    @property
    def unanswerable(self) -> List[str]:
        """Documents from which nothing answerable was found: no condition, pain site or explained term."""
        return [name for name, summary in self.documents.items() if not summary.answerable]

    def as_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"document": name, "reason": reason} for name, reason in self.skipped],
            "documents": {name: {**asdict(summary), "answerable": summary.answerable} for name, summary in self.documents.items()},
            "unanswerable": self.unanswerable,
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

    Two passes: every document first teaches the vocabulary the names it defines or is about
    (``Extractor.learn``; kept per document, so an unchanged one is not read again), then the
    documents that changed are read with the vocabulary plus everything learned. When what was
    learned changes, every document is read again (an old one may name the new condition).
    The spaCy pipeline and the medical lexicon are loaded only when a document has to be read."""
    documents_dir = Path(documents_dir or settings.documents_dir())
    if not documents_dir.is_dir():
        raise FileNotFoundError(f"documents folder not found: {documents_dir}")
    vocabulary_path = Path(vocabulary_path or settings.vocabulary_path())
    rules_path = Path(rules_path or settings.fact_rules_path())
    base = extractor.vocabulary if extractor is not None else load_vocabulary(vocabulary_path)
    readers: Dict[str, Extractor] = {}

    def base_reader() -> Extractor:
        if "base" not in readers:
            readers["base"] = extractor or default_extractor(vocabulary_path, rules_path, use_lexicon)
        return readers["base"]

    def reader(vocabulary: Vocabulary) -> Extractor:
        if vocabulary == base:
            return base_reader()
        if "learned" not in readers:
            first = base_reader()
            readers["learned"] = Extractor(vocabulary, first.rules, first.terms.lexicon)
        return readers["learned"]

    engine = engine or engine_for()
    _ensure_schema(engine)
    code = _fingerprint(vocabulary_path, rules_path, *(lexicon_sources() if use_lexicon else []))
    report = BuildReport()
    files = sorted(p for p in documents_dir.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
    with session_factory(engine).begin() as session:
        before = set(session.scalars(select(Document.path)))
        parsed_documents, learned = _learn(session, files, code, base_reader, report, on_document)
        vocabulary = with_learned(base, [name for names in learned.values() for name in names])
        fingerprint = hashlib.sha256((code + repr(_learned_part(vocabulary, base))).encode("utf-8")).hexdigest()
        meta = session.get(StoreMeta, "fingerprint")
        if meta is None or meta.value != fingerprint:
            _reset(session, vocabulary)
            session.merge(StoreMeta(key="fingerprint", value=fingerprint))
            session.merge(StoreMeta(key="code", value=code))
        existing: Dict[str, Document] = {d.path: d for d in session.scalars(select(Document))}
        conditions = {c.name: c for c in session.scalars(select(Condition))}
        pain_types = {p.key: p for p in session.scalars(select(PainType))}
        terms = _TermIndex(session, conditions)
        for parsed in parsed_documents:
            old = existing.pop(parsed.path, None)
            if old is not None and old.checksum == parsed.checksum:
                report.unchanged.append(parsed.path)
                continue
            if old is not None:
                _delete_document(session, old)
            _write_document(session, parsed, reader(vocabulary).extract(parsed), conditions, pain_types, terms, learned[parsed.path])
            report.loaded.append(parsed.path)
        for gone in existing.values():  # removed from the folder, or no longer readable
            _delete_document(session, gone)
        report.removed = sorted(before - {p.path for p in parsed_documents} - {n for n, _ in report.skipped})
        terms.write()
        if report.loaded or existing:
            _refresh_terms(session)
        report.documents = _summaries(session)
        report.lexicon = bool(readers) and base_reader().terms.lexicon is not None
    return report


def _learn(session: Session, files: List[Path], code: str, base_reader: Callable[[], Extractor], report: BuildReport,
           on_document: Optional[Callable[[str], None]]) -> Tuple[List[ParsedDocument], Dict[str, List[LearnedName]]]:
    """Pass 1: read every document and what it teaches (from the store when it is unchanged)."""
    same_code = (session.get(StoreMeta, "code") or StoreMeta(value="")).value == code
    stored = {d.path: d for d in session.scalars(select(Document))}
    remembered: Dict[int, List[LearnedName]] = {}
    for row in session.scalars(select(LearnedNameRow).order_by(LearnedNameRow.id)):
        remembered.setdefault(row.document_id, []).append(LearnedName(row.kind, row.name, row.spelling, row.abbreviation, row.how))
    parsed_documents: List[ParsedDocument] = []
    learned: Dict[str, List[LearnedName]] = {}
    for path in files:
        if on_document:
            on_document(path.name)
        try:
            parsed = read_document(path, path.name)
        except DocumentError as error:
            log.warning("skipped document %s: %s", path.name, error)
            report.skipped.append((path.name, str(error)))
            continue
        parsed_documents.append(parsed)
        old = stored.get(parsed.path)
        if same_code and old is not None and old.checksum == parsed.checksum:
            learned[parsed.path] = remembered.get(old.id, [])
        else:
            learned[parsed.path] = base_reader().learn(parsed)
    return parsed_documents, learned


def _learned_part(vocabulary: Vocabulary, base: Vocabulary) -> tuple:
    return vocabulary.conditions[len(base.conditions):], vocabulary.pain_types[len(base.pain_types):]


def _summaries(session: Session) -> Dict[str, DocumentSummary]:
    """Per document: the conditions and pain types its statements name, its terms and learned names."""
    documents = {d.id: d for d in session.scalars(select(Document).order_by(Document.path))}
    out = {d.path: DocumentSummary(d.title) for d in documents.values()}
    pairs = [
        (select(Passage.document_id, Condition.name).join(ConditionPainLink, ConditionPainLink.passage_id == Passage.id)
         .join(Condition, Condition.id == ConditionPainLink.condition_id).where(Condition.group != "umbrella"), "conditions"),
        (select(Passage.document_id, Condition.name).join(Fact, Fact.passage_id == Passage.id)
         .join(Condition, Condition.id == Fact.condition_id).where(Condition.group != "umbrella"), "conditions"),
        (select(Passage.document_id, PainType.name).join(ConditionPainLink, ConditionPainLink.passage_id == Passage.id)
         .join(PainType, PainType.id == ConditionPainLink.pain_type_id), "pain_types"),
        (select(Passage.document_id, PainType.name).join(Fact, Fact.passage_id == Passage.id)
         .join(PainType, PainType.id == Fact.pain_type_id), "pain_types"),
    ]
    for statement, attribute in pairs:
        for document_id, name in session.execute(statement.distinct()):
            names = getattr(out[documents[document_id].path], attribute)
            if name not in names:
                names.append(name)
    for summary in out.values():
        summary.conditions.sort()
        summary.pain_types.sort()
    strongest: Dict[Tuple[int, str], int] = {}
    for document_id, name, strength in session.execute(
        select(Passage.document_id, Term.name, TermOccurrence.strength)
        .join(TermOccurrence, TermOccurrence.passage_id == Passage.id)
        .join(Term, Term.id == TermOccurrence.term_id)
        .order_by(Passage.document_id, Passage.ordinal, TermOccurrence.start)
    ):
        key = (document_id, name)
        strongest[key] = max(strongest.get(key, -1), strength)
    for (document_id, name), strength in strongest.items():
        summary = out[documents[document_id].path]
        (summary.terms_defined if strength > 0 else summary.terms_used).append(name)
    for row in session.scalars(select(LearnedNameRow).order_by(LearnedNameRow.kind, LearnedNameRow.name)):
        summary = out[documents[row.document_id].path]
        names = summary.learned_conditions if row.kind == "condition" else summary.learned_sites
        if row.name not in names:
            names.append(row.name)
    return out


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
    for model in (Fact, TermOccurrence):
        session.execute(delete(model).where(model.passage_id.in_(passage_ids)), execution_options={"synchronize_session": False})
    session.execute(delete(LearnedNameRow).where(LearnedNameRow.document_id == document.id), execution_options={"synchronize_session": False})
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
    for model in (TermOccurrence, TermAlias, Term, Fact, ConditionPainLink, LearnedNameRow, Passage, Document,
                  ConditionAlias, Condition, PainTypeAlias, PainType):
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
    for pain_term in vocabulary.pain_types:
        pain = PainType(key=pain_term.key, name=pain_term.name)
        seen = set()
        for spelling in pain_term.spellings():
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
    learned: Sequence[LearnedName] = (),
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
    for item in learned:
        session.add(LearnedNameRow(document=document, kind=item.kind, name=item.name[:200], spelling=item.spelling[:200],
                                   abbreviation=item.abbreviation, how=item.how))
    for extracted in passages:
        passage = Passage(
            document=document,
            ordinal=extracted.ordinal,
            kind=extracted.kind,
            heading=extracted.heading,
            lead_in=extracted.lead_in,
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
    for name, explicit in extracted.conditions.items():
        for pain_key in extracted.pain_types:
            link_explicit = explicit and pain_key not in extracted.title_pains  # the title's link, carried by the passage
            session.add(ConditionPainLink(condition=conditions[name], pain_type=pain_types[pain_key], passage=passage,
                                          explicit=link_explicit))
    pains = [pain_types[k] for k in extracted.pain_types if k not in extracted.title_pains]
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
            for pain in pains or [None]:  # type: ignore[list-item]  # no pain type: the fact is about none
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
    has one of its names (or its condition), else starts a new one. Occurrences are inserted in bulk by
    ``write``; ``_refresh_terms`` then rebuilds the spellings and names the terms."""

    def __init__(self, session: Session, conditions: Dict[str, Condition]):
        self.session = session
        self.conditions = {c.key: c for c in conditions.values()}
        terms = {t.id: t for t in session.scalars(select(Term))}
        self.by_condition: Dict[int, Term] = {t.condition_id: t for t in terms.values() if t.condition_id is not None}
        self.by_name: Dict[str, Term] = {}
        self.by_match: Dict[str, Term] = {}
        for term_id, normalized, key in session.execute(select(TermAlias.term_id, TermAlias.normalized, TermAlias.match_key)):
            self.by_name.setdefault(normalized, terms[term_id])
            self.by_match.setdefault(key, terms[term_id])
        self._new = 0
        self._pending: Dict[Tuple[int, int], Tuple[Term, Passage, FoundTerm, List[str]]] = {}  # (term, passage) objects

    def add(self, passage: Passage, found: FoundTerm) -> None:
        term = self._term_for(found)
        if found.kind != "term" and term.kind in ("term", "body_part") and term.kind != found.kind:
            term.kind = found.kind
        key = (id(term), id(passage))
        spellings = list(found.spellings)
        if key in self._pending:  # one occurrence per passage: the strongest, with every spelling
            _, _, before, known = self._pending[key]
            spellings = known + [s for s in spellings if s not in known]
            if before.strength >= found.strength:
                found = before
        self._pending[key] = (term, passage, found, spellings)
        for spelling in found.spellings:
            self.by_name.setdefault(normalize(spelling), term)
            self.by_match.setdefault(match_key(spelling), term)

    def write(self) -> None:
        """Insert this build's occurrences (one statement: the ORM would take longer than the reading)."""
        if not self._pending:
            return
        self.session.flush()
        rows = [
            {"term_id": term.id, "passage_id": passage.id, "rule": found.rule, "strength": found.strength,
             "surface": found.surface[:200], "start": found.start, "end": found.end, "spellings": "\n".join(spellings)}
            for term, passage, found, spellings in self._pending.values()
        ]
        self.session.execute(insert(TermOccurrence), rows)
        self._pending.clear()

    def _term_for(self, found: FoundTerm) -> Term:
        condition = self.conditions.get(found.key) if found.key is not None else None
        if condition is not None and condition.id in self.by_condition:
            return self.by_condition[condition.id]
        names = [normalize(s) for s in found.spellings]
        term = next((self.by_name[n] for n in names if n in self.by_name), None)
        if term is None:
            term = next((self.by_match[match_key(s)] for s in found.spellings if match_key(s) in self.by_match), None)
        if term is not None and condition is not None and term.condition not in (None, condition):
            term = None  # the same words, but another condition's: keep them apart
        if term is None:
            self._new += 1
            term = Term(key=f"~new-{self._new}", name=found.surface[:200], kind=found.kind)
            self.session.add(term)
        if condition is not None and term.condition is None:
            term.condition = condition
            self.by_condition[condition.id] = term
        return term


def _refresh_terms(session: Session) -> None:
    """After the documents are written: drop terms no passage uses any more, rebuild every term's
    spellings from its occurrences, and give it its name (from its best passage: defining first,
    then the first in reading order) and key."""
    session.flush()
    used = select(TermOccurrence.term_id).distinct()
    session.execute(delete(TermAlias), execution_options={"synchronize_session": False})
    session.execute(delete(Term).where(Term.id.not_in(used)), execution_options={"synchronize_session": False})
    session.expire_all()
    best: Dict[int, Tuple[tuple, str]] = {}
    aliases: Dict[Tuple[int, str], str] = {}
    rows = session.execute(
        select(TermOccurrence.term_id, TermOccurrence.strength, Document.path, Passage.ordinal, TermOccurrence.start,
               TermOccurrence.surface, TermOccurrence.spellings)
        .join(Passage, Passage.id == TermOccurrence.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .order_by(Document.path, Passage.ordinal, TermOccurrence.start)
    )
    for term_id, strength, path, ordinal, start, surface, spellings in rows:
        rank = (-strength, path, ordinal, start)
        if term_id not in best or rank < best[term_id][0]:
            best[term_id] = (rank, surface)
        for spelling in spellings.split("\n"):
            normalized = normalize(spelling)[:200]
            if normalized:
                aliases.setdefault((term_id, normalized), spelling[:200])
    if aliases:
        session.execute(insert(TermAlias), [
            {"term_id": term_id, "alias": alias, "normalized": normalized, "match_key": match_key(alias)[:200]}
            for (term_id, normalized), alias in sorted(aliases.items())
        ])
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
