"""Speed of the staff report (``python -m bot report``) over 10,000 conversations (issue 13: under 30 s).

``report_speed()`` scripts the conversations (tests/support/report_conversations.py: the real actions'
replies, recorded event by event as the Rasa server records them), writes them into a temporary SQLite
tracker store created by the project's PrivateSQLTrackerStore, then times

* ``report_s``: the report as the command makes it, in this process: read the events, build the
  report (spaCy grouping included), write the page (matplotlib chart), the CSV and the NLU candidates;
* ``cli_s``: the command itself in a fresh process (``python -m bot report --nlu-candidates``), start-up
  and imports included.

The rows are inserted in bulk, serialised exactly as ``SQLTrackerStore.save`` does (one ``save`` per
conversation would take minutes and measures Rasa, not the report). Not part of bench/run.py;
``python -m bench.report_speed`` prints the numbers as JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 30.0
BATCH = 500


def _rows(conversation: Any) -> List[Dict[str, Any]]:
    """The conversation's rows as ``SQLTrackerStore.save`` writes them."""
    rows = []
    for event in conversation.tracker().events:
        data = event.as_dict()
        rows.append({
            "sender_id": conversation.sender,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        })
    return rows


def report_speed(conversations: int = 10_000, days: int = 28, seed: int = 13) -> Dict[str, Any]:
    from bot import report as staff
    from bot.answers import AnswerComposer
    from bot.clinic import load_clinic_config
    from bot.rasa.tracker_store import PrivateSQLTrackerStore
    from tests.support.report_conversations import Scripter, scripted_set
    from tests.support.stores import in_memory_store

    store_data = in_memory_store()
    scripter = Scripter(AnswerComposer(store_data, load_clinic_config()))
    titles = [str(d["title"]) for d in store_data.documents()]
    now = time.time()
    with tempfile.TemporaryDirectory(prefix="report-speed-") as folder:
        db = Path(folder) / "tracker.db"
        tracker_store = PrivateSQLTrackerStore(dialect="sqlite", db=str(db), retention_days=30)
        table = tracker_store.SQLEvent.__table__
        events = expected = 0
        started = time.perf_counter()
        for batch in range(0, conversations, BATCH):
            scripted = scripted_set(scripter, min(BATCH, conversations - batch), now, days=days, seed=seed + batch, prefix=f"b{batch}")
            rows = [row for c in scripted for row in _rows(c)]
            with tracker_store.engine.begin() as connection:
                connection.execute(table.insert(), rows)
            events += len(rows)
            expected += sum(len(c.expected) for c in scripted)
        write_s = time.perf_counter() - started
        tracker_store.engine.dispose()

        url = staff.tracker_store_url(_endpoints(Path(folder), db))
        out = Path(folder) / "staff"
        started = time.perf_counter()
        engine = staff.open_tracker_store(url)
        made = staff.build_report(engine, days=30, now=now, titles=titles)
        engine.dispose()
        staff.write_html(made, out / staff.HTML_NAME)
        staff.write_csv(made, out / staff.CSV_NAME)
        staff.write_nlu_candidates(made, out / staff.NLU_NAME)
        report_s = time.perf_counter() - started

        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "bot", "report", "--endpoints", str(Path(folder) / "endpoints.yml"), "--out", str(Path(folder) / "cli"),
             "--nlu-candidates"], cwd=ROOT, capture_output=True, text=True, timeout=600,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        )
        cli_s = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(f"python -m bot report failed: {completed.stderr[-2000:]}")
        sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    return {
        "conversations": conversations,
        "events": events,
        "questions": made.questions,
        "questions_scripted": expected,
        "unanswered": made.unanswered,
        "wording_groups": len(made.wordings),
        "report_s": round(report_s, 2),
        "cli_s": round(cli_s, 2),
        "target_s": TARGET_S,
        "met": cli_s < TARGET_S and report_s < TARGET_S,
        "events_per_s": round(events / report_s),
        "write_events_s": round(write_s, 1),
        "file_bytes": sizes,
    }


def _endpoints(folder: Path, db: Path) -> Path:
    path = folder / "endpoints.yml"
    path.write_text(yaml.safe_dump({"tracker_store": {"type": "bot.rasa.tracker_store.PrivateSQLTrackerStore",
                                                      "dialect": "sqlite", "db": str(db)}}), encoding="utf-8")
    return path


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(report_speed(count), indent=2))
