"""`make bench` (python -m bench): everything in one run, sequentially, writing reports/bench.{md,json}.

Steps: store build times (3 real documents, generated corpora up to 1,000) -> train our config and
Rasa's default pipeline with fresh caches -> for each model: start the action server and the Rasa
server (tests/support/servers.py), time to first answer, accuracy on the held-out questions over
REST, latency with 1 and 20 users, memory; two more cold starts for the startup time -> the BM25
search box over the store's passages -> profile where a speed target is missed -> the report.
Environment: BENCH_REPEATS (3), BENCH_TRAIN_REPEATS (1), BENCH_SIZES ("10,30,100,300,1000"),
BENCH_QUICK=1 (small numbers, for trying the pipeline out).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Iterator, List, Optional, Tuple

import requests

from bench import corpus, metrics, report
from bench.bm25 import BM25
from bench.expectations import bot_correct, search_correct
from bench.heldout import Question, real_questions, store_resolver, test_nlu_questions
from bench.load import percentile, rss_mb, run_load, say, wait_first_answer

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
REPORTS = ROOT / "reports"
VENV_BIN = ROOT / ".venv" / "bin"
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPEATS = int(os.environ.get("BENCH_REPEATS", "1" if QUICK else "3"))
TRAIN_REPEATS = int(os.environ.get("BENCH_TRAIN_REPEATS", "1"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10,30" if QUICK else "10,30,100,300,1000").split(",")]
USERS = 20
TURNS_1_USER = 30 if QUICK else 150
TURNS_PER_USER = 5 if QUICK else 15
SYSTEMS = {"ours": ROOT / "config.yml", "default_pipeline": ROOT / "bench" / "default_config.yml"}
T0 = time.monotonic()
TRAIN_CPU: Dict[str, List[float]] = {}


def progress(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.0f}s] {message}", file=sys.stderr, flush=True)


# -- store -----------------------------------------------------------------------------------------
def bench_store() -> Tuple[Path, Dict[str, object]]:
    """Build times; returns the 3-document store the servers and the search box use."""
    store_dir = WORK / "store"
    store_dir.mkdir(parents=True, exist_ok=True)
    db = store_dir / "condition_store.db"
    progress("store: building from the 3 documents (first build loads spaCy and the vocabulary)")
    cold = corpus.time_store_build(corpus.DOCUMENTS, db)
    warm = [corpus.time_store_build(corpus.DOCUMENTS, db) for _ in range(REPEATS)]
    points = [{"documents": 3, "seconds": corpus.median(warm), "runs": warm}]
    for size in SIZES:
        folder = WORK / "corpora" / f"gen_{size}"
        if not folder.exists() or len(list(folder.glob("*.txt"))) != size:
            shutil.rmtree(folder, ignore_errors=True)
            corpus.generate_documents(folder, size)
        runs = []
        for _ in range(REPEATS if size <= 100 else 1):
            progress(f"store: building from {size} generated documents")
            runs.append(corpus.time_store_build(folder, WORK / "corpora" / f"gen_{size}.db"))
        points.append({"documents": size, "seconds": corpus.median(runs), "runs": runs})
        (WORK / "corpora" / f"gen_{size}.db").unlink(missing_ok=True)
    progress(f"store: 3 documents in {points[0]['seconds']:.2f} s (cold {cold:.2f} s)")
    return db, {"cold_first_build_s": cold, "points": points}


# -- training --------------------------------------------------------------------------------------
def train(name: str, config: Path) -> Tuple[Path, List[float]]:
    """Wall seconds per run; CPU seconds (user + system, all threads) go to TRAIN_CPU[name]."""
    import resource

    out = WORK / "models"
    runs = []
    for attempt in range(TRAIN_REPEATS):
        cache = WORK / "cache" / f"{name}-{uuid.uuid4().hex[:8]}"  # fresh: nothing reused, project cache untouched
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
        progress(f"train {name} ({config.relative_to(ROOT)}), run {attempt + 1}/{TRAIN_REPEATS}")
        log = (WORK / "logs" / f"train-{name}-{attempt}.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with log.open("w") as handle:
            result = subprocess.run(
                [str(VENV_BIN / "rasa"), "train", "--config", str(config), "--out", str(out), "--fixed-model-name", name, "--quiet"],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=1800,
            )
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        TRAIN_CPU.setdefault(name, []).append((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
        shutil.rmtree(cache, ignore_errors=True)
        if result.returncode != 0:
            raise RuntimeError(f"training {name} failed: see {log}")
        runs.append(elapsed)
        progress(f"train {name}: {elapsed:.1f} s wall, {TRAIN_CPU[name][-1]:.1f} s CPU")
    return out / f"{name}.tar.gz", runs


# -- servers ---------------------------------------------------------------------------------------
WHATIF = ROOT / "bench" / "whatif"  # sitecustomize.py with the recommended speed fixes


@contextmanager
def _servers(model: Path, store_db: Path, log_dir: Path, env: Optional[Dict[str, str]] = None) -> Iterator[SimpleNamespace]:
    """Both servers through tests/support/servers.py, serving ``model`` with the bench store; always stopped."""
    from tests.support import servers

    servers.MODEL = model  # the helper serves models/clinic-assistant.tar.gz; ours are under var/bench
    extra = {"DATABASE_URL": f"sqlite:///{store_db}", **(env or {})}
    saved = {key: os.environ.get(key) for key in extra}
    log_dir.mkdir(parents=True, exist_ok=True)
    running = servers.RasaServers(ROOT / "credentials.yml", log_dir)
    try:
        os.environ.update(extra)  # the helper passes os.environ to the servers it spawns
        try:
            running.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        yield SimpleNamespace(rasa_url=f"http://127.0.0.1:{running.rasa_port}", rasa_pid=running._rasa.pid,
                              actions_pid=running._actions.pid)
    finally:
        running.stop()


def _scope_notice() -> str:
    from bot.clinic import default_clinic_config

    return default_clinic_config().scope_notice


def evaluate_bot(url: str, questions: List[Question]) -> List[dict]:
    """Intent (through /model/parse) and reply (REST, a new conversation per question) for each question."""
    welcome = _scope_notice().strip()
    session = requests.Session()
    rows = []
    for i, q in enumerate(questions):
        parsed = session.post(f"{url}/model/parse", json={"text": q.text}, timeout=60).json()
        messages = say(session, url, f"bench-acc-{uuid.uuid4().hex[:10]}", q.text)
        reply = "\n".join(m.get("text", "") for m in messages if m.get("text", "").strip() != welcome)
        rows.append({
            "text": q.text, "source": q.source, "gold": q.intent, "predicted": (parsed.get("intent") or {}).get("name"),
            "confidence": (parsed.get("intent") or {}).get("confidence"), "kind": q.expect.kind,
            "medical": q.medical, "correct": bot_correct(q.expect, reply), "reply": reply,
        })
        if (i + 1) % 50 == 0:
            progress(f"  accuracy: {i + 1}/{len(questions)} questions")
    return rows


def bench_system(name: str, model: Path, store_db: Path, questions: List[Question], messages: List[str],
                 env: Optional[Dict[str, str]] = None, evaluate: bool = True, starts: int = REPEATS,
                 profile_it: bool = False) -> Dict[str, object]:
    result: Dict[str, object] = {"name": name, "model_mb": model.stat().st_size / 1e6}
    ready, runs_1, runs_20, rss = [], [], [], {}
    for start in range(starts):
        log_dir = WORK / "logs" / f"{name}-start{start}"
        shutil.rmtree(log_dir, ignore_errors=True)
        progress(f"{name}: starting the action server and the Rasa server ({start + 1}/{starts})")
        started = time.monotonic()
        with _servers(model, store_db, log_dir, env) as running:
            first = wait_first_answer(running.rasa_url, started)
            ready.append(first)
            progress(f"{name}: first answer {first:.1f} s after start")
            if start == 0:
                if evaluate:
                    result["rows"] = evaluate_bot(running.rasa_url, questions)
                progress(f"{name}: warm-up")
                run_load(running.rasa_url, messages, 1, 20, tag=f"{name}-warm")
                rss["after_warmup"] = {"rasa": rss_mb(running.rasa_pid), "actions": rss_mb(running.actions_pid)}
                for r in range(REPEATS):
                    progress(f"{name}: 1 user, {TURNS_1_USER} turns (run {r + 1}/{REPEATS})")
                    runs_1.append(run_load(running.rasa_url, messages, 1, TURNS_1_USER, tag=f"{name}-1u{r}"))
                    progress(f"{name}:   p50 {percentile(runs_1[-1].latencies_ms, 50):.0f} ms, p95 {percentile(runs_1[-1].latencies_ms, 95):.0f} ms")
                for r in range(REPEATS):
                    progress(f"{name}: {USERS} users x {TURNS_PER_USER} turns (run {r + 1}/{REPEATS})")
                    runs_20.append(run_load(running.rasa_url, messages, USERS, TURNS_PER_USER, tag=f"{name}-20u{r}"))
                    progress(f"{name}:   p95 {percentile(runs_20[-1].latencies_ms, 95):.0f} ms, {runs_20[-1].throughput:.1f} turns/s")
                rss["after_load"] = {"rasa": rss_mb(running.rasa_pid), "actions": rss_mb(running.actions_pid)}
                result["pids"] = {"rasa": running.rasa_pid, "actions": running.actions_pid}
                if profile_it and os.environ.get("BENCH_PROFILE", "1") == "1":
                    result["profile"] = profile(running, messages, log_dir)
    result["ready_runs_s"] = ready
    result["load_1_user"] = [r.summary() for r in runs_1]
    result["load_20_users"] = [r.summary() for r in runs_20]
    result["latencies_1_user_ms"] = [x for r in runs_1 for x in r.latencies_ms]
    result["latencies_20_users_ms"] = [x for r in runs_20 for x in r.latencies_ms]
    result["rss"] = rss
    return result


def profile(running, messages: List[str], log_dir: Path) -> Dict[str, object]:
    """py-spy on both servers during a 1-user run: where a turn spends its time."""
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        return {"skipped": "py-spy is not installed (make venv)"}
    out: Dict[str, object] = {}
    procs = []
    for role, pid in (("rasa", running.rasa_pid), ("actions", running.actions_pid)):
        raw = log_dir / f"profile-{role}.txt"
        procs.append((role, raw, subprocess.Popen(
            [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--duration", "25",
             "--nonblocking", "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    time.sleep(1.5)
    progress("profile: py-spy on the Rasa and action servers during a 1-user run")
    run_load(running.rasa_url, messages, 1, 400, max_seconds=22, tag="profile")
    for role, raw, proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        out[role] = metrics.summarize_profile(raw) if raw.exists() else {"error": "py-spy wrote nothing (ptrace not allowed?)"}
    return out


def profile_startup(model: Path, store_db: Path) -> Dict[str, object]:
    """py-spy on the Rasa server from launch to the first answer: where the startup time goes."""
    import signal
    import threading

    from tests.support import servers

    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        return {"skipped": "py-spy is not installed (make venv)"}
    log_dir = WORK / "logs" / "startup-profile"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    raw = log_dir / "profile-rasa-startup.txt"
    servers.MODEL = model
    os.environ["DATABASE_URL"] = f"sqlite:///{store_db}"
    running = servers.RasaServers(ROOT / "credentials.yml", log_dir)
    starter = threading.Thread(target=running.start, daemon=True)
    started = time.monotonic()
    starter.start()
    while running._rasa is None and time.monotonic() - started < 30:
        time.sleep(0.01)
    progress("profile: py-spy on the Rasa server from launch to the first answer")
    recorder = subprocess.Popen([str(spy), "record", "--pid", str(running._rasa.pid), "--format", "raw", "--rate", "100",
                                 "--duration", "240", "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        starter.join(timeout=300)
        first = wait_first_answer(f"http://127.0.0.1:{running.rasa_port}", started)
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()
        running.stop()
        os.environ.pop("DATABASE_URL", None)
    timeline = [line[11:19] + " " + line[28:].split(" - ", 1)[-1][:90] for line in (log_dir / "rasa.log").read_text(errors="replace").splitlines()
                if line[:4].isdigit() and ("Loading model" in line or "up and running" in line or "Starting Rasa" in line)]
    out = metrics.summarize_profile(raw) if raw.exists() else {"error": "py-spy wrote nothing"}
    return {"ready_s_while_profiled": first, "log": timeline, **out}


# -- search box ------------------------------------------------------------------------------------
def bench_bm25(store_db: Path, questions: List[Question]) -> Dict[str, object]:
    passages = corpus.passages(store_db)
    started = time.perf_counter()
    index = BM25(passages)
    built = time.perf_counter() - started
    rows, times = [], []
    for q in questions:
        t = time.perf_counter()
        hits = index.search(q.text, k=3)
        times.append((time.perf_counter() - t) * 1000)
        shown = [passages[i] for i, _ in hits]
        rows.append({"text": q.text, "source": q.source, "gold": q.intent, "kind": q.expect.kind, "medical": q.medical,
                     "correct": search_correct(q.expect, shown), "reply": "\n".join(shown)})
    return {"rows": rows, "passages": len(passages), "index_build_ms": built * 1000, "p95_query_ms": percentile(times, 95)}


# -- main ------------------------------------------------------------------------------------------
def main() -> int:
    if sys.argv[1:] == ["report"]:
        return write_report(json.loads((WORK / "raw.json").read_text(encoding="utf-8")))
    if sys.argv[1:] == ["profile-startup"]:  # add a startup profile to var/bench/raw.json, then `report`
        raw = json.loads((WORK / "raw.json").read_text(encoding="utf-8"))
        raw["startup_profile"] = profile_startup(WORK / "models" / "ours.tar.gz", WORK / "store" / "condition_store.db")
        (WORK / "raw.json").write_text(json.dumps(raw), encoding="utf-8")
        return write_report(raw)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    progress(f"work dir {WORK.relative_to(ROOT)}; repeats {REPEATS}; corpus sizes {SIZES}")
    store_db, store = bench_store()

    from bot.db import engine_for
    from bot.store import ConditionStore

    questions = test_nlu_questions(store_resolver(ConditionStore(engine_for(f"sqlite:///{store_db}"))))
    questions += real_questions()
    messages = [q.text for q in questions]
    progress(f"{len(questions)} held-out questions ({sum(q.source == 'real' for q in questions)} real)")

    training: Dict[str, List[float]] = {}
    models = {}
    saved = WORK / "training.json"
    reuse = os.environ.get("BENCH_REUSE_TRAINING") == "1" and saved.exists()
    if reuse:  # resume after a failure later in the run: keep the models and their measured training times
        previous = json.loads(saved.read_text(encoding="utf-8"))
        TRAIN_CPU.update(previous.get("cpu", {}))
        training = previous["wall"]
        models = {name: WORK / "models" / f"{name}.tar.gz" for name in SYSTEMS}
        progress(f"reusing the trained models and training times of {previous.get('when')} (BENCH_REUSE_TRAINING=1)")
    else:
        for name, config in SYSTEMS.items():
            models[name], training[name] = train(name, config)
        saved.write_text(json.dumps({"wall": training, "cpu": TRAIN_CPU, "when": time.strftime("%Y-%m-%d %H:%M")}), encoding="utf-8")

    systems = {}
    for name in SYSTEMS:
        systems[name] = bench_system(name, models[name], store_db, questions, messages, profile_it=(name == "ours"))
    # What-if: our model with the two recommended speed fixes (bench/whatif/sitecustomize.py); same replies.
    pythonpath = os.pathsep.join(p for p in (str(WHATIF), os.environ.get("PYTHONPATH", "")) if p)
    whatif = bench_system("ours_with_fixes", models["ours"], store_db, questions, messages,
                          env={"PYTHONPATH": pythonpath}, evaluate=False, starts=1)
    progress("search box: BM25 over the store's passages")
    bm25 = bench_bm25(store_db, questions)
    startup = profile_startup(models["ours"], store_db) if os.environ.get("BENCH_PROFILE", "1") == "1" else None

    raw = {"systems": systems, "bm25": bm25, "training": training, "training_cpu": TRAIN_CPU, "store": store, "whatif": whatif,
           "startup_profile": startup,
           "questions": [{"source": q.source} for q in questions]}
    (WORK / "raw.json").write_text(json.dumps(raw), encoding="utf-8")
    return write_report(raw)


def write_report(raw: dict) -> int:
    """bench.json / bench.md from the raw measurements (`python -m bench report` redoes this from var/bench/raw.json)."""
    from types import SimpleNamespace

    questions = [SimpleNamespace(**q) for q in raw["questions"]]
    systems, bm25, whatif = raw["systems"], raw["bm25"], raw.get("whatif")
    for role in ("rasa", "actions"):  # re-read py-spy's stacks, so a newer summary applies to an old run
        stacks = WORK / "logs" / "ours-start0" / f"profile-{role}.txt"
        if (systems["ours"].get("profile") or {}).get(role) and stacks.exists():
            systems["ours"]["profile"][role] = metrics.summarize_profile(stacks)
    startup_stacks = WORK / "logs" / "startup-profile" / "profile-rasa-startup.txt"
    if raw.get("startup_profile") and startup_stacks.exists():
        raw["startup_profile"].update(metrics.summarize_profile(startup_stacks))
    results = metrics.assemble(systems, bm25, raw["training"], raw["store"], questions, whatif, raw.get("training_cpu"))
    if raw.get("startup_profile"):
        results["startup_profile"] = raw["startup_profile"]
    report.write(results, systems, bm25, REPORTS, whatif)
    progress(f"wrote {REPORTS}/bench.md and bench.json")
    print(json.dumps(results["summary"], indent=2))
    return 0
