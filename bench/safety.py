"""The safety screen, measured: does it catch what it must, stay quiet when it should, and stay cheap?

    python -m bench.safety           # a readable report
    python -m bench.safety --json    # the same numbers as JSON (safety_report())

* **Sensitivity** per tier and category on the table of real-style messages
  (``tests/bot/safety_cases.yml``: emergencies, "see a doctor today", and messages that must not fire).
* **False alarms** on the held-out questions ``make bench`` already uses (``tests/test_nlu.yml`` and
  ``bench/real_questions_labels.jsonl``), in-scope ones only (not out-of-scope, not the NLU's own
  emergency examples, which are counted as catches instead). Every question that fires is listed,
  so a person can check it.
* The same listing for the development set of real questions (``/work/shared/eval/real_questions_dev.jsonl``
  or ``SAFETY_DEV_QUESTIONS``), when it is there: some of them may genuinely be urgent.
* **Cost** per message (``screen()`` + ``urgent()``, as the NLU component calls them), on all of the
  above and on generated hostile messages of up to 25,000 characters.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "bot" / "safety_cases.yml"
DEV_QUESTIONS = Path(os.environ.get("SAFETY_DEV_QUESTIONS", "/work/shared/eval/real_questions_dev.jsonl"))
OUT_OF_SCOPE = {"out_of_scope"}
EMERGENCY_INTENT = "emergency"
HOSTILE_MAX_CHARS = 25_000


# -- hostile input --------------------------------------------------------------------------------
_WHITESPACE = [" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\u2028", "\u2029", "\u200b", "\ufeff"]
_QUOTES = ['"', "'", "`", "\u201c", "\u201d", "\u2018", "\u2019", "\u00b4"]
_BIDI = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
_BRACKETS = ["(", ")", "[", "]", "{", "}", "<", ">", "\u27e8", "\u27e9"]
_ODD = ["\ufdfa", "\ufb01", "\u0301", "\u0336", "\U0001f62d", "\U0001d531", "&amp;", "&#", "&lt;", "\x00", "\x1b[31m",
        "\ud800", "-", "\u2014", ".", "!", "?", ";", "..."]
_TAGS = ["<b>", "</b>", "<p>", "</p>", "<br>", "<br/>", "<div class='x'>", "</div>", "<!-- ", " -->", "<script>", "</script>",
         "<style>", "</style>", "<a href='http://x'>", "</a>", "<li>", "<img src=x onerror=alert(1)>"]
_WORDS = ["chest", "pain", "can't", "breathe", "no", "not", "i", "my", "fever", "stiff", "neck", "blood", "vomit", "black",
          "stool", "seizure", "collapsed", "worst", "headache", "of", "life", "had", "as", "a", "child", "years", "ago",
          "what", "is", "can", "lupus", "cause", "methotrexate", "knee", "hot", "swollen", "jaw", "chewing", "temple",
          "suicide", "kill", "myself", "die", "and", "but", "like", "this", "suddenly", "bleeding", "won't", "stop"]


def hostile_messages(count: int = 1200, seed: int = 18) -> List[str]:
    """Generated messages meant to make a screen slow: long runs of whitespace, "<", quotes, Unicode
    separators and right-to-left marks, nested brackets, HTML, expanding ligatures, red-flag words packed
    densely, all up to HOSTILE_MAX_CHARS characters (a quarter of them exactly that long)."""
    rnd = random.Random(seed)
    makers = [
        lambda n: "<" + rnd.choice(_WHITESPACE) * (n - 1),
        lambda n: rnd.choice(_WHITESPACE) * n,
        lambda n: "".join(rnd.choice(_WHITESPACE) for _ in range(n)),
        lambda n: "<" * n,
        lambda n: ("<" + " " * rnd.randint(1, 40)) * (n // 20),
        lambda n: "".join(rnd.choice(_QUOTES) for _ in range(n)),
        lambda n: rnd.choice(_QUOTES) * n,
        lambda n: "(" * (n // 2) + ")" * (n // 2),
        lambda n: "".join(rnd.choice(_BRACKETS) for _ in range(n)),
        lambda n: "[{(<" * (n // 8) + ">)}]" * (n // 8),
        lambda n: "".join(rnd.choice(_BIDI) + rnd.choice(_WORDS) + " " for _ in range(n // 6)),
        lambda n: rnd.choice(_BIDI) * n,
        lambda n: "".join(rnd.choice(_TAGS) + rnd.choice(_WORDS) for _ in range(n // 10)),
        lambda n: "<script>" * (n // 8),
        lambda n: "<p>" + "a<" * (n // 2),
        lambda n: "".join(rnd.choice(_ODD) for _ in range(n // 2)),
        lambda n: "\ufdfa" * n,
        lambda n: "a" + "\u0301" * (n - 1),
        lambda n: " ".join(rnd.choice(_WORDS) for _ in range(n // 5)),
        lambda n: ("i can't breathe " * (n // 16 + 1)),
        lambda n: ("no chest pain like this before " * (n // 31 + 1)),
        lambda n: ("as a child " + "had a seizure " * 3) * (n // 53 + 1),
        lambda n: "x" * n,
        lambda n: "".join(rnd.choice(_WHITESPACE + _QUOTES + _BIDI + _BRACKETS + _TAGS + _WORDS) for _ in range(n // 3)),
    ]
    messages = []
    for i in range(count):
        length = HOSTILE_MAX_CHARS if i % 4 == 0 else rnd.randint(1, HOSTILE_MAX_CHARS)
        text = makers[i % len(makers)](length)
        messages.append(text[:HOSTILE_MAX_CHARS])
    return messages


# -- measuring ------------------------------------------------------------------------------------
def screen_cost_ms(screen: Any, text: str, clock: Callable[[], float] = time.perf_counter) -> float:
    """Milliseconds to screen one message as the assistant does: screen(), then urgent().

    With ``clock=time.thread_time`` it is the processor time the screen itself uses (what blocks the
    event loop), whatever else the machine is doing; the default is wall-clock time.
    """
    start = clock()
    screen.screen(text)
    screen.urgent(text)
    return (clock() - start) * 1000


def cost_summary(costs: Sequence[float]) -> Dict[str, float]:
    ordered = sorted(costs)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] if ordered else 0.0
    return {"messages": len(ordered), "mean_ms": round(statistics.fmean(ordered), 3) if ordered else 0.0,
            "p95_ms": round(p95, 3), "max_ms": round(ordered[-1], 3) if ordered else 0.0}


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _findings(screen: Any, text: str) -> Dict[str, Optional[str]]:
    red, urgent = screen.red_flag(text), screen.urgent(text)
    return {"emergency": red.category if red else None, "urgent": urgent.category if urgent else None}


# -- the three measurements -----------------------------------------------------------------------
def table_sensitivity(screen: Any, cases: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    """Per tier and category: rows and how many got exactly their tier and category; for rows that must
    not fire, how many did (false emergencies, false urgent)."""
    tiers: Dict[str, Dict[str, Any]] = {"emergency": {}, "urgent": {}}
    quiet = {"rows": 0, "false_emergency": 0, "false_urgent": 0, "fired": []}
    misses = []
    for case in cases:
        text, tier = case["text"], case["tier"]
        found = _findings(screen, text)
        if tier == "none":
            quiet["rows"] += 1
            quiet["false_emergency"] += found["emergency"] is not None
            quiet["false_urgent"] += found["urgent"] is not None
            if found["emergency"] or found["urgent"]:
                quiet["fired"].append({"text": _excerpt(text), **found})
            continue
        row = tiers[tier].setdefault(case["category"], {"rows": 0, "caught": 0, "right_category": 0})
        row["rows"] += 1
        caught = found["emergency"] if tier == "emergency" else (found["urgent"] if found["emergency"] is None else None)
        row["caught"] += caught is not None
        row["right_category"] += caught == case["category"]
        if caught != case["category"]:
            misses.append({"text": _excerpt(text), "expected": f"{tier}/{case['category']}", **found})
    summary: Dict[str, Any] = {}
    for tier, categories in tiers.items():
        rows = sum(c["rows"] for c in categories.values())
        caught = sum(c["caught"] for c in categories.values())
        for c in categories.values():
            c["sensitivity"] = round(c["caught"] / c["rows"], 4)
        summary[tier] = {"rows": rows, "caught": caught, "sensitivity": round(caught / rows, 4) if rows else None,
                         "categories": categories}
    quiet["specificity"] = round(1 - (quiet["false_emergency"] + quiet["false_urgent"]) / quiet["rows"], 4) if quiet["rows"] else None
    summary["none"] = quiet
    summary["misses"] = misses
    return summary


def held_out_questions() -> List[Any]:
    """The questions bench/run.py evaluates: tests/test_nlu.yml and the labelled real questions."""
    from bench.heldout import real_questions, test_nlu_questions

    no_resolver = (lambda _text: None, lambda _text: None)  # the screen needs the text and gold intent only
    return test_nlu_questions(no_resolver) + real_questions()


def false_alarms(screen: Any, questions: Sequence[Any]) -> Dict[str, Any]:
    """On in-scope held-out questions: how many fire an emergency or urgent finding (each one listed)."""
    in_scope = [q for q in questions if q.intent not in OUT_OF_SCOPE and q.intent != EMERGENCY_INTENT]
    emergencies = [q for q in questions if q.intent == EMERGENCY_INTENT]
    fired = []
    for q in in_scope:
        found = _findings(screen, q.text)
        if found["emergency"] or found["urgent"]:
            fired.append({"source": q.source, "intent": q.intent, "text": _excerpt(q.text), **found})
    n = len(in_scope)
    caught = sum(screen.red_flag(q.text) is not None for q in emergencies)
    return {
        "in_scope": n,
        "by_source": {s: sum(q.source == s for q in in_scope) for s in sorted({q.source for q in in_scope})},
        "emergency_alarms": sum(f["emergency"] is not None for f in fired),
        "urgent_alarms": sum(f["emergency"] is None and f["urgent"] is not None for f in fired),
        "emergency_alarm_rate": round(sum(f["emergency"] is not None for f in fired) / n, 4) if n else None,
        "urgent_alarm_rate": round(sum(f["emergency"] is None and f["urgent"] is not None for f in fired) / n, 4) if n else None,
        "fired": fired,
        "nlu_emergency_examples": len(emergencies),
        "nlu_emergency_caught": caught,
    }


def dev_set_findings(screen: Any, path: Path = DEV_QUESTIONS) -> Optional[Dict[str, Any]]:
    """Which development questions fire, for a person to check (some may truly be emergencies)."""
    if not path.exists():
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    fired = []
    for number, row in enumerate(rows, start=1):
        found = _findings(screen, row["question"])
        if found["emergency"] or found["urgent"]:
            fired.append({"line": number, "topic": row.get("topic"), "text": _excerpt(row["question"], 240), **found})
    return {"path": str(path), "questions": len(rows), "emergency": sum(f["emergency"] is not None for f in fired),
            "urgent": sum(f["emergency"] is None and f["urgent"] is not None for f in fired), "fired": fired}


def safety_report(screen: Any = None, hostile: int = 1200) -> Dict[str, Any]:
    """Every number above as one dict (for bench/run.py and the report)."""
    from bot.safety import SafetyScreen

    screen = screen or SafetyScreen()
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    questions = held_out_questions()
    dev_rows: List[str] = []
    if DEV_QUESTIONS.exists():
        dev_rows = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    report: Dict[str, Any] = {
        "table": table_sensitivity(screen, cases),
        "false_alarms": false_alarms(screen, questions),
        "dev_set": dev_set_findings(screen),
    }
    ordinary = [c["text"] for c in cases] + [q.text for q in questions] + dev_rows
    fresh = SafetyScreen()  # nothing cached: every message is parsed
    fresh.screen("warm up")
    report["cost"] = {}
    for name, messages in (("messages", ordinary), ("hostile", hostile_messages(hostile))):
        wall, cpu = [], []
        for text in messages:
            wall.append(screen_cost_ms(fresh, text))
            cpu.append(screen_cost_ms(fresh, text + "\u200b", clock=time.thread_time))  # same text, not cached
        report["cost"][name] = {"wall": cost_summary(wall), "cpu": cost_summary(cpu)}
    report["cost"]["hostile"]["max_chars"] = HOSTILE_MAX_CHARS
    report["cost"]["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return report


# -- printing -------------------------------------------------------------------------------------
def _percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_report(report: Dict[str, Any]) -> str:
    lines = ["# Safety screen", ""]
    table = report["table"]
    for tier in ("emergency", "urgent"):
        t = table[tier]
        lines.append(f"## {tier}: sensitivity {_percent(t['sensitivity'])} ({t['caught']}/{t['rows']}) on the table")
        for name, c in t["categories"].items():
            lines.append(f"  {name:30s} {c['caught']:3d}/{c['rows']:<3d} {_percent(c['sensitivity'])}")
        lines.append("")
    quiet = table["none"]
    lines.append(f"## must not fire: {quiet['rows']} rows, {quiet['false_emergency']} false emergencies, "
                 f"{quiet['false_urgent']} false urgent (specificity {_percent(quiet['specificity'])})")
    lines += [f"  fired: {f}" for f in quiet["fired"]] + [f"  miss: {m}" for m in table["misses"]] + [""]
    fa = report["false_alarms"]
    lines.append(f"## held-out in-scope questions ({fa['in_scope']}: {fa['by_source']}): "
                 f"{fa['emergency_alarms']} emergency alarms ({_percent(fa['emergency_alarm_rate'])}), "
                 f"{fa['urgent_alarms']} urgent ({_percent(fa['urgent_alarm_rate'])}); "
                 f"NLU emergency examples caught {fa['nlu_emergency_caught']}/{fa['nlu_emergency_examples']}")
    lines += [f"  {f['source']:8s} {f['intent']:28s} emergency={f['emergency']} urgent={f['urgent']}: {f['text']}" for f in fa["fired"]]
    lines.append("")
    dev = report["dev_set"]
    if dev is None:
        lines.append("## development questions: not found")
    else:
        lines.append(f"## development questions ({dev['path']}): {dev['emergency']} emergency, {dev['urgent']} urgent "
                     f"of {dev['questions']} (check each by hand)")
        lines += [f"  line {f['line']:3d} emergency={f['emergency']} urgent={f['urgent']}: {f['text']}" for f in dev["fired"]]
    lines.append("")
    cost = report["cost"]
    for name in ("messages", "hostile"):
        for clock in ("wall", "cpu"):
            c = cost[name][clock]
            lines.append(f"## cost, {name} ({clock}): {c['messages']} messages, mean {c['mean_ms']} ms, "
                         f"p95 {c['p95_ms']} ms, max {c['max_ms']} ms")
    lines.append(f"   (machine load average while measuring: {cost['load_average']})")
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    report = safety_report()
    print(json.dumps(report, indent=2) if "--json" in argv else format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
