"""The held-out questions: tests/test_nlu.yml, the labelled real consumer questions, the held-out sets
written in their style (bench/heldout_real_style.jsonl, heldout_terms.jsonl, heldout_multi.jsonl), and the
scope sets (bench/heldout_in_scope.jsonl, heldout_out_of_scope_medical.jsonl), and the questions about the
held-out new documents of bench/new_documents/ (bench/heldout_new_documents.jsonl)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import yaml

from bench.expectations import ANSWERED, DECLINED, MEDICAL_INTENTS, Expectation, expectation_for, with_honest_gap

ROOT = Path(__file__).resolve().parent.parent
TEST_NLU = ROOT / "tests" / "test_nlu.yml"
REAL_LABELS = ROOT / "bench" / "real_questions_labels.jsonl"
REAL_STYLE = ROOT / "bench" / "heldout_real_style.jsonl"  # single questions written like real messages
TERMS = ROOT / "bench" / "heldout_terms.jsonl"  # "what are DMARDs?": terms the documents explain
MULTI = ROOT / "bench" / "heldout_multi.jsonl"  # two or three questions in one message
IN_SCOPE = ROOT / "bench" / "heldout_in_scope.jsonl"  # questions the documents answer (must not be declined)
OUT_OF_SCOPE_MEDICAL = ROOT / "bench" / "heldout_out_of_scope_medical.jsonl"  # subjects the documents don't cover
NEW_DOCUMENTS = ROOT / "bench" / "new_documents"  # documents on topics data/vocabulary.yml does not list
NEW_DOCUMENT_QUESTIONS = ROOT / "bench" / "heldout_new_documents.jsonl"  # questions those documents answer
VOCABULARY = ROOT / "data" / "vocabulary.yml"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")

# (condition text -> (canonical name, vocabulary group) or None, pain text -> pain key or None)
Resolver = Tuple[Callable[[str], Optional[Tuple[str, str]]], Callable[[str], Optional[str]]]


@dataclass(frozen=True)
class Question:
    text: str
    intent: str  # gold intent ("out_of_scope" for questions outside the assistant's remit; "" not labelled)
    expect: Expectation
    source: str  # "test_nlu", "real", "real_style", "term", "in_scope" or "oos_medical"
    subject: Optional[str] = None  # oos_medical: the subject the documents do not cover
    kind: Optional[str] = None  # oos_medical: condition, drug, procedure, symptom or body part

    @property
    def medical(self) -> bool:
        return self.intent in MEDICAL_INTENTS


def parse_example(line: str) -> Tuple[str, List[Tuple[str, str]]]:
    """Plain text and [(entity, text)] of one Rasa YAML training example."""
    entities = [(m.group(2), m.group(1)) for m in _ANNOTATION.finditer(line)]
    return _ANNOTATION.sub(lambda m: m.group(1), line), entities


def test_nlu_questions(resolver: Resolver, path: Path = TEST_NLU) -> List[Question]:
    resolve_condition, resolve_pain = resolver
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for block in data["nlu"]:
        intent = block["intent"]
        declared = (block.get("metadata") or {}).get("expect")  # e.g. "declined": a subject the documents don't cover
        for raw in (block.get("examples") or "").splitlines():
            raw = raw.strip()
            if not raw.startswith("- "):
                continue
            text, entities = parse_example(raw[2:].strip())
            condition = group = pain = None
            # The first specific condition (else the umbrella) and the first pain, like the actions do.
            conditions = [resolve_condition(t) for e, t in entities if e == "condition"]
            conditions = [c for c in conditions if c]
            specific = [c for c in conditions if c[1] != "umbrella"]
            if specific or conditions:
                condition, group = (specific or conditions)[0]
            pains = [p for p in (resolve_pain(t) for e, t in entities if e == "pain_type") if p]
            pain = pains[0] if pains else None
            expect = Expectation(declared) if declared else expectation_for(intent, condition, group, pain)
            out.append(Question(text, intent, expect, "test_nlu"))
    return out


def real_questions(path: Path = REAL_LABELS) -> List[Question]:
    """The labelled real questions (bench/real_questions_labels.jsonl); excluded ones are skipped."""
    groups = condition_groups()
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("excluded"):
            continue
        condition = row.get("condition")
        expect = with_honest_gap(Expectation.from_json(row["expect"]), row["intent"], condition, groups.get(condition) if condition else None,
                                 row.get("pain_type"))
        out.append(Question(row["question"], row["intent"], expect, "real"))
    return out


@dataclass(frozen=True)
class Part:
    """One question of a message that asks several."""
    intent: str
    condition: Optional[str]  # canonical name (data/vocabulary.yml)
    pain_type: Optional[str]  # pain-type key
    expect: Expectation


@dataclass(frozen=True)
class MultiQuestion:
    text: str
    parts: Tuple[Part, ...]  # in the order they are asked

    @property
    def emergency(self) -> bool:
        """A red flag anywhere: the whole reply must be the emergency advice."""
        return any(p.intent == "emergency" for p in self.parts)


def condition_groups(path: Path = VOCABULARY) -> Dict[str, str]:
    """Canonical condition name -> its vocabulary group (autoimmune, immune-mediated, other, umbrella)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {c["name"]: c.get("group", "") for c in data["conditions"]}


