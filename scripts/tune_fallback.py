"""Pick the FallbackClassifier threshold on held-out questions (tests/test_nlu.yml).

Usage: .venv/bin/python scripts/tune_fallback.py RESULTS_DIR
where RESULTS_DIR comes from `rasa test nlu --nlu tests/test_nlu.yml --successes --out RESULTS_DIR`.

For each threshold: how many in-scope questions are still answered with the right intent (not sent
to the fallback), and how many out-of-scope ones are caught (predicted out_of_scope, or below the
threshold). Prints a table and the threshold with the best balance (mean of the two rates).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def load(results: Path) -> list:
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = results / name
        if path.exists():
            rows += json.loads(path.read_text())
    return rows


def main(results: Path) -> None:
    rows = load(results)
    in_scope = [r for r in rows if r["intent"] != "out_of_scope"]
    oos = [r for r in rows if r["intent"] == "out_of_scope"]
    print(f"{len(in_scope)} in-scope, {len(oos)} out-of-scope held-out questions")
    print("threshold  in-scope answered right  out-of-scope caught  balance")
    best = None
    for step in range(20, 91, 5):
        threshold = step / 100
        answered = sum(1 for r in in_scope if r["intent_prediction"]["name"] == r["intent"] and r["intent_prediction"]["confidence"] >= threshold)
        caught = sum(1 for r in oos if r["intent_prediction"]["name"] == "out_of_scope" or r["intent_prediction"]["confidence"] < threshold)
        a, c = answered / len(in_scope), caught / max(1, len(oos))
        print(f"  {threshold:.2f}     {a:6.1%}                   {c:6.1%}            {(a + c) / 2:6.1%}")
        if best is None or (a + c) / 2 > best[1]:
            best = (threshold, (a + c) / 2)
    print(f"best balance at threshold {best[0]:.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
