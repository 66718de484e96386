"""`make bench` (python -m bench): everything in one run, one step after the other, writing reports/bench.{md,json}.

1. The store: build times for the 3 real documents and generated corpora up to 1,000 documents.
2. In-process measurements (no servers): the medical lexicon's cost per message and memory
   (bench/lexicon_cost.py, in a fresh process), the safety screen (bench/safety.py), the staff
   report's speed (bench/report_speed.py, when it exists), and the BM25 search box.
3. Training, back to back under the same conditions: our config.yml, Rasa's default pipeline and the
   lighter candidate pipelines of bench/pipelines.py (issue 15), each with a fresh, empty Rasa cache,
   never while another `bot.rasa train` runs on the machine (it waits), with the load average noted.
4. For each model: the action server and the Rasa server as `make run` starts them
   (tests/support/servers.py: scripts/serve.sh), time to first answer, every held-out question over
   REST (intent from /model/parse), latency with 1 and 20 users, memory; more cold starts for the
   ready time. py-spy profiles of our servers (per turn and start-up) when py-spy is installed.
5. New-document recall (issue 20): the documents of bench/new_documents/ added to a scratch copy of data/documents;
   `make store`'s two steps timed (build-store, export-nlu); the questions of bench/heldout_new_documents.jsonl asked
   with the project's model (before training) and with a model trained on the exported NLU data (after); the
   training timed. `python -m bench new-documents` runs this step alone.
6. The report (bench/metrics.py, bench/report.py); `python -m bench report` redoes it from var/bench/raw.json, and
   `python -m bench rescore` first checks the recorded replies again against the current expectations.

Environment: BENCH_REPEATS (3), BENCH_TRAIN_REPEATS (1), BENCH_SIZES ("10,30,100,300,1000"), BENCH_PROFILE (1),
BENCH_SYSTEMS (all; e.g. "ours,logreg"), BENCH_REUSE_TRAINING=1 (keep the models and training times of the
last run), BENCH_NEW_DOCUMENTS=0 (skip step 5), BENCH_NEW_DOCUMENTS_TRAIN=0 (step 5 without its training: recall
before training only), BENCH_QUICK=1 (small numbers, for trying the pipeline out).
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import requests

from bench import corpus, metrics, pipelines, report
from bench.bm25 import BM25
from bench.expectations import bot_correct, multi_correct, names_subject, search_correct
from bench.heldout import (
    NEW_DOCUMENTS,
    MultiQuestion,
    NewDocumentQuestion,
    Question,
    in_scope_questions,
    multi_questions,
    new_document_questions,
    out_of_scope_medical_questions,
    real_questions,
    real_style_questions,
    store_resolver,
    term_questions,
    test_nlu_questions,
)
from bench.load import cpu_seconds, percentile, rss_mb, run_load, say, wait_first_answer

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
REPORTS = ROOT / "reports"
PYTHON = ROOT / ".venv" / "bin" / "python"
PY_SPY = ROOT / ".venv" / "bin" / "py-spy"
PROJECT_MODEL = ROOT / "models" / "clinic-assistant.tar.gz"
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPEATS = int(os.environ.get("BENCH_REPEATS", "1" if QUICK else "3"))
TRAIN_REPEATS = int(os.environ.get("BENCH_TRAIN_REPEATS", "1"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10,30" if QUICK else "10,30,100,300,1000").split(",") if s]
USERS = 20
TURNS_1_USER = 30 if QUICK else 150
TURNS_PER_USER = 5 if QUICK else 15
#: The servers' per-sender rate limit is for patients, not for a load generator.
SERVER_ENV = {"SENDER_RATE_BURST": "100000", "SENDER_RATE_PER_MINUTE": "1000000"}
T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.0f}s] {message}", file=sys.stderr, flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


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


# -- the questions ---------------------------------------------------------------------------------
def single_questions(store_db: Path) -> List[Question]:
    from bot.db import engine_for
    from bot.store import ConditionStore

    resolver = store_resolver(ConditionStore(engine_for(f"sqlite:///{store_db}")))
    return (test_nlu_questions(resolver) + real_questions() + real_style_questions() + term_questions()
            + in_scope_questions() + out_of_scope_medical_questions())


# -- in-process measurements -----------------------------------------------------------------------
def bench_lexicon(questions: Sequence[Question], multi: Sequence[MultiQuestion]) -> Dict[str, Any]:
    from bench.lexicon_cost import measure_in_child

    progress("lexicon: cost per message and memory (fresh process)")
    result = measure_in_child([q.text for q in questions] + [m.text for m in multi], WORK)
    progress(f"lexicon: {result.get('mean_ms')} ms per message (p95 {result.get('p95_ms')}), {result.get('rss_mb_lexicon')} MB")
    return result


def bench_safety() -> Dict[str, Any]:
    from bench.safety import safety_report

    progress("safety screen: sensitivity on the table, false alarms, cost (bench/safety.py)")
    return safety_report()


def bench_report_speed() -> Optional[Dict[str, Any]]:
    """The staff report over 10,000 conversations (bench/report_speed.py), when that module exists."""
    if importlib.util.find_spec("bench.report_speed") is None:
        return None
    from bench.report_speed import report_speed  # type: ignore[import-not-found]

    progress("staff report: speed over 10,000 conversations (bench/report_speed.py)")
    try:
        return report_speed()
    except Exception as error:  # its failure must not cost the rest of the run
        return {"error": f"{type(error).__name__}: {error}"}


def bench_bm25(store_db: Path, questions: Sequence[Question]) -> Dict[str, object]:
    passages = corpus.passages(store_db)
    started = time.perf_counter()
    index = BM25(passages)
    built = time.perf_counter() - started
    rows, times = [], []
    for q in questions:
        if q.source in metrics.NOT_FOR_SEARCH:
            continue
        t = time.perf_counter()
        hits = index.search(q.text, k=3)
        times.append((time.perf_counter() - t) * 1000)
        shown = [passages[i] for i, _ in hits]
        rows.append({"text": q.text, "source": q.source, "gold": q.intent, "kind": q.expect.kind, "medical": q.medical,
                     "correct": search_correct(q.expect, shown), "reply": "\n".join(shown)})
    return {"rows": rows, "passages": len(passages), "index_build_ms": built * 1000, "p95_query_ms": percentile(times, 95)}


# -- training --------------------------------------------------------------------------------------
def other_training() -> List[int]:
    """Pids of `bot.rasa train` / `rasa train` processes running on this machine (anyone's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        for i, arg in enumerate(argv[:-1]):
            if (arg == "bot.rasa" or arg.endswith("/rasa")) and argv[i + 1] == "train":
                found.append(int(entry.name))
                break
    return found


def wait_for_other_training(poll_s: float = 10.0) -> float:
    """Never train while another training runs (2 shared cores): wait, and return how long we waited."""
    started = time.monotonic()
    said = False
    while other_training():
        if not said:
            progress(f"another training is running (pids {other_training()}): waiting for it to finish")
            said = True
        time.sleep(poll_s)
    return time.monotonic() - started


def train(name: str, config: Path) -> Dict[str, Any]:
    """`python -m bot.rasa train` with a fresh cache: wall and CPU seconds per run, load average around it."""
    import resource

    out = WORK / "models"
    runs: Dict[str, Any] = {"wall": [], "cpu": [], "load_before": [], "load_after": [], "waited_s": []}
    for attempt in range(TRAIN_REPEATS):
        runs["waited_s"].append(round(wait_for_other_training(), 1))
        cache = WORK / "cache" / f"{name}-{uuid.uuid4().hex[:8]}"  # fresh: nothing reused, project cache untouched
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
        progress(f"train {name} ({_relative(config)}), run {attempt + 1}/{TRAIN_REPEATS}, load average {load_average()}")
        log = WORK / "logs" / f"train-{name}-{attempt}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        runs["load_before"].append(load_average())
        started = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with log.open("w") as handle:
            result = subprocess.run(
                [str(PYTHON), "-m", "bot.rasa", "train", "--config", str(config), "--out", str(out),
                 "--fixed-model-name", name, "--quiet"],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=3600,
            )
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs["load_after"].append(load_average())
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        shutil.rmtree(cache, ignore_errors=True)
        if result.returncode != 0:
            raise RuntimeError(f"training {name} failed: see {log}")
        runs["wall"].append(elapsed)
        runs["cpu"].append(cpu)
        progress(f"train {name}: {elapsed:.1f} s wall, {cpu:.1f} s CPU")
    runs["model"] = str(out / f"{name}.tar.gz")
    runs["config"] = _relative(config)
    return runs


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# -- servers ---------------------------------------------------------------------------------------
@contextmanager
def _servers(model: Path, store_db: Path, log_dir: Path) -> Iterator[SimpleNamespace]:
    """scripts/serve.sh through tests/support/servers.py, serving ``model`` with the bench store and
    Rasa's HTTP API (for /model/parse); always stopped. Ready = launch to the first non-empty answer."""
    from tests.support.servers import RasaServers

    shutil.rmtree(log_dir, ignore_errors=True)
    running = RasaServers(log_dir, api=True, model=model, env={"DATABASE_URL": f"sqlite:///{store_db}", **SERVER_ENV})
    started = time.monotonic()
    try:
        try:
            running.start()
        except BaseException as error:  # the helper fails with pytest's Failed (a BaseException)
            if isinstance(error, KeyboardInterrupt):
                raise
            raise RuntimeError(f"the servers did not start: {error}") from None
        token = running.rest_token
        ready = wait_first_answer(running.url, started, token=token)
        rasa_pid = running.rasa_pid
        yield SimpleNamespace(url=running.url, rest_token=token, api_token=running.api_token, ready_s=ready,
                              ready_cpu_s=cpu_seconds(rasa_pid), rasa_pid=rasa_pid, actions_pid=running.action_pid, log=running.log)
    finally:
        running.stop()


def _scope_notice() -> str:
    from bot.clinic import default_clinic_config

    return default_clinic_config().scope_notice.strip()


def _reply(messages: List[dict], welcome: str) -> str:
    return "\n\n".join(m.get("text") or "" for m in messages if (m.get("text") or "").strip() and (m.get("text") or "").strip() != welcome)


def evaluate_bot(running: SimpleNamespace, questions: Sequence[Question], multi: Sequence[MultiQuestion]) -> Tuple[List[dict], List[dict]]:
    """Intent (/model/parse) and reply (REST, a new conversation per question) for each question;
    the reply alone for each message with several questions."""
    welcome = _scope_notice()
    session = requests.Session()
    rows = []
    for i, q in enumerate(questions):
        parsed = session.post(f"{running.url}/model/parse", params={"token": running.api_token}, json={"text": q.text},
                              timeout=60).json()
        reply = _reply(say(session, running.url, f"bench-acc-{uuid.uuid4().hex[:10]}", q.text, token=running.rest_token), welcome)
        intent = parsed.get("intent") or {}
        row = {"text": q.text, "source": q.source, "gold": q.intent, "predicted": intent.get("name"),
               "confidence": intent.get("confidence"), "kind": q.expect.kind, "medical": q.medical,
               "correct": bot_correct(q.expect, reply), "reply": reply}
        if q.subject:
            row.update(subject=q.subject, subject_kind=q.kind, names_subject=names_subject(reply, q.subject))
        rows.append(row)
        if (i + 1) % 100 == 0:
            progress(f"  accuracy: {i + 1}/{len(questions)} questions")
    multi_rows = []
    for m in multi:
        reply = _reply(say(session, running.url, f"bench-multi-{uuid.uuid4().hex[:10]}", m.text, token=running.rest_token), welcome)
        multi_rows.append({"text": m.text, "parts": [p.intent for p in m.parts], "emergency": m.emergency,
                           "correct": multi_correct([p.expect for p in m.parts], reply, emergency=m.emergency), "reply": reply})
    return rows, multi_rows


def bench_system(name: str, model: Path, store_db: Path, questions: Sequence[Question], multi: Sequence[MultiQuestion],
                 profile_it: bool = False) -> Dict[str, object]:
    result: Dict[str, object] = {"name": name, "model_mb": model.stat().st_size / 1e6}
    ready: List[Optional[float]] = []
    ready_cpu: List[float] = []
    runs_1: list = []
    runs_20: list = []
    rss: Dict[str, Any] = {}
    messages = [q.text for q in questions if q.source != "oos_medical"]
    loads = []
    for start in range(REPEATS):
        log_dir = WORK / "logs" / f"{name}-start{start}"
        progress(f"{name}: starting the action server and the Rasa server ({start + 1}/{REPEATS}), load average {load_average()}")
        loads.append(load_average())
        with _servers(model, store_db, log_dir) as running:
            ready.append(running.ready_s)
            ready_cpu.append(running.ready_cpu_s)
            progress(f"{name}: first answer {running.ready_s:.1f} s after launch ({running.ready_cpu_s:.1f} s CPU of the Rasa server)"
                     if running.ready_s else f"{name}: no answer")
            if start != 0:
                continue
            result["rss_ready"] = {"rasa": rss_mb(running.rasa_pid), "actions": rss_mb(running.actions_pid)}
            result["rows"], result["multi_rows"] = evaluate_bot(running, questions, multi)
            progress(f"{name}: warm-up")
            run_load(running.url, messages, 1, 20, tag=f"{name}-warm", token=running.rest_token)
            rss["after_warmup"] = {"rasa": rss_mb(running.rasa_pid), "actions": rss_mb(running.actions_pid)}
            for r in range(REPEATS):
                runs_1.append(run_load(running.url, messages, 1, TURNS_1_USER, tag=f"{name}-1u{r}", token=running.rest_token))
                progress(f"{name}: 1 user, {TURNS_1_USER} turns: p50 {percentile(runs_1[-1].latencies_ms, 50):.0f} ms, "
                         f"p95 {percentile(runs_1[-1].latencies_ms, 95):.0f} ms")
            for r in range(REPEATS):
                runs_20.append(run_load(running.url, messages, USERS, TURNS_PER_USER, tag=f"{name}-20u{r}", token=running.rest_token))
                progress(f"{name}: {USERS} users x {TURNS_PER_USER} turns: p95 {percentile(runs_20[-1].latencies_ms, 95):.0f} ms, "
                         f"{runs_20[-1].throughput:.1f} turns/s")
            rss["after_load"] = {"rasa": rss_mb(running.rasa_pid), "actions": rss_mb(running.actions_pid)}
            if profile_it and os.environ.get("BENCH_PROFILE", "1") == "1":
                result["profile"] = profile(running, messages, log_dir)
    result["ready_runs_s"] = ready
    result["ready_cpu_runs_s"] = ready_cpu
    result["load_average_at_starts"] = loads
    result["load_1_user"] = [r.summary() for r in runs_1]
    result["load_20_users"] = [r.summary() for r in runs_20]
    result["latencies_1_user_ms"] = [x for r in runs_1 for x in r.latencies_ms]
    result["latencies_20_users_ms"] = [x for r in runs_20 for x in r.latencies_ms]
    result["rss"] = rss
    return result


def profile(running: SimpleNamespace, messages: List[str], log_dir: Path) -> Dict[str, object]:
    """py-spy on both servers during a 1-user run: where a turn spends its time."""
    if not PY_SPY.exists():
        return {"skipped": "py-spy is not installed (make venv)"}
    out: Dict[str, object] = {}
    procs = []
    for role, pid in (("rasa", running.rasa_pid), ("actions", running.actions_pid)):
        raw = log_dir / f"profile-{role}.txt"
        procs.append((role, raw, subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--duration", "25",
             "--nonblocking", "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    time.sleep(1.5)
    progress("profile: py-spy on the Rasa and action servers during a 1-user run")
    run_load(running.url, messages, 1, 400, max_seconds=22, tag="profile", token=running.rest_token)
    for role, raw, proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        out[role] = metrics.summarize_profile(raw) if raw.exists() else {"error": "py-spy wrote nothing (ptrace not allowed?)"}
    return out


def profile_startup(model: Path, store_db: Path) -> Dict[str, object]:
    """py-spy on the Rasa server from launch to the first answer: where the start-up time goes."""
    import signal

    from tests.support.servers import RasaServers

    if not PY_SPY.exists():
        return {"skipped": "py-spy is not installed (make venv)"}
    log_dir = WORK / "logs" / f"startup-profile-{model.name.split('.')[0]}"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    raw = log_dir / "profile-rasa-startup.txt"
    running = RasaServers(log_dir, model=model, env={"DATABASE_URL": f"sqlite:///{store_db}", **SERVER_ENV})
    failure: List[BaseException] = []

    def start() -> None:
        try:
            running.start()
        except BaseException as error:  # pytest's Failed
            failure.append(error)

    starter = threading.Thread(target=start, daemon=True)
    started = time.monotonic()
    starter.start()
    pid = None
    while pid is None and time.monotonic() - started < 60 and not failure:
        try:
            pid = running.rasa_pid if running.process is not None else None
        except AssertionError:
            pid = None
        if pid is None:
            time.sleep(0.01)
    if pid is None:
        running.stop()
        return {"error": f"the Rasa server did not appear: {failure[:1]}"}
    progress("profile: py-spy on the Rasa server from launch to the first answer")
    recorder = subprocess.Popen([str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", "100",
                                 "--duration", "300", "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    try:
        starter.join(timeout=600)
        if not failure:
            first = wait_first_answer(running.url, started, token=running.rest_token)
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()
        running.stop()
    lines = running.log.read_text(errors="replace").splitlines() if running.log.exists() else []
    timeline = [line[11:19] + " " + line[28:].split(" - ", 1)[-1][:90] for line in lines
                if line[:4].isdigit() and ("Loading model" in line or "up and running" in line or "Starting Rasa" in line)]
    out = metrics.summarize_profile(raw, hotspots=metrics.STARTUP_HOTSPOTS) if raw.exists() else {"error": "py-spy wrote nothing"}
    return {"ready_s_while_profiled": first, "log": timeline, "model": _relative(model), **out}


# -- new documents (issue 20) ----------------------------------------------------------------------
def _timed_run(command: List[str], env: Dict[str, str], log: Path) -> Tuple[float, float]:
    """Run one command of the project (cwd = the project), its output to ``log``: (wall s, CPU s)."""
    import resource

    log.parent.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w") as handle:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=3600)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(command[1:4])}` failed: see {_relative(log)}")
    return elapsed, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _learned(build_log: Path, names: Sequence[str]) -> Dict[str, List[str]]:
    """What `build-store` said it found in each of ``names`` (its per-document lines)."""
    out: Dict[str, List[str]] = {}
    current: Optional[str] = None
    for line in build_log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("- "):
            current = next((n for n in names if line[2:].startswith(n)), None)
            if current:
                out[current] = []
        elif current and line.startswith("    "):
            out[current].append(line.strip())
    return out


def _recall(running: SimpleNamespace, items: Sequence[NewDocumentQuestion]) -> Tuple[float, List[dict]]:
    """Every question once (a new conversation each): right when the reply quotes the facts and cites
    the document's title. Returns (share right, rows)."""
    rows, _ = evaluate_bot(running, [item.question for item in items], [])
    for row, item in zip(rows, items):
        cites = item.title in row["reply"]
        row.update(document=item.document, subject=item.subject, facts=row["correct"], cites=cites, correct=row["correct"] and cites)
    return (sum(r["correct"] for r in rows) / len(rows) if rows else 0.0), rows


def bench_new_documents(model: Path = PROJECT_MODEL) -> Dict[str, Any]:
    """Issue 20's promise to a clinic: add a document, `make store`, done (and `make train` for the NLU).

    In var/bench/new_documents/: data/documents plus bench/new_documents/; `python -m bot build-store` and
    `python -m bot export-nlu` (the two steps of `make store`) timed into a scratch SQLite store and a scratch
    copy of data/nlu; the questions of bench/heldout_new_documents.jsonl asked of ``model`` (the project's,
    not retrained: recall before training) and of a model trained on the scratch NLU data with config.yml,
    domain.yml and data/stories (an empty, fresh Rasa cache, as the bench trains every model: recall after)."""
    items = new_document_questions()
    if not model.is_file():
        return {"skipped": f"no model at {_relative(model)} (make train)"}
    scratch = WORK / "new_documents"
    logs = WORK / "logs" / "new-documents"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(logs, ignore_errors=True)
    documents = scratch / "documents"
    shutil.copytree(corpus.DOCUMENTS, documents)
    added = sorted(NEW_DOCUMENTS.glob("*.txt"))
    for path in added:
        shutil.copy(path, documents / path.name)
    store_db = scratch / "condition_store.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{store_db}", "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    progress(f"new documents: store from {len(list(documents.glob('*.txt')))} documents ({len(added)} new), load average {load_average()}")
    store_s, _ = _timed_run([str(PYTHON), "-m", "bot", "build-store", "--documents", str(documents)], env, logs / "build-store.log")
    data = scratch / "data"
    shutil.copytree(ROOT / "data" / "nlu", data / "nlu")
    shutil.copytree(ROOT / "data" / "stories", data / "stories")
    export_s, _ = _timed_run([str(PYTHON), "-m", "bot", "export-nlu", "--output", str(data / "nlu" / "vocabulary_generated.yml")],
                             env, logs / "export-nlu.log")
    progress(f"new documents: build-store {store_s:.1f} s, export-nlu {export_s:.1f} s")
    result: Dict[str, Any] = {
        "documents_added": [p.name for p in added], "documents_total": len(list(documents.glob("*.txt"))),
        "questions": len(items), "store_build_s": store_s, "nlu_export_s": export_s,
        "learned": _learned(logs / "build-store.log", [p.name for p in added]), "model_before": _relative(model),
    }
    with _servers(model, store_db, logs / "before") as running:
        progress(f"new documents: {len(items)} questions to the project's model (before training)")
        result["recall_before"], result["rows_before"] = _recall(running, items)
        result["recalled_before"] = sum(r["correct"] for r in result["rows_before"])
    if os.environ.get("BENCH_NEW_DOCUMENTS_TRAIN", "1") == "0":  # recall before training only
        progress(f"new documents: recall {result['recall_before']:.0%} before training (training skipped)")
        (WORK / "new_documents.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        return result
    waited = wait_for_other_training()
    cache = WORK / "cache" / f"new-documents-{uuid.uuid4().hex[:8]}"  # fresh and empty: an honest full training
    out = scratch / "models"
    progress(f"new documents: training on the exported NLU data (empty cache), load average {load_average()}")
    load_before = load_average()
    try:
        train_s, train_cpu = _timed_run(
            [str(PYTHON), "-m", "bot.rasa", "train", "--data", str(data / "nlu"), str(data / "stories"),
             "--config", str(ROOT / "config.yml"), "--domain", str(ROOT / "domain.yml"), "--out", str(out),
             "--fixed-model-name", "new-documents", "--quiet"],
            {**env, "RASA_CACHE_DIRECTORY": str(cache)}, logs / "train.log")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    result.update(training_s=train_s, training_cpu_s=train_cpu, training_waited_s=round(waited, 1),
                  training_cache="empty (a fresh RASA_CACHE_DIRECTORY under var/bench/cache)",
                  load_before_training=load_before, load_after_training=load_average())
    progress(f"new documents: trained in {train_s:.1f} s ({train_cpu:.1f} s CPU)")
    with _servers(out / "new-documents.tar.gz", store_db, logs / "after") as running:
        progress(f"new documents: {len(items)} questions to the retrained model (after training)")
        result["recall_after"], result["rows_after"] = _recall(running, items)
        result["recalled_after"] = sum(r["correct"] for r in result["rows_after"])
    progress(f"new documents: recall {result['recall_before']:.0%} before training, {result['recall_after']:.0%} after")
    (WORK / "new_documents.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def only_new_documents() -> int:
    """`python -m bench new-documents`: step 5 alone; its result is added to var/bench/raw.json (when a run left
    one) and its section of the report printed."""
    os.chdir(ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    result = bench_new_documents()
    raw_path = WORK / "raw.json"
    if raw_path.exists():
        raw = json.loads(raw_path.read_text(encoding="utf-8"))
        raw["new_documents"] = result
        raw_path.write_text(json.dumps(raw), encoding="utf-8")
    print("\n".join(report.new_documents_section(result)))
    return 0


# -- main ------------------------------------------------------------------------------------------
def chosen_systems() -> Dict[str, Path]:
    every = pipelines.systems(WORK / "configs")
    wanted = [s.strip() for s in os.environ.get("BENCH_SYSTEMS", "").split(",") if s.strip()]
    return {name: path for name, path in every.items() if not wanted or name in wanted or name == "ours"}


def rescore(raw: Dict[str, Any], store_db: Path) -> Dict[str, Any]:
    """Check the recorded replies again against the current expectations (bench/expectations.py,
    bench/heldout.py): for when what a correct reply holds was corrected after a run."""
    singles = {(q.source, q.text): q for q in single_questions(store_db)}
    several = {m.text: m for m in multi_questions()}
    for system in raw["systems"].values():
        for row in system["rows"]:
            q = singles.get((row["source"], row["text"]))
            if q is not None:
                row.update(kind=q.expect.kind, correct=bot_correct(q.expect, row["reply"]))
                if q.subject:
                    row["names_subject"] = names_subject(row["reply"], q.subject)
        for row in system.get("multi_rows", []):
            m = several.get(row["text"])
            if m is not None:
                row["correct"] = multi_correct([p.expect for p in m.parts], row["reply"], emergency=m.emergency)
    for row in raw["bm25"]["rows"]:
        q = singles.get((row["source"], row["text"]))
        if q is not None:
            row.update(kind=q.expect.kind, correct=search_correct(q.expect, [p for p in row["reply"].split("\n") if p]))
    return raw


def main() -> int:
    if sys.argv[1:] in (["report"], ["rescore"]):
        raw = json.loads((WORK / "raw.json").read_text(encoding="utf-8"))
        if sys.argv[1] == "rescore":
            raw = rescore(raw, WORK / "store" / "condition_store.db")
            (WORK / "raw.json").write_text(json.dumps(raw), encoding="utf-8")
        return write_report(raw)
    if sys.argv[1:] == ["new-documents"]:
        return only_new_documents()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    progress(f"work dir {_relative(WORK)}; repeats {REPEATS}; corpus sizes {SIZES}; load average {load_average()}")
    store_db, store = bench_store()
    questions = single_questions(store_db)
    multi = multi_questions()
    progress(f"{len(questions)} held-out questions and {len(multi)} messages with several questions")

    lexicon = bench_lexicon(questions, multi)
    safety = bench_safety()
    report_speed = bench_report_speed()
    progress("search box: BM25 over the store's passages")
    bm25 = bench_bm25(store_db, questions)

    systems_to_run = chosen_systems()
    reference = pipelines.reference_name()  # now: config.yml may change while the run goes on
    ours_is = pipelines.which_candidate(pipelines.load_config())
    saved = WORK / "training.json"
    training: Dict[str, Dict[str, Any]] = {}
    if os.environ.get("BENCH_REUSE_TRAINING") == "1" and saved.exists():  # after a failure later in the run
        previous = json.loads(saved.read_text(encoding="utf-8"))
        training = {name: previous["systems"][name] for name in systems_to_run if name in previous.get("systems", {})}
        progress(f"reusing the models and training times of {previous.get('when')} for {sorted(training)} (BENCH_REUSE_TRAINING=1)")
    for name, config in systems_to_run.items():
        if name not in training:
            training[name] = train(name, config)
            training[name]["pipeline"] = ours_is if name == "ours" else name
            saved.write_text(json.dumps({"systems": training, "when": time.strftime("%Y-%m-%d %H:%M")}), encoding="utf-8")

    systems = {}
    for name in systems_to_run:
        systems[name] = bench_system(name, Path(training[name]["model"]), store_db, questions, multi, profile_it=(name == "ours"))
    new_documents: Optional[Dict[str, Any]] = None
    if os.environ.get("BENCH_NEW_DOCUMENTS", "1") == "1":
        try:
            new_documents = bench_new_documents()
        except Exception as error:  # its failure must not cost the rest of the run
            new_documents = {"error": f"{type(error).__name__}: {error}"}
    startup = None
    if os.environ.get("BENCH_PROFILE", "1") == "1":
        startup = {name: profile_startup(Path(training[name]["model"]), store_db) for name in ("ours", reference) if name in training}

    raw = {"systems": systems, "bm25": bm25, "training": training, "store": store, "lexicon": lexicon, "safety": safety,
           "report_speed": report_speed, "startup_profile": startup, "reference": reference, "new_documents": new_documents,
           "questions": [{"source": q.source} for q in questions], "multi_questions": len(multi),
           "load_average_at_end": load_average()}
    (WORK / "raw.json").write_text(json.dumps(raw), encoding="utf-8")
    return write_report(raw)


def write_report(raw: dict) -> int:
    """bench.json / bench.md from the raw measurements."""
    systems = raw["systems"]
    if raw.get("startup_profile") and "inclusive_pct" in raw["startup_profile"]:  # a run with one start-up profile
        raw["startup_profile"] = {"ours": raw["startup_profile"]}
    for name, profiled in (raw.get("startup_profile") or {}).items():
        stacks = WORK / "logs" / f"startup-profile-{name}" / "profile-rasa-startup.txt"
        if stacks.exists() and "inclusive_pct" in profiled:
            profiled.update(metrics.summarize_profile(stacks, hotspots=metrics.STARTUP_HOTSPOTS))
    for role in ("rasa", "actions"):  # re-read py-spy's stacks, so a newer summary applies to an old run
        stacks = WORK / "logs" / "ours-start0" / f"profile-{role}.txt"
        if (systems.get("ours", {}).get("profile") or {}).get(role) and stacks.exists():
            systems["ours"]["profile"][role] = metrics.summarize_profile(stacks)
    results = metrics.assemble(raw)
    report.write(results, raw, REPORTS)
    progress(f"wrote {_relative(REPORTS)}/bench.md and bench.json")
    print(json.dumps(report._clean(results["summary"]), indent=2))
    return 0