def _expectation(row: dict, groups: Dict[str, str]) -> Expectation:
    """The row's own ``expect`` if it has one (terms, subjects the documents do not cover), else the
    expectation of its labels; an unknown condition name is a labelling error and raises KeyError."""
    condition = row.get("condition")
    if "expect" in row:
        return with_honest_gap(Expectation.from_json(row["expect"]), row["intent"], condition, groups.get(condition) if condition else None)
    return expectation_for(row["intent"], condition, groups[condition] if condition else None, row.get("pain_type"))


def _rows(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def labelled_questions(path: Path, source: str) -> List[Question]:
    """A held-out set of single questions: heldout_real_style.jsonl ("real_style") or heldout_terms.jsonl ("term")."""
    groups = condition_groups()
    return [Question(row["question"], row["intent"], _expectation(row, groups), source) for row in _rows(path)]


def real_style_questions(path: Path = REAL_STYLE) -> List[Question]:
    return labelled_questions(path, "real_style")


def term_questions(path: Path = TERMS) -> List[Question]:
    return labelled_questions(path, "term")


def multi_questions(path: Path = MULTI) -> List[MultiQuestion]:
    groups = condition_groups()
    return [MultiQuestion(row["question"], tuple(Part(p["intent"], p.get("condition"), p.get("pain_type"), _expectation(p, groups))
                                                for p in row["parts"])) for row in _rows(path)]


def in_scope_questions(path: Path = IN_SCOPE) -> List[Question]:
    """Questions the documents answer (bench/heldout_in_scope.jsonl): the bot must answer, not decline.
    Labelled with a topic of the registry (bot/topics.py, by name: "condition_info"), read as its intent."""
    from bot.topics import Topic, intent_for_topic

    return [Question(row["question"], intent_for_topic(Topic[row["topic"].upper()]), ANSWERED, "in_scope")
            for row in _rows(path)]


def out_of_scope_medical_questions(path: Path = OUT_OF_SCOPE_MEDICAL) -> List[Question]:
    """Medical questions on subjects the documents do not cover: the bot must decline honestly. No gold
    intent (any topic intent is fine: the composer declines by subject), so they are left out of intent scores."""
    return [Question(row["question"], "", DECLINED, "oos_medical", subject=row["subject"], kind=row.get("kind"))
            for row in _rows(path)]


@dataclass(frozen=True)
class NewDocumentQuestion:
    """A question about one of the held-out new documents: right when the reply holds its facts and
    cites that document (its title)."""
    question: Question
    document: str  # file name in bench/new_documents/
    title: str  # the document's first line, which the reply must cite
    subject: str  # the new condition, pain site or term it asks about


def document_title(path: Path) -> str:
    """A document's title: its first non-empty line (the format of data/documents/*.txt)."""
    return next(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def new_document_questions(path: Path = NEW_DOCUMENT_QUESTIONS, folder: Path = NEW_DOCUMENTS) -> List[NewDocumentQuestion]:
    """bench/heldout_new_documents.jsonl: each row names its document (a file in ``folder``), the subject
    asked about and the facts (phrases of that document) a correct reply quotes."""
    out = []
    for row in _rows(path):
        question = Question(row["question"], row["intent"], Expectation.from_json(row["expect"]), "new_document")
        out.append(NewDocumentQuestion(question, row["document"], document_title(folder / row["document"]), row["subject"]))
    return out


def store_resolver(store) -> Resolver:
    """Entity text -> canonical value through the store's vocabulary (names, aliases, spellings)."""

    def condition(text: str):
        ref = store.resolve_condition(text)
        return (ref.name, ref.group) if ref else None

    def pain(text: str):
        ref = store.resolve_pain_type(text)
        return ref.key if ref else None

    return condition, pain
