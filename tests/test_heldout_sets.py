"""The held-out sets: well labelled, big enough, and never trained on.

No evaluation question is trained on: every held-out set stays apart from the training data.

The evaluation sets are tests/test_nlu.yml, every question file of the benchmark (bench/*.jsonl: the
labelled real questions, the held-out multi-question, term and real-style sets) and, where this checkout
has it, the shared development set of real questions. A training example may not be one of their
questions, nor a copy with small edits: same words in the same order for eight words running, or (for a
long, real-style message) mostly the same words.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, List, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
TRAINING = sorted(p for p in (ROOT / "data" / "nlu").glob("*.yml") if "generated" not in p.name)
TEST_NLU = ROOT / "tests" / "test_nlu.yml"
BENCH_SETS = sorted((ROOT / "bench").glob("*.jsonl"))
SHARED_DEV = ROOT.parent / "shared" / "eval" / "real_questions_dev.jsonl"

RUN = 8  # words in a row shared with an evaluation question = a copy
LONG = 15  # an evaluation question this long (in words) is a real-style message ...
OVERLAP = 0.6  # ... and a training example sharing this share of their words (Jaccard) is a near copy

_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def normalize(text: str) -> str:
    """Lower case, entity annotations removed, punctuation as spaces, single spaces."""
    text = _ANNOTATION.sub(r"\1", text).lower().replace("’", "'")
    return " ".join(re.sub(r"[^\w ]", " ", text).split())


def yaml_examples(path: Path) -> List[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for item in data.get("nlu", []):
        for line in (item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(normalize(line[2:]))
    return out


def jsonl_questions(path: Path) -> List[str]:
    return [normalize(json.loads(line)["question"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _runs(words: List[str]) -> Set[Tuple[str, ...]]:
    return {tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


def copies(training: Iterable[str], evaluation: Iterable[str]) -> List[Tuple[str, str]]:
    """(training example, evaluation question) pairs where the example is the question or a near copy."""
    evaluation = sorted(set(evaluation))
    runs = {}
    for question in evaluation:
        for run in _runs(question.split()):
            runs.setdefault(run, question)
    long_questions = [(q, set(q.split())) for q in evaluation if len(q.split()) >= LONG]
    exact = set(evaluation)
    found = []
    for example in sorted(set(training)):
        words = example.split()
        if example in exact:
            found.append((example, example))
            continue
        shared = next((runs[r] for r in _runs(words) if r in runs), None)
        if shared is not None:
            found.append((example, shared))
            continue
        vocabulary = set(words)
        for question, question_words in long_questions:
            if len(vocabulary & question_words) / len(vocabulary | question_words) >= OVERLAP:
                found.append((example, question))
                break
    return found


def evaluation_questions() -> List[str]:
    questions = yaml_examples(TEST_NLU)
    for path in BENCH_SETS:
        questions += jsonl_questions(path)
    if SHARED_DEV.exists():
        questions += jsonl_questions(SHARED_DEV)
    return questions


def test_the_benchmark_question_files_are_all_checked():
    names = {p.name for p in BENCH_SETS}
    assert {"real_questions_labels.jsonl", "heldout_multi.jsonl", "heldout_terms.jsonl", "heldout_real_style.jsonl"} <= names


def test_no_evaluation_question_or_near_copy_is_trained_on():
    training = [e for path in TRAINING for e in yaml_examples(path)]
    found = copies(training, evaluation_questions())
    assert not found, "\n".join(f"training: {t!r}\n  copies: {q!r}" for t, q in found)


def test_the_check_catches_exact_copies_runs_and_edited_long_messages():
    long_question = normalize("Hello, I was told five years ago that my knees wear out early. Every winter they ache "
                              "and creak on the stairs, and my sister has the same. What can be done about it?")
    evaluation = ["how do dolphins sleep", long_question]
    training = [
        normalize("How do [dolphins](animal) sleep?"),  # the same question once annotated and punctuated
        "my knees wear out early every winter they ache",  # eight words running from the long one
        normalize("hello i was told 5 years ago my knees wear out early, every winter they ache and creak on "
                  "stairs and my sister has the same, what can be done"),  # an edited copy
        "how do whales sleep",  # a question of its own
        "what can be done about my knees",  # shares words, not a copy
    ]
    assert [t for t, _ in copies(training, evaluation)] == sorted(training[:3])


def test_held_out_sets_use_known_intents_conditions_and_pain_types():
    from bench.heldout import condition_groups, multi_questions, real_style_questions, term_questions

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = set(domain["intents"])
    conditions = set(condition_groups())
    pains = {p["key"] for p in yaml.safe_load((ROOT / "data" / "vocabulary.yml").read_text(encoding="utf-8"))["pain_types"]}
    rows = [json.loads(line) for name in ("heldout_real_style", "heldout_terms")
            for line in (ROOT / "bench" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows += [part for line in (ROOT / "bench" / "heldout_multi.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
             for part in json.loads(line)["parts"]]
    for row in rows:
        assert row["intent"] in intents, row
        assert row.get("condition") in conditions | {None}, row
        assert row.get("pain_type") in pains | {None}, row
    assert real_style_questions() and term_questions() and multi_questions()  # every row loads with its expectation


def test_enough_multi_question_and_term_questions():
    from bench.heldout import multi_questions, term_questions

    multi = multi_questions()
    assert len(multi) >= 40 and all(2 <= len(m.parts) <= 3 for m in multi)
    terms = term_questions()
    assert len(terms) >= 30
    assert all(q.intent == "ask_condition_info" and q.expect.kind == "facts" for q in terms)
