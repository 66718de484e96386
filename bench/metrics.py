"""Scores from the raw rows, the summary bench.json carries, the targets, the pipeline choice (issue 15)."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from bench import pipelines
from bench.corpus import median

OOS_PREDICTIONS = ("out_of_scope", "nlu_fallback")  # a fallback is the bot saying it did not understand

#: The held-out sets of single questions (bench/heldout.py), in the order the report shows them.
SOURCES: Dict[str, str] = {
    "test_nlu": "tests/test_nlu.yml",
    "real": "real consumer questions (labelled)",
    "real_style": "written like real messages",
    "term": "term questions (\"what are DMARDs?\")",
    "in_scope": "in scope: must be answered",
    "oos_medical": "other medical subjects: must be declined",
}
NOT_FOR_SEARCH = frozenset({"in_scope"})  # "answered" means nothing for a search box, which always shows something

TARGETS = {
    # key: (description, issue, check(summary) -> bool)
    "accuracy_real": ("real questions answered correctly >= 85%", "11", lambda s: s["accuracy_real"] >= 0.85),
    "accuracy_test_nlu": ("tests/test_nlu.yml answered correctly >= 94% (not lower than before)", "11",
                          lambda s: s["accuracy_test_nlu"] >= 0.94),
    "decline_oos_medical": ("out-of-scope medical questions declined >= 95%", "10", lambda s: s["decline_oos_medical"] >= 0.95),
    "lexicon_ms": ("lexicon <= 2 ms per message (p95)", "10", lambda s: s["lexicon_p95_ms"] <= 2.0),
    "emergencies_caught": ("emergencies caught on the safety table = 100%", "18", lambda s: s["safety_emergency_sensitivity"] >= 1.0),
    "false_alarms": ("safety false alarms on in-scope held-out questions <= 2%", "18", lambda s: s["safety_false_alarm_rate"] <= 0.02),
    "hostile_ms": ("25k-character hostile messages screened in < 50 ms (CPU, slowest)", "18", lambda s: s["safety_hostile_max_ms"] < 50),
    "report_speed": ("staff report over 10,000 conversations < 30 s (in process and as the command)", "13",
                     lambda s: max(s["report_speed_report_s"], s["report_speed_cli_s"]) < 30),
    "p95_1_user": ("p95 per turn <= 50 ms with 1 user", "6", lambda s: s["p95_ms"] <= 50),
    "p95_vs_default": ("p95 <= 0.7 x the default pipeline's p95", "6", lambda s: s["p95_ms"] <= 0.7 * s["p95_ms_default_pipeline"]),
    "ready": ("ready (launch to first answer) <= 10 s", "15", lambda s: s["ready_s"] <= 10),
    "rss_rasa": ("Rasa server <= 800 MB resident", "15", lambda s: s["rss_mb_rasa"] <= 800),
    "train": ("training <= 30 s from a fresh cache", "15", lambda s: s["train_s"] <= 30),
    "accuracy_vs_bm25": ("answer accuracy >= 3 x the search box's (same questions)", "6",
                         lambda s: s["accuracy_searchable"] >= 3 * s["accuracy_searchable_bm25"]),
    "accuracy_95": ("answer accuracy >= 95% on all held-out questions", "6", lambda s: s["accuracy"] >= 0.95),
}


def _intent(predicted: Optional[str]) -> str:
    return "out_of_scope" if predicted in OOS_PREDICTIONS else (predicted or "none")


def _labelled(rows: List[dict]) -> List[dict]:
    """Rows with a gold intent (the out-of-scope medical set has none: any topic intent is fine there)."""
    return [r for r in rows if r.get("gold")]


def intent_scores(rows: List[dict]) -> Dict[str, float]:
    from sklearn.metrics import f1_score

    rows = _labelled(rows)
    if not rows:
        return {"intent_accuracy": float("nan"), "intent_macro_f1": float("nan"), "oos_recall": float("nan"),
                "oos_precision": float("nan"), "oos_questions": 0}
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


def share(subset: Iterable[dict], key: str = "correct") -> float:
    subset = list(subset)
    return sum(bool(r.get(key)) for r in subset) / len(subset) if subset else float("nan")


def answer_scores(rows: List[dict]) -> Dict[str, float]:
    out = {
        "accuracy": share(rows),
        "accuracy_searchable": share(r for r in rows if r["source"] not in NOT_FOR_SEARCH),
        "accuracy_medical": share(r for r in rows if r["medical"]),
    }
    for source in SOURCES:
        out[f"accuracy_{source}"] = share(r for r in rows if r["source"] == source)
    out["decline_oos_medical"] = out["accuracy_oos_medical"]
    out["answered_in_scope"] = out["accuracy_in_scope"]
    oos = [r for r in rows if r["source"] == "oos_medical" and "names_subject" in r]
    out["names_oos_medical"] = share(oos, "names_subject") if oos else float("nan")
    for kind in ("facts", "no_info", "decline", "restricted", "reply"):
        out[f"accuracy_{kind}"] = share(r for r in rows if r["kind"] == kind)
    return out


def multi_scores(rows: List[dict]) -> Dict[str, float]:
    return {"accuracy_multi": share(rows), "accuracy_multi_emergency": share(r for r in rows if r["emergency"]),
            "multi_questions": len(rows)}


def per_intent(rows: List[dict]) -> Dict[str, Dict[str, Any]]:
    groups: Dict[str, List[dict]] = defaultdict(list)
    for r in _labelled(rows):
        groups[r["gold"]].append(r)
    return {
        intent: {
            "n": len(rs),
            "intent_accuracy": sum(_intent(r.get("predicted")) == intent for r in rs) / len(rs) if "predicted" in rs[0] else None,
            "answer_accuracy": share(rs),
        }
        for intent, rs in sorted(groups.items())
    }


def per_group(rows: List[dict], key: str) -> Dict[str, Dict[str, Any]]:
    """n, right and errors per value of ``key`` (source, expectation kind, subject kind)."""
    groups: Dict[str, List[dict]] = defaultdict(list)
    for r in rows:
        if r.get(key):
            groups[r[key]].append(r)
    return {value: {"n": len(rs), "correct": sum(bool(r["correct"]) for r in rs), "errors": sum(not r["correct"] for r in rs),
                    "accuracy": share(rs)} for value, rs in sorted(groups.items())}


def confusions(rows: List[dict], top: int = 12) -> List[dict]:
    pairs = Counter((r["gold"], _intent(r["predicted"])) for r in _labelled(rows) if r["gold"] != _intent(r["predicted"]))
    return [{"gold": g, "predicted": p, "count": c} for (g, p), c in pairs.most_common(top)]


def failures(rows: List[dict], per_source: int = 6) -> Dict[str, List[dict]]:
    """A few wrong answers per set, for reading (the rest are in var/bench/answers-*.jsonl)."""
    out: Dict[str, List[dict]] = defaultdict(list)
    for r in rows:
        if not r["correct"] and len(out[r["source"]]) < per_source:
            first = next((p for p in r["reply"].split("\n\n") if p.strip()), "")
            out[r["source"]].append({"text": r["text"][:160], "gold": r.get("gold"), "predicted": r.get("predicted"),
                                     "kind": r["kind"], "reply": first[:160]})
    return dict(out)


def speed(system: Dict[str, Any]) -> Dict[str, float]:
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
        "ready_cpu_s": median(system.get("ready_cpu_runs_s") or [float("nan")]),
        "rss_mb_rasa": rss["rasa"]["rss_mb"],
        "rss_mb_actions": rss["actions"]["rss_mb"],
        "peak_rss_mb_rasa": rss["rasa"]["peak_rss_mb"],
        "peak_rss_mb_actions": rss["actions"]["peak_rss_mb"],
        "rss_mb_rasa_ready": (system.get("rss_ready") or {}).get("rasa", {}).get("rss_mb", float("nan")),
        "model_mb": system["model_mb"],
    }


def training_figures(runs: Dict[str, Any]) -> Dict[str, float]:
    return {"train_s": median(runs["wall"]), "train_runs_s": runs["wall"], "train_cpu_s": median(runs["cpu"]),
            "train_load_before": median(runs["load_before"]), "train_load_after": median(runs["load_after"])}


def safety_figures(safety: Optional[Dict[str, Any]]) -> Dict[str, float]:
    """The safety screen's headline numbers from bench/safety.py's report."""
    if not safety:
        return {}
    table, alarms = safety["table"], safety["false_alarms"]
    hostile = safety["cost"]["hostile"]
    messages = safety["cost"]["messages"]
    cpu = hostile.get("cpu", hostile)  # CPU time when the report has it: wall time on a loaded machine is the others' too
    return {
        "safety_emergency_sensitivity": table["emergency"]["sensitivity"],
        "safety_urgent_sensitivity": table["urgent"]["sensitivity"],
        "safety_specificity": table["none"]["specificity"],
        "safety_false_alarm_rate": (alarms["emergency_alarms"] + alarms["urgent_alarms"]) / alarms["in_scope"] if alarms["in_scope"] else float("nan"),
        "safety_mean_ms": messages.get("cpu", messages).get("mean_ms"),
        "safety_p95_ms": messages.get("cpu", messages).get("p95_ms"),
        "safety_hostile_max_ms": cpu.get("max_ms"),
    }


def assemble(raw: Dict[str, Any]) -> Dict[str, Any]:
    systems, bm25 = raw["systems"], raw["bm25"]
    detail: Dict[str, Dict[str, Any]] = {}
    for name, system in systems.items():
        detail[name] = {**intent_scores(system["rows"]), **answer_scores(system["rows"]), **multi_scores(system.get("multi_rows", [])),
                        **speed(system), **training_figures(raw["training"][name])}
    detail["bm25"] = {**answer_scores(bm25["rows"]), "passages": bm25["passages"], "p95_query_ms": bm25["p95_query_ms"],
                      "index_build_ms": bm25["index_build_ms"]}
    summary: Dict[str, Any] = {}
    ours = detail["ours"]
    for key, value in ours.items():
        if isinstance(value, (int, float)):
            summary[key] = value
    for name in [n for n in detail if n != "ours"]:
        for key in SUMMARY_KEYS:
            if key in detail[name]:
                summary[f"{key}_{name}"] = detail[name][key]
    lexicon = raw.get("lexicon") or {}
    summary.update(lexicon_mean_ms=lexicon.get("mean_ms"), lexicon_p95_ms=lexicon.get("p95_ms"),
                   lexicon_rss_mb=lexicon.get("rss_mb_lexicon"), lexicon_build_s=lexicon.get("build_s"))
    summary.update(safety_figures(raw.get("safety")))
    speed_of_report = raw.get("report_speed") or {}
    if "report_s" in speed_of_report:
        summary.update(report_speed_report_s=speed_of_report["report_s"], report_speed_cli_s=speed_of_report.get("cli_s"),
                       report_speed_conversations=speed_of_report.get("conversations"))
    points = {p["documents"]: p["seconds"] for p in raw["store"]["points"]}
    summary["store_build_s_3_docs"] = points[3]
    summary["store_build_s_3_docs_cold"] = raw["store"]["cold_first_build_s"]
    for size in (100, 1000):
        if size in points:
            summary[f"store_build_s_{size}_docs"] = points[size]
    questions = raw["questions"]
    summary["questions"] = len(questions)
    for source in SOURCES:
        summary[f"questions_{source}"] = sum(q["source"] == source for q in questions)
    summary["questions_multi"] = raw.get("multi_questions", 0)
    choice = None
    reference = raw.get("reference", "ours")
    if reference in detail:
        choice = pipelines.choose(detail, reference)
        summary["pipeline_chosen"] = choice["chosen"]
    summary = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()}
    targets = {}
    for key, (label, issue, check) in TARGETS.items():
        try:
            targets[key] = {"target": label, "issue": issue, "met": bool(check(summary))}
        except (KeyError, TypeError):
            targets[key] = {"target": label, "issue": issue, "met": None}
    every = {**systems, "bm25": bm25}
    return {
        "summary": summary,
        "targets": targets,
        "detail": detail,
        "pipeline_choice": choice,
        "per_intent": {name: per_intent(s["rows"]) for name, s in every.items()},
        "per_source": {name: per_group(s["rows"], "source") for name, s in every.items()},
        "per_kind": {name: per_group(s["rows"], "kind") for name, s in every.items()},
        "oos_by_subject_kind": {name: per_group([r for r in s["rows"] if r["source"] == "oos_medical"], "subject_kind")
                                for name, s in systems.items()},
        "confusions": {name: confusions(s["rows"]) for name, s in systems.items()},
        "failures": {name: failures(s["rows"]) for name, s in systems.items() if name in ("ours", "default_pipeline")},
        "multi_failures": [{"text": r["text"][:160], "parts": r["parts"], "reply": r["reply"][:240]}
                           for r in systems["ours"].get("multi_rows", []) if not r["correct"]][:8],
        "training": raw["training"],
        "lexicon": raw.get("lexicon"),
        "safety": raw.get("safety"),
        "report_speed": raw.get("report_speed"),
        "store_build": raw["store"],
        "profile": systems["ours"].get("profile"),
        "startup_profile": raw.get("startup_profile"),
        "note": raw.get("note"),
    }


#: What bench.json's summary carries for the other systems (suffix _<name>), next to all of ours.
SUMMARY_KEYS = ("accuracy", "accuracy_searchable", "accuracy_medical", "accuracy_test_nlu", "accuracy_real", "accuracy_real_style",
                "accuracy_term", "answered_in_scope", "decline_oos_medical", "names_oos_medical", "accuracy_multi",
                "intent_accuracy", "intent_macro_f1", "oos_recall", "p50_ms", "p95_ms", "p99_ms", "p95_ms_20_users",
                "throughput_rps_20_users", "ready_s", "ready_cpu_s", "rss_mb_rasa", "rss_mb_actions", "train_s", "train_cpu_s", "model_mb")


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


#: Where a Rasa server's start-up goes (launch to first answer).
STARTUP_HOTSPOTS = {
    "imports (all modules)": "_gcd_import (<frozen importlib._bootstrap>)",
    "  of which bot.rasa's patches importing Rasa's action module": "apply_patches (bot/rasa/patches.py)",
    "loading the model (every component)": "_load_model (rasa/core/processor.py)",
    "  of which DIET: Keras runs a training step to build the model": "fit (keras/engine/training.py)",
    "  of which logistic regression: importing skops.io (it scans every loaded module)": "<module> (skops/io/__init__.py)",
}


def summarize_profile(raw: Path, top: int = 60, hotspots: Optional[Dict[str, str]] = None) -> Dict[str, object]:
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
        for label, pattern in (hotspots or HOTSPOTS).items():
            if pattern.startswith("*") and any(pattern[1:] in f for f in frames):
                inclusive[pattern] += count
        leaf[frames[-1]] += count
    share = lambda c: round(100 * c / busy, 1) if busy else 0.0  # noqa: E731
    return {
        "samples": total,
        "busy_samples": busy,
        "hotspots_pct": {label: share(inclusive.get(fn, 0)) for label, fn in (hotspots or HOTSPOTS).items()},
        "inclusive_pct": [{"function": f, "pct": share(c)} for f, c in inclusive.most_common(top * 3)
                          if share(c) < 90 and not f.startswith("*")][:top],
        "self_pct": [{"function": f, "pct": share(c)} for f, c in leaf.most_common(top)],
    }
