"""The NLU pipelines `make bench` compares (issue 15), and the rule that chooses between them.

Every candidate is ``config.yml`` with only its intent classifier (and the fallback threshold that
goes with it) swapped, so tokenizer, featurizers, lookup-table entities, the safety component and
the policies are the same in all of them:

* ``diet``: DIET as chosen before (one transformer layer of 128, 100 epochs): the reference;
* ``diet_small``: DIET with half the epochs and a transformer half as wide (50 epochs, 1 x 64);
* ``logreg``: Rasa's ``LogisticRegressionClassifier`` (scikit-learn, no TensorFlow model to build on
  load) on the same sparse features; entities, as in every candidate, from the ``RegexEntityExtractor``
  over the lookup tables generated from the store. Its fallback threshold is 0.35: on the held-out
  questions that catches as many out-of-scope ones as DIET does at 0.45 (logistic regression spreads
  its probability more thinly over the intents, so the same threshold would send many more good
  questions to "Did you mean?").

``ours`` is config.yml itself; a candidate identical to it is not trained twice.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yml"
DEFAULT_CONFIG = ROOT / "bench" / "default_config.yml"
INTENT_CLASSIFIERS = ("DIETClassifier", "LogisticRegressionClassifier")

#: name -> (the intent classifier's pipeline entry, the FallbackClassifier threshold)
CANDIDATES: Dict[str, Tuple[Dict[str, Any], float]] = {
    "diet": ({"name": "DIETClassifier", "epochs": 100, "number_of_transformer_layers": 1, "transformer_size": 128,
              "constrain_similarities": True, "random_seed": 7}, 0.45),
    "diet_small": ({"name": "DIETClassifier", "epochs": 50, "number_of_transformer_layers": 1, "transformer_size": 64,
                    "constrain_similarities": True, "random_seed": 7}, 0.45),
    "logreg": ({"name": "LogisticRegressionClassifier", "max_iter": 100, "random_state": 7}, 0.35),
}
REFERENCE = "diet"  # today's pipeline: what a lighter one must hold accuracy against

#: Issue 15's targets, in the order they decide: accuracy first (not lower than DIET's by more than
#: ACCURACY_SLACK), then ready time, Rasa's memory, training time.
ACCURACY_SLACK = 0.01
ACCURACY_KEYS = (
    ("accuracy_real", "real questions answered correctly"),
    ("decline_oos_medical", "out-of-scope medical questions declined"),
    ("accuracy_test_nlu", "tests/test_nlu.yml answered correctly"),  # issue 11: must not drop
)
SPEED_TARGETS = (
    ("ready_s", 10.0, "ready <= 10 s"),
    ("rss_mb_rasa", 800.0, "Rasa server RSS <= 800 MB"),
    ("train_s", 30.0, "training <= 30 s (fresh cache)"),
)


def load_config(path: Path = CONFIG) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def intent_classifier(config: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    return next((dict(c) for c in config.get("pipeline", []) if c.get("name") in INTENT_CLASSIFIERS), None)


def fallback_threshold(config: Mapping[str, Any]) -> Optional[float]:
    entry = next((c for c in config.get("pipeline", []) if c.get("name") == "FallbackClassifier"), None)
    return float(entry["threshold"]) if entry and "threshold" in entry else None


def candidate_config(base: Mapping[str, Any], classifier: Mapping[str, Any], threshold: float) -> Dict[str, Any]:
    """``base`` with its intent classifier replaced by ``classifier`` (at the same place) and the
    fallback threshold set; everything else untouched."""
    config = copy.deepcopy(dict(base))
    pipeline: List[Dict[str, Any]] = []
    placed = False
    for component in config["pipeline"]:
        if component.get("name") in INTENT_CLASSIFIERS:
            if not placed:
                pipeline.append(dict(classifier))
                placed = True
            continue
        if component.get("name") == "FallbackClassifier":
            component = {**component, "threshold": threshold}
        pipeline.append(component)
    if not placed:
        raise ValueError("config.yml has no intent classifier to swap (DIETClassifier or LogisticRegressionClassifier)")
    config["pipeline"] = pipeline
    return config


def same_pipeline(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a.get("pipeline") == b.get("pipeline") and a.get("policies") == b.get("policies")


def which_candidate(config: Mapping[str, Any]) -> Optional[str]:
    """The candidate config.yml is (its classifier and threshold), if any."""
    for name, (classifier, threshold) in CANDIDATES.items():
        if same_pipeline(config, candidate_config(config, classifier, threshold)):
            return name
    return None


def systems(work: Path, base_path: Path = CONFIG) -> Dict[str, Path]:
    """name -> config file: ours (config.yml), Rasa's default pipeline, and every candidate that is not
    config.yml itself (written under ``work``)."""
    base = load_config(base_path)
    out: Dict[str, Path] = {"ours": base_path, "default_pipeline": DEFAULT_CONFIG}
    ours_is = which_candidate(base)
    work.mkdir(parents=True, exist_ok=True)
    for name, (classifier, threshold) in CANDIDATES.items():
        if name == ours_is:
            continue
        path = work / f"{name}.yml"
        header = f"# make bench candidate '{name}': config.yml with its intent classifier swapped (bench/pipelines.py)\n"
        path.write_text(header + yaml.safe_dump(candidate_config(base, classifier, threshold), sort_keys=False), encoding="utf-8")
        out[name] = path
    return out


def reference_name(config_path: Path = CONFIG) -> str:
    """The system that is today's DIET pipeline: "ours" while config.yml is DIET, else "diet"."""
    return "ours" if which_candidate(load_config(config_path)) == REFERENCE else REFERENCE


def choose(detail: Mapping[str, Mapping[str, float]], reference: str,
           names: Optional[List[str]] = None) -> Dict[str, Any]:
    """Issue 15's rule. A pipeline holds accuracy when none of ACCURACY_KEYS is lower than the
    reference's by more than ACCURACY_SLACK; among those (the reference always holds), the one that
    meets the speed targets first in their order wins, ties broken by ready time. Returns the choice,
    and per pipeline what held and what was met, so the report can say why."""
    names = names or [n for n in detail if n not in ("default_pipeline", "bm25")]
    ref = detail[reference]
    rows: Dict[str, Dict[str, Any]] = {}
    for name in names:
        d = detail[name]
        drops = {key: round(ref[key] - d[key], 4) for key, _ in ACCURACY_KEYS if _number(d.get(key)) and _number(ref.get(key))}
        holds = all(drop <= ACCURACY_SLACK + 1e-9 for drop in drops.values())
        met = {key: (bool(d[key] <= limit) if _number(d.get(key)) else False) for key, limit, _ in SPEED_TARGETS}
        rows[name] = {"holds_accuracy": holds, "accuracy_drop": drops, "targets_met": met}
    eligible = [n for n in names if rows[n]["holds_accuracy"]]
    if reference not in eligible:
        eligible.append(reference)

    def rank(name: str) -> Tuple:
        met = rows[name]["targets_met"]
        ready = detail[name].get("ready_s")
        return tuple(not met[key] for key, _, _ in SPEED_TARGETS) + ((ready if _number(ready) else float("inf")),)

    chosen = min(eligible, key=rank)
    return {"chosen": chosen, "reference": reference, "pipelines": rows,
            "lighter_hold_accuracy": [n for n in eligible if n != reference]}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and value == value  # not None, not NaN
