"""Replies to a file of questions from the real servers, for reading and blind grading by the rubric
(/work/shared/eval/RUBRIC.md): ``python -m bench.dev_replies QUESTIONS.jsonl OUT.jsonl``.

Each question is a new conversation (its own sender) through the REST channel of servers started as
``make serve`` starts them; the reply is every bot message of that turn, joined, buttons included.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import List


def replies(questions: List[str]) -> List[dict]:
    from tests.support.servers import RasaServers

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        servers = RasaServers(Path(folder))
        servers.start()
        try:
            for number, question in enumerate(questions):
                sender = f"dev-{number}"
                servers.say(sender, "/session_start")  # the welcome, so the reply read is the answer alone
                started = time.monotonic()
                messages = servers.say(sender, question)
                text = "\n\n".join(m.get("text", "") for m in messages)
                buttons = [b["title"] for m in messages for b in m.get("buttons", []) or []]
                slots = servers.slots(f"rest:{sender}")
                rows.append({"question": question, "reply": text, "buttons": buttons, "seconds": round(time.monotonic() - started, 3),
                             "not_covered": slots.get("not_covered")})
        finally:
            servers.stop()
    return rows


def main(argv: List[str]) -> int:
    source, out = Path(argv[0]), Path(argv[1])
    questions = [json.loads(line)["question"] for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = replies(questions)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} replies -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
