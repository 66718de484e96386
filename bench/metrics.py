"""Scores from the raw rows, the summary bench.json carries, and the targets."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from bench.corpus import median

OOS_PREDICTIONS = ("out_of_scope", "nlu_fallback")  # a fallback is the bot saying it did not understand

TARGETS = {
    # key: (description, check(summary) -> bool)
    "p95_1_user": ("p95 per turn <= 50 ms with 1 user", lambda s: s["p95_ms"] <= 50),
    "p95_vs_default": ("p95 <= 0.7 x the default pipeline's p95", lambda s: s["p95_ms"] <= 0.7 * s["p95_ms_default_pipeline"]),
    "ready": ("ready (start to first answer) <= 15 s", lambda s: s["ready_s"] <= 15),
    "rss_rasa": ("Rasa server <= 800 MB resident", lambda s: s["rss_mb_rasa"] <= 800),
    "train": ("training <= 60 s", lambda s: s["train_s"] <= 60),
    "accuracy_vs_bm25": ("answer accuracy >= 3 x the search box's", lambda s: s["accuracy"] >= 3 * s["accuracy_bm25"]),
    "accuracy_95": ("answer accuracy >= 95% on the held-out questions", lambda s: s["accuracy"] >= 0.95),
}


def _intent(predicted: Optional[str]) -> str:
    return "out_of_scope" if predicted in OOS_PREDICTIONS else (predicted or "none")


def intent_scores(rows: List[dict]) -> Dict[str, float]:
    from sklearn.metrics import f1_score

    gold = [r["gold"] for r in rows]
    pred = [_intent(r["predicted"]) for r in rows]
    oos = [p for g, p in zip(gold, pred) if g == "out_of_scope"]
    flagged = [g for g, p in zip(gold, pred) if p == "out_of_scope"]
    labels = sorted(set(gold))
    return {
        "intent_accuracy": sum(g == p for g, p in zip(gold, pred)) / len(rows),
        "intent_macro_f1": float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)),
        "oos_recall": (sum(p == "out_of_scope" for p in oos) / len(oos)) if oos else float("nan"),
        "oos_precision": (sum(g == "out_of_scope" for g in flagged) / len(flagged)) if flagged else float("nan"),
        "oos_questions": len(oos),
    }


def answer_scores(rows: List[dict]) -> Dict[str, float]:
    def acc(subset: Iterable[dict]) -> float:
        subset = list(subset)
        return sum(r["correct"] for r in subset) / len(subset) if subset else float("nan")

    out = {
        "accuracy": acc(rows),
        "accuracy_test_nlu": acc(r for r in rows if r["source"] == "test_nlu"),
        "accuracy_real": acc(r for r in rows if r["source"] == "real"),
        "accuracy_medical": acc(r for r in rows if r["medical"]),
    }
    for kind in ("facts", "no_info", "decline", "restricted", "reply"):
        out[f"accuracy_{kind}"] = acc(r for r in rows if r["kind"] == kind)
    return out


def per_intent(rows: List[dict]) -> Dict[str, Dict[str, float]]:
    groups: Dict[str, List[dict]] = defaultdict(list)
    for r in rows:
        groups[r["gold"]].append(r)
    return {
        intent: {
            "n": len(rs),
            "intent_accuracy": sum(_intent(r.get("predicted")) == intent for r in rs) / len(rs) if "predicted" in rs[0] else None,
            "answer_accuracy": sum(r["correct"] for r in rs) / len(rs),
        }
        for intent, rs in sorted(groups.items())
    }


def confusions(rows: List[dict], top: int = 12) -> List[dict]:
    pairs = Counter((r["gold"], _intent(r["predicted"])) for r in rows if r["gold"] != _intent(r["predicted"]))
    return [{"gold": g, "predicted": p, "count": c} for (g, p), c in pairs.most_common(top)]


def speed(system: Dict[str, object]) -> Dict[str, float]:
    one, many = system["load_1_user"], system["load_20_users"]
    rss = system["rss"]["after_load"]
    ready = [r for r in system["ready_runs_s"] if r is not None]
    return {
        "p50_ms": median([r["p50_ms"] for r in one]),
        "p95_ms": median([r["p95_ms"] for r in one]),
        "p99_ms": median([r["p99_ms"] for r in one]),
        "throughput_rps_1_user": median([r["throughput_rps"] for r in one]),
        "p50_ms_20_users": median([r["p50_ms"] for r in many]),
        "p95_ms_20_users": median([r["p95_ms"] for r in many]),
        "p99_ms_20_users": median([r["p99_ms"] for r in many]),
        "throughput_rps_20_users": median([r["throughput_rps"] for r in many]),
        "errors": sum(r["errors"] for r in one + many),
        "ready_s": median(ready) if ready else float("nan"),
        "rss_mb_rasa": rss["rasa"]["rss_mb"],
        "rss_mb_actions": rss["actions"]["rss_mb"],
        "peak_rss_mb_rasa": rss["rasa"]["peak_rss_mb"],
        "peak_rss_mb_actions": rss["actions"]["peak_rss_mb"],
        "model_mb": system["model_mb"],
    }


def assemble(systems: Dict[str, dict], bm25: dict, training: Dict[str, List[float]], store: dict, questions,
             whatif: Optional[dict] = None, training_cpu: Optional[Dict[str, List[float]]] = None) -> dict:
    detail: Dict[str, dict] = {}
    for name, system in systems.items():
        detail[name] = {**intent_scores(system["rows"]), **answer_scores(system["rows"]), **speed(system),
                        "train_s": median(training[name]), "train_runs_s": training[name]}
        if training_cpu and training_cpu.get(name):
            detail[name]["train_cpu_s"] = median(training_cpu[name])
    detail["bm25"] = {**answer_scores(bm25["rows"]), "passages": bm25["passages"], "p95_query_ms": bm25["p95_query_ms"],
                      "index_build_ms": bm25["index_build_ms"]}
    ours, default = detail["ours"], detail["default_pipeline"]
    summary: Dict[str, float] = {}
    for key in ("accuracy", "accuracy_test_nlu", "accuracy_real", "accuracy_medical", "intent_accuracy", "intent_macro_f1",
                "oos_recall", "oos_precision", "p50_ms", "p95_ms", "p99_ms", "p50_ms_20_users", "p95_ms_20_users", "p99_ms_20_users",
                "throughput_rps_1_user", "throughput_rps_20_users", "ready_s", "rss_mb_rasa", "rss_mb_actions",
                "peak_rss_mb_rasa", "peak_rss_mb_actions", "train_s", "model_mb"):
        summary[key] = ours[key]
        summary[f"{key}_default_pipeline"] = default[key]
    for key in ("accuracy", "accuracy_test_nlu", "accuracy_real", "accuracy_medical"):
        summary[f"{key}_bm25"] = detail["bm25"][key]
    for name, suffix in (("ours", ""), ("default_pipeline", "_default_pipeline")):
        if "train_cpu_s" in detail[name]:
            summary[f"train_cpu_s{suffix}"] = detail[name]["train_cpu_s"]
    if whatif:
        detail["ours_with_fixes"] = speed(whatif)
        for key in ("p50_ms", "p95_ms", "p99_ms", "p95_ms_20_users", "throughput_rps_20_users", "rss_mb_rasa"):
            summary[f"{key}_with_fixes"] = detail["ours_with_fixes"][key]
    points = {p["documents"]: p["seconds"] for p in store["points"]}
    summary["store_build_s_3_docs"] = points[3]
    summary["store_build_s_3_docs_cold"] = store["cold_first_build_s"]
    for size in (100, 1000):
        if size in points:
            summary[f"store_build_s_{size}_docs"] = points[size]
    summary["questions"] = len(questions)
    summary["questions_real"] = sum(q.source == "real" for q in questions)
    summary = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()}
    targets = {}
    for key, (label, check) in TARGETS.items():
        try:
            targets[key] = {"target": label, "met": bool(check(summary))}
        except (KeyError, TypeError):
            targets[key] = {"target": label, "met": None}
    return {
        "summary": summary,
        "targets": targets,
        "detail": detail,
        "per_intent": {name: per_intent(systems[name]["rows"]) for name in systems} | {"bm25": per_intent(bm25["rows"])},
        "confusions": {name: confusions(systems[name]["rows"]) for name in systems},
        "store_build": store,
        "profile": systems["ours"].get("profile"),
    }


_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")
IDLE_LEAVES = ("serve (sanic/server/runners.py)",)  # the event loop waiting for a request
HOTSPOTS = {
    "NLU: parse the message (graph run)": "parse_message (rasa/core/processor.py)",
    "policies: predict the next action": "_predict_next_with_tracker (rasa/core/processor.py)",
    "tracker store: load the conversation": "retrieve (rasa/core/tracker_store.py)",
    "tracker store: save the conversation": "save (rasa/core/tracker_store.py)",
    "  of which SQLite commit": "do_commit (sqlalchemy/engine/default.py)",
    "remote actions: call the action server": "run (rasa/core/actions/action.py)",
    "  of which jsonschema check of the response": "_validate_action_result (rasa/core/actions/action.py)",
    "jsonschema, all stacks (deep recursion truncates some)": "*jsonschema/",
    "action server: compose the answer": "answer (bot/answers.py)",
    "SQLAlchemy ORM queries (tracker store in Rasa, condition store in actions)": "execute (sqlalchemy/orm/session.py)",
}


def summarize_profile(raw: Path, top: int = 60) -> Dict[str, object]:
    """py-spy's raw (collapsed) stacks -> share of busy samples (the event loop's idle wait left out)
    spent in (inclusive) each function, and in the hot spots named above."""
    total = busy = 0
    inclusive: Counter = Counter()
    leaf: Counter = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        count = int(m.group(2))
        frames = []
        for frame in m.group(1).split(";"):
            fm = _FRAME.match(frame.strip())
            if fm:
                frames.append(f"{fm.group(1)} ({fm.group(2)})")  # py-spy already shortens paths
        if not frames:
            continue
        total += count
        if frames[-1] in IDLE_LEAVES:
            continue
        busy += count
        for name in set(frames):
            inclusive[name] += count
        for label, pattern in HOTSPOTS.items():
            if pattern.startswith("*") and any(pattern[1:] in f for f in frames):
                inclusive[pattern] += count
        leaf[frames[-1]] += count
    share = lambda c: round(100 * c / busy, 1) if busy else 0.0  # noqa: E731
    return {
        "samples": total,
        "busy_samples": busy,
        "hotspots_pct": {label: share(inclusive.get(fn, 0)) for label, fn in HOTSPOTS.items()},
        "inclusive_pct": [{"function": f, "pct": share(c)} for f, c in inclusive.most_common(top * 3)
                          if share(c) < 90 and not f.startswith("*")][:top],
        "self_pct": [{"function": f, "pct": share(c)} for f, c in leaf.most_common(top)],
    }
