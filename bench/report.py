"""reports/bench.json, reports/bench.md and the PNG plots. The analysis lives here, written from the numbers
of the run ("What we found"), so the report never disagrees with its own tables."""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench import metrics, pipelines

NAMES = {"ours": "Our assistant (config.yml)", "default_pipeline": "Rasa default pipeline", "bm25": "BM25 search box",
         "diet": "DIET, 1 x 128, 100 epochs", "diet_small": "DIET, 1 x 64, 50 epochs",
         "logreg": "Logistic regression + lookup-table entities"}
COLORS = {"ours": "tab:blue", "default_pipeline": "tab:orange", "bm25": "tab:green", "diet": "tab:purple",
          "diet_small": "tab:red", "logreg": "tab:brown"}


def name_of(system: str) -> str:
    return NAMES.get(system, system)


def write(results: dict, raw: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results = {**results, "generated": dt.datetime.now().isoformat(timespec="seconds"), "machine": _machine(raw)}
    if raw.get("new_documents"):
        results["new_documents"] = {k: v for k, v in raw["new_documents"].items() if not k.startswith("rows_")}
        results["new_documents"]["failures"] = new_document_failures(raw["new_documents"])
    (out / "bench.json").write_text(json.dumps(_clean(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    work = Path(__file__).resolve().parent.parent / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    every = [*((n, s["rows"] + s.get("multi_rows", [])) for n, s in raw["systems"].items()), ("bm25", raw["bm25"]["rows"])]
    for name, rows in every:
        with (work / f"answers-{name}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    plots = _plots(results, raw["systems"], out)
    (out / "bench.md").write_text(markdown(results, plots), encoding="utf-8")


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _machine(raw: dict) -> dict:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_end": raw.get("load_average_at_end", load)}


# -- plots -----------------------------------------------------------------------------------------
def _plots(results: dict, systems: Dict[str, dict], out: Path) -> Dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in ((axes[0], "latencies_1_user_ms", "1 user"), (axes[1], "latencies_20_users_ms", "20 concurrent users")):
        for name, system in systems.items():
            values = sorted(system.get(key) or [])
            if values:
                ax.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=name_of(name), color=COLORS.get(name))
        ax.axvline(50, color="grey", linestyle=":", label="50 ms target" if key.endswith("1_user_ms") else None)
        ax.set_xscale("log")
        ax.set_xlabel("time per turn over REST (ms, log scale)")
        ax.set_ylabel("share of turns (cumulative)")
        ax.set_title(f"Latency per turn, {title}")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=7)
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
    groups = [(metrics.SOURCES[s].split(" (")[0].split(":")[0], f"accuracy_{s}") for s in metrics.SOURCES] + [("several questions", "accuracy_multi")]
    shown = [n for n in ("ours", "default_pipeline", "bm25") if n in d]
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(shown)
    for i, name in enumerate(shown):
        values = [_pct_value(d[name].get(key)) for _, key in groups]
        xs = [j + (i - (len(shown) - 1) / 2) * width for j in range(len(groups))]
        bars = ax.bar(xs, [v or 0 for v in values], width, label=name_of(name), color=COLORS.get(name))
        for bar, v in zip(bars, values):
            ax.annotate("–" if v is None else f"{v:.0f}", (bar.get_x() + bar.get_width() / 2, v or 0), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g for g, _ in groups], fontsize=8)
    ax.set_ylabel("answer correct (%)")
    ax.set_ylim(0, 108)
    ax.legend(fontsize=8)
    ax.set_title("Answer correctness per held-out set")
    fig.tight_layout()
    fig.savefig(out / "bench_accuracy.png", dpi=110)
    plt.close(fig)
    files["accuracy"] = "bench_accuracy.png"

    candidates = _pipeline_order(results)
    if len(candidates) > 1:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        acc = [("test_nlu", "accuracy_test_nlu"), ("real-style", "accuracy_real_style"), ("real questions", "accuracy_real"),
               ("other subjects declined", "decline_oos_medical")]
        width = 0.8 / len(candidates)
        for i, name in enumerate(candidates):
            values = [_pct_value(d[name].get(key)) or 0 for _, key in acc]
            xs = [j + (i - (len(candidates) - 1) / 2) * width for j in range(len(acc))]
            bars = axes[0].bar(xs, values, width, label=name_of(name), color=COLORS.get(name))
            for bar, v in zip(bars, values):
                axes[0].annotate(f"{v:.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
        axes[0].set_xticks(range(len(acc)))
        axes[0].set_xticklabels([a for a, _ in acc], fontsize=8)
        axes[0].set_ylim(0, 108)
        axes[0].set_ylabel("answer correct (%)")
        axes[0].set_title("Accuracy (must not drop by more than 1 point)")
        axes[0].legend(fontsize=7, loc="lower left")
        costs = [("ready (s)", "ready_s", 10), ("training (s / 10)", "train_s", 30), ("Rasa RSS (MB / 100)", "rss_mb_rasa", 800),
                 ("p95 1 user (ms / 10)", "p95_ms", None)]
        scale = {"ready_s": 1, "train_s": 10, "rss_mb_rasa": 100, "p95_ms": 10}
        for i, name in enumerate(candidates):
            values = [(d[name].get(key) or 0) / scale[key] for _, key, _ in costs]
            xs = [j + (i - (len(candidates) - 1) / 2) * width for j in range(len(costs))]
            bars = axes[1].bar(xs, values, width, label=name_of(name), color=COLORS.get(name))
            for bar, (_, key, _), v in zip(bars, costs, values):
                axes[1].annotate(f"{v * scale[key]:.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
        for j, (_, key, limit) in enumerate(costs):
            if limit:
                axes[1].hlines(limit / scale[key], j - 0.45, j + 0.45, colors="grey", linestyles=":")
        axes[1].set_xticks(range(len(costs)))
        axes[1].set_xticklabels([c for c, _, _ in costs], fontsize=8)
        axes[1].set_title("Cost (dotted: issue 15's targets)")
        fig.suptitle("NLU pipelines on the same data, same run (issue 15)")
        fig.tight_layout()
        fig.savefig(out / "bench_pipelines.png", dpi=110)
        plt.close(fig)
        files["pipelines"] = "bench_pipelines.png"
    return files


def _pct_value(v: Any) -> Optional[float]:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else 100 * v


def _pipeline_order(results: dict) -> List[str]:
    d = results["detail"]
    return [n for n in ("ours", *pipelines.CANDIDATES, "default_pipeline") if n in d]


# -- markdown --------------------------------------------------------------------------------------
def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def _num(v: Any, unit: str = "", digits: int = 1) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.{digits}f}{unit}"


def _points(a: Any, b: Any) -> str:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return "–"
    return f"{100 * (a - b):+.1f}"


def _measured(key: str, s: dict) -> str:
    default_p95 = s.get("p95_ms_default_pipeline")
    bm25 = s.get("accuracy_searchable_bm25")
    return {
        "accuracy_real": _pct(s.get("accuracy_real")),
        "accuracy_test_nlu": _pct(s.get("accuracy_test_nlu")),
        "decline_oos_medical": f"{_pct(s.get('decline_oos_medical'))} (naming the subject: {_pct(s.get('names_oos_medical'))})",
        "lexicon_ms": f"p95 {_num(s.get('lexicon_p95_ms'), ' ms', 2)}, mean {_num(s.get('lexicon_mean_ms'), ' ms', 2)}",
        "emergencies_caught": _pct(s.get("safety_emergency_sensitivity")),
        "false_alarms": _pct(s.get("safety_false_alarm_rate")),
        "hostile_ms": _num(s.get("safety_hostile_max_ms"), " ms"),
        "p95_1_user": _num(s.get("p95_ms"), " ms"),
        "p95_vs_default": f"{_num(s.get('p95_ms'), ' ms')} vs {_num(default_p95, ' ms')}"
                          + (f" ({s['p95_ms'] / default_p95:.2f}x)" if default_p95 else ""),
        "ready": _num(s.get("ready_s"), " s"),
        "rss_rasa": _num(s.get("rss_mb_rasa"), " MB", 0),
        "train": _num(s.get("train_s"), " s"),
        "accuracy_vs_bm25": f"{_pct(s.get('accuracy_searchable'))} vs {_pct(bm25)}"
                            + (f" ({s['accuracy_searchable'] / bm25:.1f}x)" if bm25 else ""),
        "accuracy_95": _pct(s.get("accuracy")),
        "report_speed": f"{_num(s.get('report_speed_report_s'), ' s')} in process, {_num(s.get('report_speed_cli_s'), ' s')} as "
                        f"`python -m bot report` ({s.get('report_speed_conversations', '–')} conversations)",
    }.get(key, "–")


def markdown(results: dict, plots: Dict[str, str]) -> str:
    s, t = results["summary"], results["targets"]
    machine = results["machine"]
    lines: List[str] = [
        "# Benchmark: our assistant, lighter NLU pipelines, Rasa's default pipeline and a BM25 search box",
        "",
        f"Generated by `make bench` on {results['generated']} ({machine['cpus']} CPUs, shared with other work; load average "
        f"at the end {machine['load_avg_at_end']}). Numbers are medians of the runs in `bench.json`; per-question replies are in "
        "`var/bench/answers-*.jsonl` (not committed). How each number is measured: the last section.",
        "",
        *([f"> {results['note']}", ""] if results.get("note") else []),
        "## Targets",
        "",
        "| target | issue | measured | met |",
        "|---|---|---|---|",
    ]
    for key, target in t.items():
        met = {True: "yes", False: "**no**", None: "–"}[target["met"]]
        lines.append(f"| {target['target']} | {target['issue']} | {_measured(key, s)} | {met} |")
    lines += ["", "## What we found", ""]
    lines += findings(results)
    lines += pipeline_section(results, plots)
    lines += side_by_side(results, plots)
    lines += scope_section(results)
    lines += real_messages_section(results)
    lines += safety_section(results.get("safety"))
    lines += report_speed_section(results.get("report_speed"))
    lines += how_measured(results)
    lines += store_section(results, plots)
    lines += new_documents_section(results.get("new_documents"))
    lines += profile_sections(results)
    return "\n".join(lines) + "\n"


def findings(results: dict) -> List[str]:
    """The analysis, from this run's numbers."""
    s, d = results["summary"], results["detail"]
    o = d["ours"]
    out: List[str] = []
    choice = results.get("pipeline_choice")
    if choice:
        ref, chosen = choice["reference"], choice["chosen"]
        r = d[ref]
        lighter = [n for n in choice["pipelines"] if n != ref]
        held = choice["lighter_hold_accuracy"]
        if not lighter:
            verdict = "**NLU pipeline: no lighter pipeline was measured in this run** (BENCH_SYSTEMS)"
        elif chosen == ref:
            verdict = (f"**NLU pipeline: keep DIET.** No lighter pipeline holds accuracy within "
                       f"{100 * pipelines.ACCURACY_SLACK:.0f} point of DIET's" if not held else
                       f"**NLU pipeline: keep DIET.** {', '.join(name_of(n) for n in held)} held accuracy but met no more of issue 15's speed targets")
        else:
            verdict = (f"**NLU pipeline: {name_of(chosen)}.** It holds accuracy within {100 * pipelines.ACCURACY_SLACK:.0f} point "
                       f"of DIET's and meets more of issue 15's targets in their order")
        parts = []
        for n in lighter:
            drops = choice["pipelines"][n]["accuracy_drop"]
            parts.append(f"{name_of(n)}: real questions {_pct(d[n].get('accuracy_real'))} ({_points(d[n].get('accuracy_real'), r.get('accuracy_real'))} points), "
                         f"other subjects declined {_pct(d[n].get('decline_oos_medical'))} ({_points(d[n].get('decline_oos_medical'), r.get('decline_oos_medical'))}), "
                         f"test_nlu {_pct(d[n].get('accuracy_test_nlu'))} ({_points(d[n].get('accuracy_test_nlu'), r.get('accuracy_test_nlu'))}); "
                         f"ready {_num(d[n].get('ready_s'), ' s')} ({_num(d[n].get('ready_cpu_s'), ' s')} CPU), Rasa {_num(d[n].get('rss_mb_rasa'), ' MB', 0)}, "
                         f"training {_num(d[n].get('train_s'), ' s')}" + ("" if all(v <= pipelines.ACCURACY_SLACK for v in drops.values()) else " — accuracy not held"))
        out.append(f"{verdict}. DIET ({name_of(ref)}): real questions {_pct(r.get('accuracy_real'))}, other subjects declined "
                   f"{_pct(r.get('decline_oos_medical'))}, test_nlu {_pct(r.get('accuracy_test_nlu'))}; ready {_num(r.get('ready_s'), ' s')} "
                   f"({_num(r.get('ready_cpu_s'), ' s')} CPU), "
                   f"Rasa {_num(r.get('rss_mb_rasa'), ' MB', 0)}, training {_num(r.get('train_s'), ' s')}" + ("; " + "; ".join(parts) if parts else "") + ".")
        out.append("")
    dp = d.get("default_pipeline")
    if dp:
        out.append(f"**Training, same conditions.** Every model was trained in this run, one after the other, each with an empty "
                   f"Rasa cache, never beside another training: ours {_num(o['train_s'], ' s')} wall ({_num(o.get('train_cpu_s'), ' s')} CPU, "
                   f"load average {_num(o.get('train_load_before'), '', 1)} → {_num(o.get('train_load_after'), '', 1)}), the default pipeline "
                   f"{_num(dp['train_s'], ' s')} ({_num(dp.get('train_cpu_s'), ' s')} CPU, load {_num(dp.get('train_load_before'), '', 1)} → "
                   f"{_num(dp.get('train_load_after'), '', 1)}): "
                   + (f"{dp['train_s'] / o['train_s']:.1f}x." if o.get("train_s") else "–."))
        out.append("")
    out.append(f"**Accuracy.** {_pct(o['accuracy'])} of {s['questions']} single held-out questions answered correctly "
               f"(default pipeline {_pct(dp['accuracy']) if dp else '–'}): tests/test_nlu.yml {_pct(o['accuracy_test_nlu'])}, real questions "
               f"{_pct(o['accuracy_real'])}, real-style {_pct(o['accuracy_real_style'])}, term questions {_pct(o['accuracy_term'])}, "
               f"in-scope answered {_pct(o['answered_in_scope'])}, other medical subjects declined {_pct(o['decline_oos_medical'])}; "
               f"messages with several questions {_pct(o['accuracy_multi'])} (every part, in order). On the questions a search box can "
               f"attempt, {_pct(o['accuracy_searchable'])} vs BM25's {_pct(d['bm25']['accuracy_searchable'])}.")
    worst = sorted(((src, v) for src, v in results["per_source"]["ours"].items()), key=lambda x: -x[1]["errors"])[:3]
    if worst:
        out.append("Most errors by set: " + ", ".join(f"{metrics.SOURCES.get(src, src)} {v['errors']} of {v['n']}" for src, v in worst) + ".")
    conf = results["confusions"].get("ours") or []
    if conf:
        out.append("Most frequent intent confusions: " + ", ".join(f"{c['gold']} → {c['predicted']} ({c['count']})" for c in conf[:5]) + ".")
    out.append("")
    out.append(f"**Speed and memory (ours).** p50 / p95 per turn {_num(o['p50_ms'], '', 0)} / {_num(o['p95_ms'], ' ms', 0)} with 1 user "
               f"({_num(o['throughput_rps_20_users'], ' turns/s')} and p95 {_num(o['p95_ms_20_users'], ' ms', 0)} with 20 users); "
               f"ready {_num(o['ready_s'], ' s')}; Rasa server {_num(o['rss_mb_rasa'], ' MB', 0)}, action server {_num(o['rss_mb_actions'], ' MB', 0)}. "
               f"The medical lexicon costs {_num(s.get('lexicon_mean_ms'), ' ms', 2)} per message (p95 {_num(s.get('lexicon_p95_ms'), ' ms', 2)}) "
               f"and {_num(s.get('lexicon_rss_mb'), ' MB', 0)}; the safety screen {_num(s.get('safety_mean_ms'), ' ms', 2)} (CPU) per message.")
    for name, sp in (results.get("startup_profile") or {}).items():
        hot = {k.strip(): v for k, v in (sp.get("hotspots_pct") or {}).items() if v}
        if hot:
            out.append(f"Start-up of {name_of(name)} (py-spy, share of the Rasa server's busy samples): "
                       + "; ".join(f"{label} {pct}%" for label, pct in hot.items()) + ".")
    out.append("")
    return out


def pipeline_section(results: dict, plots: Dict[str, str]) -> List[str]:
    d = results["detail"]
    names = _pipeline_order(results)
    if len(names) < 2:
        return []
    choice = results.get("pipeline_choice") or {}
    lines = ["## Choosing the NLU pipeline (issue 15)", "",
             "Same data, same run, same servers; only the intent classifier (and its fallback threshold) differs between our "
             "pipelines (`bench/pipelines.py`); Rasa's default pipeline is shown for reference. Rule: accuracy on real questions, "
             "other subjects declined and tests/test_nlu.yml not lower than DIET's by more than 1 point; then ready ≤ 10 s, "
             "Rasa RSS ≤ 800 MB, training ≤ 30 s, in that order.", "",
             "| pipeline | test_nlu | real-style | real questions | other subjects declined | several questions | intent acc. | p95 1 user | ready, wall (CPU) | Rasa RSS (ready / after load) | training, fresh cache (CPU) | model | holds accuracy |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        x = d[n]
        holds = (choice.get("pipelines") or {}).get(n, {}).get("holds_accuracy")
        mark = " **(chosen)**" if choice.get("chosen") == n else ""
        lines.append(f"| {name_of(n)}{mark} | {_pct(x['accuracy_test_nlu'])} | {_pct(x['accuracy_real_style'])} | {_pct(x['accuracy_real'])} | "
                     f"{_pct(x['decline_oos_medical'])} | {_pct(x['accuracy_multi'])} | {_pct(x['intent_accuracy'])} | {_num(x['p95_ms'], ' ms', 0)} | "
                     f"{_num(x['ready_s'], ' s')} ({_num(x.get('ready_cpu_s'), ' s')}) | {_num(x.get('rss_mb_rasa_ready'), '', 0)} / {_num(x['rss_mb_rasa'], ' MB', 0)} | "
                     f"{_num(x['train_s'], ' s')} ({_num(x.get('train_cpu_s'), ' s')}) | {_num(x['model_mb'], ' MB')} | "
                     f"{'–' if holds is None else ('yes' if holds else 'no')} |")
    lines += [""]
    if plots.get("pipelines"):
        lines += [f"![NLU pipelines]({plots['pipelines']})", ""]
    training = results.get("training") or {}
    lines.append("Training conditions: " + "; ".join(
        f"{name_of(n)} {_num(d[n]['train_s'], ' s')} (load average {_num(d[n].get('train_load_before'))} → {_num(d[n].get('train_load_after'))}"
        + (f", waited {sum(training[n].get('waited_s', []))} s for another training" if sum(training.get(n, {}).get('waited_s', []) or [0]) else "")
        + ")" for n in names) + ".")
    lines.append("")
    return lines


def side_by_side(results: dict, plots: Dict[str, str]) -> List[str]:
    s, d = results["summary"], results["detail"]
    o, dp, b = d["ours"], d.get("default_pipeline", {}), d["bm25"]
    g = lambda x, k: x.get(k)  # noqa: E731
    lines = ["## Side by side: ours, Rasa's default pipeline, BM25", "",
             "| | our assistant | Rasa default pipeline | BM25 search box |", "|---|---|---|---|",
             f"| answer correct, all single held-out ({s['questions']}) | {_pct(o['accuracy'])} | {_pct(g(dp, 'accuracy'))} | – |"]
    for source, label in metrics.SOURCES.items():
        bm = "–" if source in metrics.NOT_FOR_SEARCH else _pct(b.get(f"accuracy_{source}"))
        lines.append(f"| — {label} ({s.get(f'questions_{source}', 0)}) | {_pct(o[f'accuracy_{source}'])} | {_pct(g(dp, f'accuracy_{source}'))} | {bm} |")
    lines += [
        f"| — of those declined, naming the subject | {_pct(o['names_oos_medical'])} | {_pct(g(dp, 'names_oos_medical'))} | – |",
        f"| several questions in one message ({s.get('questions_multi', 0)}): every part, in order | {_pct(o['accuracy_multi'])} | {_pct(g(dp, 'accuracy_multi'))} | – |",
        f"| questions a search box can attempt | {_pct(o['accuracy_searchable'])} | {_pct(g(dp, 'accuracy_searchable'))} | {_pct(b['accuracy_searchable'])} |",
        f"| — medical questions only | {_pct(o['accuracy_medical'])} | {_pct(g(dp, 'accuracy_medical'))} | {_pct(b['accuracy_medical'])} |",
        f"| — expected facts stated | {_pct(o['accuracy_facts'])} | {_pct(g(dp, 'accuracy_facts'))} | {_pct(b['accuracy_facts'])} |",
        f"| — honest \"no information\" | {_pct(o['accuracy_no_info'])} | {_pct(g(dp, 'accuracy_no_info'))} | {_pct(b['accuracy_no_info'])} |",
        f"| — out of scope declined | {_pct(o['accuracy_decline'])} | {_pct(g(dp, 'accuracy_decline'))} | {_pct(b['accuracy_decline'])} |",
        f"| — diagnosis/dose/medicine refused | {_pct(o['accuracy_restricted'])} | {_pct(g(dp, 'accuracy_restricted'))} | {_pct(b['accuracy_restricted'])} |",
        f"| — conversation (greet, help, emergency…) | {_pct(o['accuracy_reply'])} | {_pct(g(dp, 'accuracy_reply'))} | {_pct(b['accuracy_reply'])} |",
        f"| intent accuracy / macro-F1 (labelled sets) | {_pct(o['intent_accuracy'])} / {_num(o['intent_macro_f1'], '', 3)} | "
        f"{_pct(g(dp, 'intent_accuracy'))} / {_num(g(dp, 'intent_macro_f1'), '', 3)} | – |",
        f"| out-of-scope intent recall / precision ({o['oos_questions']}) | {_pct(o['oos_recall'])} / {_pct(o['oos_precision'])} | "
        f"{_pct(g(dp, 'oos_recall'))} / {_pct(g(dp, 'oos_precision'))} | – |",
        f"| p50 / p95 / p99 per turn, 1 user | {_num(o['p50_ms'], '', 0)} / {_num(o['p95_ms'], '', 0)} / {_num(o['p99_ms'], ' ms', 0)} | "
        f"{_num(g(dp, 'p50_ms'), '', 0)} / {_num(g(dp, 'p95_ms'), '', 0)} / {_num(g(dp, 'p99_ms'), ' ms', 0)} | p95 {_num(b['p95_query_ms'], ' ms', 2)} per query (in process) |",
        f"| p50 / p95 / p99 per turn, 20 users | {_num(o['p50_ms_20_users'], '', 0)} / {_num(o['p95_ms_20_users'], '', 0)} / {_num(o['p99_ms_20_users'], ' ms', 0)} | "
        f"{_num(g(dp, 'p50_ms_20_users'), '', 0)} / {_num(g(dp, 'p95_ms_20_users'), '', 0)} / {_num(g(dp, 'p99_ms_20_users'), ' ms', 0)} | – |",
        f"| throughput, 1 user / 20 users | {_num(o['throughput_rps_1_user'])} / {_num(o['throughput_rps_20_users'], ' turns/s')} | "
        f"{_num(g(dp, 'throughput_rps_1_user'))} / {_num(g(dp, 'throughput_rps_20_users'), ' turns/s')} | – |",
        f"| launch to first answer, wall (Rasa server CPU) | {_num(o['ready_s'], ' s')} ({_num(o.get('ready_cpu_s'), ' s')}) | "
        f"{_num(g(dp, 'ready_s'), ' s')} ({_num(g(dp, 'ready_cpu_s'), ' s')}) | – |",
        f"| resident memory, Rasa server (peak) | {_num(o['rss_mb_rasa'], ' MB', 0)} ({_num(o['peak_rss_mb_rasa'], ' MB', 0)}) | "
        f"{_num(g(dp, 'rss_mb_rasa'), ' MB', 0)} ({_num(g(dp, 'peak_rss_mb_rasa'), ' MB', 0)}) | – |",
        f"| resident memory, action server (peak) | {_num(o['rss_mb_actions'], ' MB', 0)} ({_num(o['peak_rss_mb_actions'], ' MB', 0)}) | "
        f"{_num(g(dp, 'rss_mb_actions'), ' MB', 0)} ({_num(g(dp, 'peak_rss_mb_actions'), ' MB', 0)}) | – |",
        f"| training (fresh cache), wall (CPU) | {_num(o['train_s'], ' s')} ({_num(o.get('train_cpu_s'), ' s')}) | "
        f"{_num(g(dp, 'train_s'), ' s')} ({_num(g(dp, 'train_cpu_s'), ' s')}) | index {_num(b.get('index_build_ms'), ' ms', 0)} |",
        f"| model file | {_num(o['model_mb'], ' MB')} | {_num(g(dp, 'model_mb'), ' MB')} | {b['passages']} passages |",
        f"| errors during load tests | {o['errors']} | {g(dp, 'errors') if dp else '–'} | – |",
        "",
        f"![answer correctness]({plots['accuracy']})",
        "",
        f"![latency distribution]({plots['latency']})",
        "",
    ]
    return lines


def scope_section(results: dict) -> List[str]:
    d, lex = results["detail"], results.get("lexicon") or {}
    o = d["ours"]
    lines = ["## Knowing what it doesn't know (issue 10)", "",
             f"Other medical subjects declined: {_pct(o['decline_oos_medical'])} (the decline names the subject: {_pct(o['names_oos_medical'])}); "
             f"in-scope questions answered, not declined: {_pct(o['answered_in_scope'])}. A decline counts only when the reply quotes "
             "no passage (no autoimmune facts passed off as the answer).", "",
             "| subject kind | " + " | ".join(name_of(n) for n in results["oos_by_subject_kind"]) + " |",
             "|---|" + "---|" * len(results["oos_by_subject_kind"])]
    kinds = sorted({k for v in results["oos_by_subject_kind"].values() for k in v})
    for kind in kinds:
        cells = []
        for n, by_kind in results["oos_by_subject_kind"].items():
            v = by_kind.get(kind)
            cells.append(f"{v['correct']}/{v['n']} ({_pct(v['accuracy'])})" if v else "–")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += ["", f"The lexicon (`bot/lexicon.py`), measured in a fresh process set up like the action server: {lex.get('spellings', '–')} "
              f"spellings, built in {_num(lex.get('build_s'), ' s', 2)} from its cache, {_num(lex.get('rss_mb_lexicon'), ' MB', 0)} of memory "
              f"(process {_num(lex.get('rss_mb_before'), '', 0)} → {_num(lex.get('rss_mb_after'), ' MB', 0)}); per message mean "
              f"{_num(lex.get('mean_ms'), ' ms', 3)}, p50 {_num(lex.get('p50_ms'), ' ms', 3)}, p95 {_num(lex.get('p95_ms'), ' ms', 3)}, "
              f"slowest {_num(lex.get('max_ms'), ' ms', 2)} over {lex.get('messages', '–')} messages x {lex.get('repeats', '–')}.", ""]
    if lex.get("error"):
        lines += [f"Lexicon measurement failed: `{lex['error'][-300:]}`", ""]
    return lines


def real_messages_section(results: dict) -> List[str]:
    d = results["detail"]
    o = d["ours"]
    lines = ["## Real messages: several questions, terms, per-category errors (issue 11)", "",
             f"Several questions in one message: {_pct(o['accuracy_multi'])} of {o['multi_questions']} answered in full, in order "
             f"(with a red flag: the emergency advice alone, {_pct(o['accuracy_multi_emergency'])}). Term questions: {_pct(o['accuracy_term'])}.", "",
             "### Errors per set", "", "| set | " + " | ".join(name_of(n) for n in results["per_source"]) + " |",
             "|---|" + "---|" * len(results["per_source"])]
    for source, label in metrics.SOURCES.items():
        cells = []
        for n, by_source in results["per_source"].items():
            v = by_source.get(source)
            cells.append(f"{v['errors']} of {v['n']}" if v else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "### Accuracy by intent (labelled sets)", "", "| gold intent | n | ours: intent / answer | default: intent / answer | BM25: answer |",
              "|---|---|---|---|---|"]
    pi = results["per_intent"]
    for intent, row in pi["ours"].items():
        dpr, br = pi.get("default_pipeline", {}).get(intent, {}), pi["bm25"].get(intent, {})
        lines.append(f"| {intent} | {row['n']} | {_pct(row['intent_accuracy'])} / {_pct(row['answer_accuracy'])} | "
                     f"{_pct(dpr.get('intent_accuracy'))} / {_pct(dpr.get('answer_accuracy'))} | {_pct(br.get('answer_accuracy'))} |")
    lines += ["", "By what a correct reply holds: " + ", ".join(
        f"{kind} {v['errors']} errors of {v['n']}" for kind, v in results["per_kind"]["ours"].items()) + ".", "",
        "Most frequent intent confusions (gold → predicted):", ""]
    for name, pairs in results["confusions"].items():
        text = ", ".join(f"{c['gold']} → {c['predicted']} ({c['count']})" for c in pairs[:8])
        lines.append(f"- {name_of(name)}: {text or 'none'}")
    fails = (results.get("failures") or {}).get("ours") or {}
    if fails:
        lines += ["", "Some of our wrong answers (first paragraph of the reply):", ""]
        for source, rows in fails.items():
            for r in rows[:3]:
                lines.append(f"- *{source}* “{_md(r['text'])}” (gold {r['gold'] or '–'}, NLU {r['predicted']}) → {_md(r['reply'])}")
    multi = results.get("multi_failures") or []
    if multi:
        lines += ["", "Messages with several questions we got wrong:", ""]
        lines += [f"- “{_md(r['text'])}” ({', '.join(r['parts'])}) → {_md(r['reply'][:160])}" for r in multi[:5]]
    lines.append("")
    return lines


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _cost_line(name: str, cost: Dict[str, Any]) -> str:
    parts = []
    for clock in ("cpu", "wall"):
        if clock in cost:
            c = cost[clock]
            parts.append(f"{clock} mean {_num(c.get('mean_ms'), ' ms', 2)}, p95 {_num(c.get('p95_ms'), ' ms', 2)}, slowest {_num(c.get('max_ms'), ' ms', 2)}")
    if not parts:
        parts.append(f"mean {_num(cost.get('mean_ms'), ' ms', 2)}, p95 {_num(cost.get('p95_ms'), ' ms', 2)}, slowest {_num(cost.get('max_ms'), ' ms', 2)}")
    count = cost.get("messages") or next((cost[c].get("messages") for c in ("cpu", "wall") if c in cost), "–")
    return f"- {name} ({count} messages): " + "; ".join(parts)


def safety_section(safety: Optional[Dict[str, Any]]) -> List[str]:
    if not safety:
        return []
    table, alarms = safety["table"], safety["false_alarms"]
    lines = ["## The safety screen (issue 18)", "",
             "Sensitivity on the table of real-style messages (`tests/bot/safety_cases.yml`: the tier and the category must both be right):", "",
             "| tier / category | caught | right category | sensitivity |", "|---|---|---|---|"]
    for tier in ("emergency", "urgent"):
        tt = table[tier]
        lines.append(f"| **{tier}** (all) | {tt['caught']}/{tt['rows']} | – | **{_pct(tt['sensitivity'])}** |")
        for category, c in tt["categories"].items():
            lines.append(f"| {tier} / {category} | {c['caught']}/{c['rows']} | {c.get('right_category', '–')} | {_pct(c['sensitivity'])} |")
    quiet = table["none"]
    lines += ["", f"Messages that must not fire: {quiet['rows']}, {quiet['false_emergency']} false emergencies and {quiet['false_urgent']} false "
              f"\"urgent\" (specificity {_pct(quiet['specificity'])}). Missed or misfiled rows: {len(table.get('misses', []))}.", "",
              f"False alarms on the in-scope held-out questions ({alarms['in_scope']}: {alarms['by_source']}): {alarms['emergency_alarms']} "
              f"emergency ({_pct(alarms['emergency_alarm_rate'])}), {alarms['urgent_alarms']} urgent ({_pct(alarms['urgent_alarm_rate'])}); "
              f"the NLU's own emergency examples caught: {alarms['nlu_emergency_caught']}/{alarms['nlu_emergency_examples']}."]
    for f in alarms.get("fired", [])[:8]:
        lines.append(f"- fired on ({f['source']}, {f['intent']}) emergency={f['emergency']} urgent={f['urgent']}: “{_md(f['text'])}”")
    dev = safety.get("dev_set")
    if dev:
        lines += ["", f"Development set of real questions: {dev['emergency']} emergency and {dev['urgent']} urgent findings of {dev['questions']} "
                  "(listed by `python -m bench.safety`, for a person to check)."]
    lines += ["", "Cost per message (`screen()` + `urgent()`, as the NLU component calls them):", ""]
    for name, cost in safety["cost"].items():
        if isinstance(cost, dict):
            lines.append(_cost_line(name, cost))
    lines.append("")
    return lines


def report_speed_section(speed: Optional[Dict[str, Any]]) -> List[str]:
    if speed is None:
        return []
    lines = ["## The staff report's speed (bench/report_speed.py)", ""]
    if "error" in speed:
        return lines + [f"Failed: `{_md(speed['error'])}`", ""]
    lines += ["| measure | value |", "|---|---|"]
    for key, value in _flatten(speed):
        lines.append(f"| {key} | {_md(_num(value, '', 3) if isinstance(value, float) else value)} |")
    return lines + [""]


def _flatten(value: Any, prefix: str = "") -> List[Any]:
    if isinstance(value, dict):
        out: List[Any] = []
        for k, v in value.items():
            out += _flatten(v, f"{prefix}{k}" if not prefix else f"{prefix} / {k}")
        return out
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value[:10]))]
    return [(prefix, value)]


def how_measured(results: dict) -> List[str]:
    s = results["summary"]
    return [
        "## How it is measured",
        "",
        "- **Systems.** *Ours*: `config.yml` + `data/`. *Lighter pipelines* (issue 15): `config.yml` with only the intent classifier "
        "swapped (`bench/pipelines.py`). *Default pipeline*: `bench/default_config.yml`, the pipeline and policies `rasa init` trains "
        "with in Rasa 3.6, same NLU data, rules, domain, actions and store. *BM25*: Okapi BM25 (k1 1.5, b 0.75, stopwords removed; "
        "`bench/bm25.py`) over the store's passages; its \"answer\" is the top 3 passages, and no passage when nothing matches.",
        f"- **Held-out questions** (never trained on: `tests/test_heldout_sets.py`): `tests/test_nlu.yml` ({s.get('questions_test_nlu')}), "
        f"the real consumer questions labelled in `bench/real_questions_labels.jsonl` ({s.get('questions_real')}), and the sets in `bench/`: "
        f"real-style ({s.get('questions_real_style')}), terms ({s.get('questions_term')}), in scope ({s.get('questions_in_scope')}), "
        f"other medical subjects from MedQuAD and K-QA ({s.get('questions_oos_medical')}), several questions in one message "
        f"({s.get('questions_multi')}). `bench/README.md` gives sources and licences.",
        "- **Answer correct** (`bench/expectations.py`): for a medical question, the quoted passages of the reply (list lines and "
        "“curly-quoted” text; for BM25 the top passages) contain the facts the documents give for it; where the documents do not answer, the "
        "bot says so (BM25: shows nothing); out-of-scope questions are declined; diagnosis, dose and medicine-change requests are refused; "
        "conversational turns get their reply. In-scope questions must be answered with a quote and not declined; a question on another "
        "medical subject must be declined with no passage quoted. A message with several questions is right when each part's expectation "
        "holds in the reply at or after where the previous part's did (in the order asked); with a red flag in it, the reply must be the "
        "emergency advice alone.",
        "- **Intents**: the final intent after the whole NLU pipeline (`/model/parse`); `nlu_fallback` counts as out of scope. The "
        "questions on other medical subjects have no gold intent (the composer declines by subject, whatever the topic) and are left out.",
        "- **Speed**: REST channel (with its token) on 127.0.0.1, servers started by `scripts/serve.sh` as `make run` does "
        "(`tests/support/servers.py`), the real action server and a SQLite store. 1 user: sequential turns; 20 users: 20 threads; "
        "conversations of 8 turns, then a new sender; messages cycle through the held-out questions. Load generator on the same CPUs. "
        "Ready = from launching serve.sh to the first non-empty answer; its CPU = the Rasa server's own CPU seconds by then "
        "(from /proc: the start-up work, whatever the load). RSS from /proc after the load runs (and once ready).",
        "- **Training**: `python -m bot.rasa train` wall and CPU time with an empty `RASA_CACHE_DIRECTORY` under var/bench (nothing "
        "reused, the project's `.rasa/cache` untouched), every model in the same run, one after the other, never while another "
        "training runs on the machine; the load average before and after each is in `bench.json`.",
        "- **In process**: the lexicon in a fresh interpreter with TensorFlow marked absent (as the action server runs); the safety screen "
        "by `bench/safety.py`; the staff report by `bench/report_speed.py` when present.",
        "",
    ]


def store_section(results: dict, plots: Dict[str, str]) -> List[str]:
    lines = ["## Store build time", "", "| documents | full build (s) | runs |", "|---|---|---|"]
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
    return lines


def new_document_failures(new_documents: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The questions not answered from their new document after training (before, when not trained)."""
    rows = new_documents.get("rows_after") or new_documents.get("rows_before") or []
    return [{"text": r["text"], "document": r["document"], "intent": r.get("predicted"), "facts": r.get("facts"),
             "cites": r.get("cites"), "reply": r["reply"]} for r in rows if not r["correct"]]


def _recall(n: Dict[str, Any], when: str) -> str:
    share = n.get(f"recall_{when}")
    count = n.get(f"recalled_{when}")
    return _pct(share) if count is None else f"{count}/{n['questions']} ({_pct(share)})"


def new_documents_section(new_documents: Optional[Dict[str, Any]]) -> List[str]:
    """New-document recall (issue 20): a clinic adds documents on new topics, runs `make store` and `make train`."""
    if not new_documents:
        return []
    lines = ["## New-document recall (issue 20)", ""]
    if "error" in new_documents or "skipped" in new_documents:
        return lines + [f"Not measured: {_md(new_documents.get('error') or new_documents['skipped'])}", ""]
    n = new_documents
    failures = n.get("failures") if "failures" in n else new_document_failures(n)
    lines += [
        f"The {len(n['documents_added'])} documents of `bench/new_documents/` (a pain site and a condition each that "
        "`data/vocabulary.yml` does not list) added to a scratch copy of `data/documents`; the "
        f"{n['questions']} questions of `bench/heldout_new_documents.jsonl` asked over REST, each in a new conversation. A question is "
        "recalled when the reply quotes the facts the document gives for it and cites the document's title. *Before training*: the "
        f"project's model (`{n['model_before']}`) with the new store; *after*: a model trained on the NLU data exported from that store "
        "(`config.yml`, `domain.yml`, `data/stories`), with an empty Rasa cache. Store build and NLU export: the wall time of "
        "`python -m bot build-store` and `python -m bot export-nlu` (`make store`'s two steps, process start included).",
        "",
        "| documents added | store build (s) | NLU export (s) | training (s) | recall before training | recall after training |",
        "|---|---|---|---|---|---|",
        f"| {len(n['documents_added'])} (of {n['documents_total']}) | {_num(n['store_build_s'], '', 1)} | {_num(n['nlu_export_s'], '', 1)} | "
        f"{_num(n.get('training_s'), '', 0)} ({_num(n.get('training_cpu_s'), '', 0)} CPU) | {_recall(n, 'before')} | "
        f"**{_recall(n, 'after')}** |",
        "",
        f"Training: load average {n.get('load_before_training', '–')} before, {n.get('load_after_training', '–')} after (the wall clock counts "
        "the neighbours too; the CPU seconds do not). What `build-store` said it learned from each new document is in `var/bench/new_documents.json`.",
        "",
    ]
    if failures:
        lines.append(f"Not answered from the new document after training ({len(failures)}; replies in `var/bench/new_documents.json`):")
        for f in failures:
            why = "no citation" if f.get("facts") else "facts missing"
            lines.append(f"- “{_md(f['text'])}” ({f['document']}; intent {f.get('intent')}; {why})")
        lines.append("")
    return lines


def profile_sections(results: dict) -> List[str]:
    lines: List[str] = []
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
    for name, sp in (results.get("startup_profile") or {}).items():
        if "inclusive_pct" not in sp:
            continue
        lines += [f"## Profile of the start-up: {name_of(name)} (py-spy at 100 Hz, Rasa server, launch to first answer)", "",
                  f"Ready while profiled: {_num(sp.get('ready_s_while_profiled'), ' s')}. Server log: "
                  + "; ".join(f"`{x}`" for x in sp.get("log", [])), ""]
        if sp.get("hotspots_pct"):
            lines += ["| where the start-up goes (inclusive share of busy samples) | |", "|---|---|"]
            lines += [f"| {label} | {pct}% |" for label, pct in sp["hotspots_pct"].items()]
            lines.append("")
        lines += [f"{sp['busy_samples']} busy samples; top functions by inclusive share (below the server's own frames):", ""]
        lines += [f"- {x['pct']}% `{x['function']}`" for x in [x for x in sp["inclusive_pct"] if x["pct"] < 60][:16]]
        lines.append("")
    return lines
