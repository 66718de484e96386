"""reports/bench.json, reports/bench.md and the PNG plots."""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
from pathlib import Path
from typing import Dict, List, Optional

FINDINGS = Path(__file__).resolve().parent / "findings.md"  # hand-written analysis, embedded in bench.md
NAMES = {"ours": "Our assistant", "default_pipeline": "Rasa default pipeline", "bm25": "BM25 search box",
         "ours_with_fixes": "Our assistant + speed fixes (what-if)"}


def write(results: dict, systems: Dict[str, dict], bm25: dict, out: Path, whatif: Optional[dict] = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results = {**results, "generated": dt.datetime.now().isoformat(timespec="seconds"), "machine": _machine()}
    (out / "bench.json").write_text(json.dumps(_clean(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    work = Path(__file__).resolve().parent.parent / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    for name, rows in [*((n, s["rows"]) for n, s in systems.items()), ("bm25", bm25["rows"])]:
        with (work / f"answers-{name}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    plots = _plots(results, {**systems, **({"ours_with_fixes": whatif} if whatif else {})}, out)
    (out / "bench.md").write_text(markdown(results, plots), encoding="utf-8")


def _clean(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _machine() -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_end": [round(x, 2) for x in load]}


# -- plots -----------------------------------------------------------------------------------------
def _plots(results: dict, systems: Dict[str, dict], out: Path) -> Dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=False)
    for ax, key, title in ((axes[0], "latencies_1_user_ms", "1 user"), (axes[1], "latencies_20_users_ms", "20 concurrent users")):
        for name, color in (("ours", "tab:blue"), ("default_pipeline", "tab:orange"), ("ours_with_fixes", "tab:green")):
            values = sorted((systems.get(name) or {}).get(key) or [])
            if values:
                ax.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=NAMES[name], color=color)
        ax.axvline(50, color="grey", linestyle=":", label="50 ms target" if key.endswith("1_user_ms") else None)
        ax.set_xscale("log")
        ax.set_xlabel("time per turn over REST (ms, log scale)")
        ax.set_ylabel("share of turns (cumulative)")
        ax.set_title(f"Latency per turn, {title}")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "bench_latency.png", dpi=110)
    plt.close(fig)
    files["latency"] = "bench_latency.png"

    points = results["store_build"]["points"]
    fig, ax = plt.subplots(figsize=(6, 4))
    xs, ys = [p["documents"] for p in points], [p["seconds"] for p in points]
    ax.plot(xs, ys, marker="o")
    for x, y in zip(xs, ys):
        ax.annotate(f"{y:.1f} s", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("documents (3 real, the rest generated)")
    ax.set_ylabel("full store build (s, log)")
    ax.set_title("Store build time vs corpus size")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(out / "bench_store_build.png", dpi=110)
    plt.close(fig)
    files["store"] = "bench_store_build.png"

    d = results["detail"]
    groups = [("all held-out", "accuracy"), ("tests/test_nlu.yml", "accuracy_test_nlu"), ("real questions", "accuracy_real"), ("medical only", "accuracy_medical")]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.27
    for i, (name, color) in enumerate((("ours", "tab:blue"), ("default_pipeline", "tab:orange"), ("bm25", "tab:green"))):
        values = [d[name][key] * 100 for _, key in groups]
        bars = ax.bar([j + (i - 1) * width for j in range(len(groups))], values, width, label=NAMES[name], color=color)
        for bar, v in zip(bars, values):
            ax.annotate(f"{v:.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g for g, _ in groups])
    ax.set_ylabel("answer correct (%)")
    ax.set_ylim(0, 105)
    ax.axhline(95, color="grey", linestyle=":")
    ax.legend(fontsize=8)
    ax.set_title("Answer correctness on held-out questions")
    fig.tight_layout()
    fig.savefig(out / "bench_accuracy.png", dpi=110)
    plt.close(fig)
    files["accuracy"] = "bench_accuracy.png"
    return files


# -- markdown --------------------------------------------------------------------------------------
def _pct(v) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def _num(v, unit: str = "", digits: int = 1) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}{unit}"


def markdown(results: dict, plots: Dict[str, str]) -> str:
    s, d, t = results["summary"], results["detail"], results["targets"]
    o, dp, b = d["ours"], d["default_pipeline"], d["bm25"]
    lines: List[str] = [
        "# Benchmark: our assistant vs Rasa's default pipeline vs a BM25 search box",
        "",
        f"Generated by `make bench` on {results['generated']} ({results['machine']['cpus']} CPUs, shared; load average at the end "
        f"{results['machine']['load_avg_at_end']}). Numbers are medians of the runs given in `bench.json`. Per-question answers: "
        "`var/bench/answers-*.jsonl` (not committed).",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    measured = {
        "p95_1_user": f"{_num(s['p95_ms'], ' ms')}",
        "p95_vs_default": f"{_num(s['p95_ms'], ' ms')} vs {_num(s['p95_ms_default_pipeline'], ' ms')} "
                          f"({_num(s['p95_ms'] / s['p95_ms_default_pipeline'], 'x', 2) if s.get('p95_ms_default_pipeline') else '–'})",
        "ready": _num(s["ready_s"], " s"),
        "rss_rasa": _num(s["rss_mb_rasa"], " MB", 0),
        "train": _num(s["train_s"], " s"),
        "accuracy_vs_bm25": f"{_pct(s['accuracy'])} vs {_pct(s['accuracy_bm25'])} "
                            f"({_num(s['accuracy'] / s['accuracy_bm25'], 'x', 1) if s.get('accuracy_bm25') else '∞'})",
        "accuracy_95": _pct(s["accuracy"]),
    }
    if s.get("p95_ms_with_fixes") is not None:
        measured["p95_1_user"] += f" ({_num(s['p95_ms_with_fixes'], ' ms')} with the two fixes, what-if below)"
        if s.get("p95_ms_default_pipeline"):
            measured["p95_vs_default"] += f" ({_num(s['p95_ms_with_fixes'] / s['p95_ms_default_pipeline'], 'x', 2)} with the fixes)"
    for key, target in t.items():
        met = {True: "yes", False: "**no**", None: "–"}[target["met"]]
        lines.append(f"| {target['target']} | {measured[key]} | {met} |")
    lines += ["", "## What we found", ""]
    lines.append(FINDINGS.read_text(encoding="utf-8").strip() if FINDINGS.exists() else "_(bench/findings.md is missing)_")
    lines += [
        "",
        "## Side by side",
        "",
        "| | our assistant | Rasa default pipeline | BM25 search box |",
        "|---|---|---|---|",
        f"| answer correct, all held-out ({s['questions']}) | {_pct(o['accuracy'])} | {_pct(dp['accuracy'])} | {_pct(b['accuracy'])} |",
        f"| — tests/test_nlu.yml ({s['questions'] - s['questions_real']}) | {_pct(o['accuracy_test_nlu'])} | {_pct(dp['accuracy_test_nlu'])} | {_pct(b['accuracy_test_nlu'])} |",
        f"| — real consumer questions ({s['questions_real']}) | {_pct(o['accuracy_real'])} | {_pct(dp['accuracy_real'])} | {_pct(b['accuracy_real'])} |",
        f"| — medical questions only | {_pct(o['accuracy_medical'])} | {_pct(dp['accuracy_medical'])} | {_pct(b['accuracy_medical'])} |",
        f"| — expected facts stated | {_pct(o['accuracy_facts'])} | {_pct(dp['accuracy_facts'])} | {_pct(b['accuracy_facts'])} |",
        f"| — honest \"no information\" | {_pct(o['accuracy_no_info'])} | {_pct(dp['accuracy_no_info'])} | {_pct(b['accuracy_no_info'])} |",
        f"| — out of scope declined | {_pct(o['accuracy_decline'])} | {_pct(dp['accuracy_decline'])} | {_pct(b['accuracy_decline'])} |",
        f"| — diagnosis/dose/medicine refused | {_pct(o['accuracy_restricted'])} | {_pct(dp['accuracy_restricted'])} | {_pct(b['accuracy_restricted'])} |",
        f"| — conversation (greet, help, emergency…) | {_pct(o['accuracy_reply'])} | {_pct(dp['accuracy_reply'])} | {_pct(b['accuracy_reply'])} |",
        f"| intent accuracy | {_pct(o['intent_accuracy'])} | {_pct(dp['intent_accuracy'])} | – |",
        f"| intent macro-F1 | {_num(o['intent_macro_f1'], '', 3)} | {_num(dp['intent_macro_f1'], '', 3)} | – |",
        f"| out-of-scope recall ({o['oos_questions']} questions) | {_pct(o['oos_recall'])} | {_pct(dp['oos_recall'])} | – |",
        f"| out-of-scope precision | {_pct(o['oos_precision'])} | {_pct(dp['oos_precision'])} | – |",
        f"| p50 / p95 / p99 per turn, 1 user | {_num(o['p50_ms'], '', 0)} / {_num(o['p95_ms'], '', 0)} / {_num(o['p99_ms'], ' ms', 0)} | "
        f"{_num(dp['p50_ms'], '', 0)} / {_num(dp['p95_ms'], '', 0)} / {_num(dp['p99_ms'], ' ms', 0)} | p95 {_num(b['p95_query_ms'], ' ms', 2)} per query (in process) |",
        f"| p50 / p95 / p99 per turn, 20 users | {_num(o['p50_ms_20_users'], '', 0)} / {_num(o['p95_ms_20_users'], '', 0)} / {_num(o['p99_ms_20_users'], ' ms', 0)} | "
        f"{_num(dp['p50_ms_20_users'], '', 0)} / {_num(dp['p95_ms_20_users'], '', 0)} / {_num(dp['p99_ms_20_users'], ' ms', 0)} | – |",
        f"| throughput, 1 user / 20 users | {_num(o['throughput_rps_1_user'])} / {_num(o['throughput_rps_20_users'], ' turns/s')} | "
        f"{_num(dp['throughput_rps_1_user'])} / {_num(dp['throughput_rps_20_users'], ' turns/s')} | – |",
        f"| start to first answer | {_num(o['ready_s'], ' s')} | {_num(dp['ready_s'], ' s')} | – |",
        f"| resident memory, Rasa server (peak) | {_num(o['rss_mb_rasa'], ' MB', 0)} ({_num(o['peak_rss_mb_rasa'], ' MB', 0)}) | "
        f"{_num(dp['rss_mb_rasa'], ' MB', 0)} ({_num(dp['peak_rss_mb_rasa'], ' MB', 0)}) | – |",
        f"| resident memory, action server (peak) | {_num(o['rss_mb_actions'], ' MB', 0)} ({_num(o['peak_rss_mb_actions'], ' MB', 0)}) | "
        f"{_num(dp['rss_mb_actions'], ' MB', 0)} ({_num(dp['peak_rss_mb_actions'], ' MB', 0)}) | – |",
        f"| training (fresh cache), wall (CPU) | {_num(o['train_s'], ' s')} ({_num(o.get('train_cpu_s'), ' s')}) | "
        f"{_num(dp['train_s'], ' s')} ({_num(dp.get('train_cpu_s'), ' s')}) | index {_num(b.get('index_build_ms'), ' ms', 0)} |",
        f"| model file | {_num(o['model_mb'], ' MB')} | {_num(dp['model_mb'], ' MB')} | {b['passages']} passages |",
        f"| errors during load tests | {o['errors']} | {dp['errors']} | – |",
        "",
        f"![answer correctness]({plots['accuracy']})",
        "",
        f"![latency distribution]({plots['latency']})",
        "",
        "## How it is measured",
        "",
        "- **Systems.** *Ours*: `config.yml` + `data/`. *Default pipeline*: `bench/default_config.yml`, the pipeline and "
        "policies `rasa init` trains with in Rasa 3.6 (DIET + ResponseSelector, Memoization/Rule/UnexpecTED/TED policies), "
        "same NLU data, rules, domain, actions and store. *BM25*: Okapi BM25 (k1 1.5, b 0.75, stopwords removed; `bench/bm25.py`) "
        "over the store's passages; its \"answer\" is the top 3 passages, and no passage when nothing matches.",
        "- **Held-out questions** (never trained on): every example in `tests/test_nlu.yml`, and the real consumer questions of "
        "`/work/shared/eval/real_questions_dev.jsonl` labelled in `bench/real_questions_labels.jsonl` (intent, condition, pain and "
        "what a correct reply holds; see `bench/README.md` for sources and licences).",
        "- **Answer correct** (`bench/expectations.py`): for a medical question, the quoted passages of the reply (for BM25 the top "
        "passages) contain the facts the documents give for it (phrases such as \"DMARDs\", \"blood tests\", the conditions "
        "the documents name for that pain); where the documents do not answer, the bot says so (BM25: shows nothing); out-of-scope "
        "questions are declined; diagnosis, dose and medicine-change requests are refused; conversational turns get their reply "
        "(the emergency reply must give the number). A search box cannot refuse or greet, so it fails those by design; the "
        "\"medical questions only\" row compares like with like.",
        "- **Intents**: the final intent after the whole NLU pipeline (`/model/parse`); `nlu_fallback` counts as out of scope.",
        f"- **Speed**: REST webhook on 127.0.0.1 with the real action server and the SQLite store (`tests/support/servers.py`). "
        f"1 user: sequential turns; 20 users: 20 threads, each turn timed; conversations of 8 turns, then a new sender "
        f"(so session starts are included); messages cycle through the held-out questions. Load generator on the same 2 CPUs. "
        f"Ready = from launching both servers to the first non-empty answer. RSS from /proc after the load runs.",
        "- **Training**: `rasa train` wall time with an empty `RASA_CACHE_DIRECTORY` under var/bench (nothing reused, the project's "
        "`.rasa/cache` untouched).",
        "",
        "## Accuracy by intent",
        "",
        "| gold intent | n | ours: intent / answer | default: intent / answer | BM25: answer |",
        "|---|---|---|---|---|",
    ]
    pi = results["per_intent"]
    for intent, row in pi["ours"].items():
        dpr, br = pi["default_pipeline"].get(intent, {}), pi["bm25"].get(intent, {})
        lines.append(f"| {intent} | {row['n']} | {_pct(row['intent_accuracy'])} / {_pct(row['answer_accuracy'])} | "
                     f"{_pct(dpr.get('intent_accuracy'))} / {_pct(dpr.get('answer_accuracy'))} | {_pct(br.get('answer_accuracy'))} |")
    lines += ["", "Most frequent intent confusions (gold → predicted):", ""]
    for name in ("ours", "default_pipeline"):
        pairs = ", ".join(f"{c['gold']} → {c['predicted']} ({c['count']})" for c in results["confusions"][name][:8])
        lines.append(f"- {NAMES[name]}: {pairs or 'none'}")
    lines += ["", "## Store build time", "", "| documents | full build (s) | runs |", "|---|---|---|"]
    for p in results["store_build"]["points"]:
        lines.append(f"| {p['documents']} | {p['seconds']:.2f} | {', '.join(f'{r:.2f}' for r in p['runs'])} |")
    lines += [
        "",
        f"First build in a fresh process (spaCy and vocabulary loading included): {results['store_build']['cold_first_build_s']:.2f} s. "
        "Generated documents recombine sentences of the 3 real ones with other condition and body-site names from "
        "`data/vocabulary.yml` (`bench/corpus.py`); each build is a full build into a new SQLite file.",
        "",
        f"![store build time]({plots['store']})",
        "",
    ]
    fx = d.get("ours_with_fixes")
    if fx:
        lines += [
            "## What-if: our assistant with the two recommended speed fixes",
            "",
            "Same model, same data, same replies; the servers start with `bench/whatif/sitecustomize.py` on PYTHONPATH, which "
            "(1) builds the jsonschema validator for action-server responses once instead of re-checking the schema on every "
            "call, and (2) opens SQLite with WAL and synchronous=NORMAL (no fsync per tracker save). One start, same load runs.",
            "",
            "| | our assistant | + fixes |",
            "|---|---|---|",
            f"| p50 / p95 / p99 per turn, 1 user | {_num(o['p50_ms'], '', 0)} / {_num(o['p95_ms'], '', 0)} / {_num(o['p99_ms'], ' ms', 0)} | "
            f"{_num(fx['p50_ms'], '', 0)} / {_num(fx['p95_ms'], '', 0)} / {_num(fx['p99_ms'], ' ms', 0)} |",
            f"| p50 / p95 / p99 per turn, 20 users | {_num(o['p50_ms_20_users'], '', 0)} / {_num(o['p95_ms_20_users'], '', 0)} / {_num(o['p99_ms_20_users'], ' ms', 0)} | "
            f"{_num(fx['p50_ms_20_users'], '', 0)} / {_num(fx['p95_ms_20_users'], '', 0)} / {_num(fx['p99_ms_20_users'], ' ms', 0)} |",
            f"| throughput, 20 users | {_num(o['throughput_rps_20_users'], ' turns/s')} | {_num(fx['throughput_rps_20_users'], ' turns/s')} |",
            f"| p95 vs the default pipeline's | {_num(o['p95_ms'] / dp['p95_ms'], 'x', 2)} | {_num(fx['p95_ms'] / dp['p95_ms'], 'x', 2)} |",
            "",
        ]
    prof = results.get("profile")
    if prof and "rasa" in prof:
        lines += ["## Profile (py-spy at 200 Hz on both servers, our assistant, 1 user)", ""]
        hot = {role: (prof.get(role) or {}).get("hotspots_pct", {}) for role in ("rasa", "actions")}
        lines += ["| where the busy time goes (inclusive) | Rasa server | action server |", "|---|---|---|"]
        for label in hot["rasa"]:
            lines.append(f"| {label} | {hot['rasa'].get(label, 0)}% | {hot['actions'].get(label, 0)}% |")
        lines.append("")
        for role in ("rasa", "actions"):
            p = prof.get(role) or {}
            if "inclusive_pct" not in p:
                lines.append(f"- {role}: {p}")
                continue
            lines += [f"**{role} server**: {p['busy_samples']} busy of {p['samples']} samples; top functions by inclusive share "
                      "of busy time (below the request-handling frames):", ""]
            lines += [f"- {x['pct']}% `{x['function']}`" for x in [x for x in p["inclusive_pct"] if x["pct"] < 60][:14]]
            lines.append("")
    sp = results.get("startup_profile")
    if sp and "inclusive_pct" in sp:
        lines += ["## Profile of the startup (py-spy at 100 Hz, Rasa server, launch to first answer)", "",
                  f"Ready while profiled: {_num(sp.get('ready_s_while_profiled'), ' s')}. Server log: "
                  + "; ".join(f"`{x}`" for x in sp.get("log", [])), "",
                  f"{sp['busy_samples']} busy samples; top functions by inclusive share (below the model-loading frames):", ""]
        lines += [f"- {x['pct']}% `{x['function']}`" for x in [x for x in sp["inclusive_pct"] if x["pct"] < 78.5][:16]]
        lines.append("")
    return "\n".join(lines) + "\n"
