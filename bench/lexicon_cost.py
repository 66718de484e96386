"""The medical lexicon's cost (issue 10): time per message and memory, measured in a fresh process set up
like the action server (TensorFlow and JAX marked absent, as ``python -m actions`` does).

    python -m bench.lexicon_cost MESSAGES.json     # prints one JSON object

The parent (bench/run.py) passes the held-out questions; the child builds ``default_lexicon()`` (from
the compiled cache in var/lexicon/ when it is there, as a server does after its first start) and times
``subjects()`` on every message, REPEATS times.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 3
TARGET_MS = 2.0


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summarize(costs_ms: Sequence[float]) -> Dict[str, float]:
    from bench.load import percentile

    return {"mean_ms": round(sum(costs_ms) / len(costs_ms), 4) if costs_ms else float("nan"),
            "p50_ms": round(percentile(costs_ms, 50), 4), "p95_ms": round(percentile(costs_ms, 95), 4),
            "max_ms": round(max(costs_ms), 4) if costs_ms else float("nan")}


def measure(messages: Sequence[str], repeats: int = REPEATS) -> Dict[str, Any]:
    """In this process: memory before and after building the lexicon, build time, time per message."""
    for module in ("tensorflow", "jax"):
        sys.modules.setdefault(module, None)  # type: ignore[arg-type]
    import bot.lexicon as lexicon_module

    before = _rss_mb()
    started = time.perf_counter()
    lexicon = lexicon_module.default_lexicon()
    build_s = time.perf_counter() - started
    after = _rss_mb()
    lexicon.subjects("warm up: what is the flu")
    costs: List[float] = []
    found = 0
    for _ in range(repeats):
        for text in messages:
            t = time.perf_counter()
            subjects = lexicon.subjects(text)
            costs.append((time.perf_counter() - t) * 1000)
            found += bool(subjects)
    return {"messages": len(messages), "repeats": repeats, "spellings": len(lexicon), "build_s": round(build_s, 3),
            "rss_mb_before": round(before, 1), "rss_mb_after": round(after, 1), "rss_mb_lexicon": round(after - before, 1),
            "with_a_subject": round(found / max(1, repeats * len(messages)), 4), **summarize(costs), "target_ms": TARGET_MS}


def measure_in_child(messages: Sequence[str], work: Path) -> Dict[str, Any]:
    """``measure`` in a fresh interpreter (so the memory is the lexicon's, not the bench's)."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "lexicon-messages.json"
    path.write_text(json.dumps(list(messages)), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bench.lexicon_cost", str(path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        return {"error": result.stderr[-1500:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str]) -> int:
    messages = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    print(json.dumps(measure(messages)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
