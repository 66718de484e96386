"""The held-out questions: tests/test_nlu.yml and the labelled real consumer questions."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import yaml

from bench.expectations import MEDICAL_INTENTS, Expectation, expectation_for

ROOT = Path(__file__).resolve().parent.parent
TEST_NLU = ROOT / "tests" / "test_nlu.yml"
REAL_LABELS = ROOT / "bench" / "real_questions_labels.jsonl"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")

# (condition text -> (canonical name, vocabulary group) or None, pain text -> pain key or None)
Resolver = Tuple[Callable[[str], Optional[Tuple[str, str]]], Callable[[str], Optional[str]]]


@dataclass(frozen=True)
class Question:
    text: str
    intent: str  # gold intent ("out_of_scope" for questions outside the assistant's remit)
    expect: Expectation
    source: str  # "test_nlu" or "real"

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
            out.append(Question(text, intent, expectation_for(intent, condition, group, pain), "test_nlu"))
    return out


def real_questions(path: Path = REAL_LABELS) -> List[Question]:
    """The labelled real questions (bench/real_questions_labels.jsonl); excluded ones are skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("excluded"):
            continue
        out.append(Question(row["question"], row["intent"], Expectation.from_json(row["expect"]), "real"))
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
